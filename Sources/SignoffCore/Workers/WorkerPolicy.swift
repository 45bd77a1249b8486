import Foundation

/// The township's rules for migrant workers (`workflows/workers.yaml`): how long a health
/// certificate 健康证 lasts, which province names count as "inside the province", and how
/// long a worker's one-time activation code stays usable.
///
/// A certificate request copies what it needs when it starts and keeps `version`.
public struct WorkerPolicy: Sendable, Codable, Hashable {
    public var version: String
    /// Days a health certificate is valid from its issue date.
    public var certificateValidityDays: Int
    /// Names of the home province as people write it (四川, 四川省, Sichuan); a destination
    /// province among them makes a certificate `in_province`.
    public var homeProvinceNames: [String]
    /// Hours a one-time activation code given by the grid worker stays usable.
    public var activationCodeValidityHours: Int

    public init(version: String, certificateValidityDays: Int, homeProvinceNames: [String], activationCodeValidityHours: Int) throws(SignoffError) {
        guard version.trimmedReason != nil, certificateValidityDays > 0, activationCodeValidityHours > 0 else {
            throw .invalidValue("policy", "Durations must be positive and the version non-empty.")
        }
        guard !homeProvinceNames.isEmpty, homeProvinceNames.allSatisfy({ $0.trimmedReason != nil }) else {
            throw .invalidValue("home_province_names", "Name the home province at least once.")
        }
        self.version = version
        self.certificateValidityDays = certificateValidityDays
        self.homeProvinceNames = homeProvinceNames
        self.activationCodeValidityHours = activationCodeValidityHours
    }

    /// `in_province` when `province` names the home province, ignoring case and blanks.
    public func scope(forProvince province: String) -> CertificateScope {
        let wanted = Self.normalise(province)
        return self.homeProvinceNames.contains { Self.normalise($0) == wanted } ? .inProvince : .outOfProvince
    }

    public var certificateValidity: TimeInterval { DomainFormat.days(self.certificateValidityDays) }
    public var activationCodeValidity: TimeInterval { TimeInterval(self.activationCodeValidityHours) * 3_600 }

    private static func normalise(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// The rules as shipped in `workflows/workers.yaml`, for tests and when no file is configured.
    public static let builtIn: WorkerPolicy = {
        do {
            return try WorkerPolicy(version: "2020-02-v1", certificateValidityDays: 90,
                                    homeProvinceNames: ["四川", "四川省", "Sichuan"], activationCodeValidityHours: 72)
        } catch {
            fatalError("the built-in worker policy is valid: \(error)")  // fixed literal arguments
        }
    }()

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case version
        case certificateValidityDays = "certificate_validity_days"
        case homeProvinceNames = "home_province_names"
        case activationCodeValidityHours = "activation_code_validity_hours"
    }
}

/// Where a health certificate lets its holder travel: 省内 inside Sichuan or 省外 outside.
public enum CertificateScope: String, Sendable, Codable, Hashable, CaseIterable {
    case inProvince = "in_province"
    case outOfProvince = "out_of_province"

    public var chineseName: String {
        switch self {
        case .inProvince: "省内 inside Sichuan"
        case .outOfProvince: "省外 outside Sichuan"
        }
    }
}

// MARK: - Loading
extension WorkerPolicy {
    public static let defaultFileName = "workers.yaml"

    private enum Key {
        static let version = "version"
        static let certificateValidityDays = "certificate_validity_days"
        static let homeProvinceNames = "home_province_names"
        static let activationCodeValidityHours = "activation_code_validity_hours"
    }

    /// Parses and validates the policy text; unknown or missing keys, wrong types, blank or
    /// repeated province names and non-positive durations are `policy_invalid` naming the line.
    public static func load(yaml: String, file: String = Self.defaultFileName) throws(SignoffError) -> WorkerPolicy {
        let root = try PolicyReader.root(yaml: yaml, file: file)
        try root.allowOnly([Key.version, Key.certificateValidityDays, Key.homeProvinceNames, Key.activationCodeValidityHours])
        let version = try root.string(Key.version)
        let validity = try root.positiveInt(Key.certificateValidityDays)
        let namesValue = try root.value(Key.homeProvinceNames)
        let items = try namesValue.sequence()
        guard !items.isEmpty else { throw namesValue.invalid("needs at least one name of the home province.") }
        var names: [String] = []
        for item in items {
            let name = try item.string()
            guard !names.contains(name) else { throw item.invalid("repeats the name ‘\(name)’.") }
            names.append(name)
        }
        let activation = try root.positiveInt(Key.activationCodeValidityHours)
        // Every value was checked above with its line; the initializer's checks cannot fail here.
        return try WorkerPolicy(version: version, certificateValidityDays: validity, homeProvinceNames: names,
                                activationCodeValidityHours: activation)
    }
}
