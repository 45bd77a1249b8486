import Foundation

/// The township's vehicle rules (`workflows/vehicle-pass.yaml`): clearance days, the
/// signature chain with a time limit per level, and how long passes last.
///
/// Machines copy the values they need when they start, so a later change of the file
/// never changes an instance in flight; `version` names the rules it started under.
public struct VehiclePolicy: Sendable, Codable, Hashable {
    /// One level of the travel-pass chain.
    public struct Level: Sendable, Codable, Hashable {
        /// 1-based position in the chain.
        public var level: Int
        public var role: Role
        /// How long this level may keep an application waiting before it is overdue.
        public var limitHours: Int

        public init(level: Int, role: Role, limitHours: Int) {
            self.level = level
            self.role = role
            self.limitHours = limitHours
        }

        public var limit: TimeInterval { TimeInterval(self.limitHours) * 3_600 }

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case level
            case role
            case limitHours = "limit_hours"
        }
    }

    public var version: String
    /// Days a vehicle stays parked before a pass may be applied for (14).
    public var clearanceDays: Int
    /// Whether a recorded violation starts the clearance clock again.
    public var violationRestartsClock: Bool
    public var chain: [Level]
    public var passValidityDays: Int
    public var agriculturalPassValidityDays: Int

    /// The roles that may stand in the chain.
    public static let signerRoles: [Role] = [.gridWorker, .groupLeader, .branchSecretary, .villageLeader, .chiefLeader]

    /// Builds a policy in code (tests, defaults), with the same checks as the file.
    public init(
        version: String,
        clearanceDays: Int,
        violationRestartsClock: Bool,
        chain: [Level],
        passValidityDays: Int,
        agriculturalPassValidityDays: Int
    ) throws(SignoffError) {
        guard !chain.isEmpty else { throw .invalidValue("chain", "The signature chain needs at least one level.") }
        for (index, level) in chain.enumerated() {
            guard level.level == index + 1 else {
                throw .invalidValue("chain", "Level \(level.level) stands at position \(index + 1).")
            }
            guard Self.signerRoles.contains(level.role), chain.filter({ $0.role == level.role }).count == 1 else {
                throw .invalidValue("chain", "The role \(level.role.rawValue) cannot sign or appears twice.")
            }
        }
        guard !version.isEmpty, clearanceDays > 0, passValidityDays > 0, agriculturalPassValidityDays > 0,
            chain.allSatisfy({ $0.limitHours > 0 })
        else {
            throw .invalidValue("policy", "Durations must be positive and the version non-empty.")
        }
        self.version = version
        self.clearanceDays = clearanceDays
        self.violationRestartsClock = violationRestartsClock
        self.chain = chain
        self.passValidityDays = passValidityDays
        self.agriculturalPassValidityDays = agriculturalPassValidityDays
    }

    public var clearancePeriod: TimeInterval { TimeInterval(self.clearanceDays) * 86_400 }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case version
        case clearanceDays = "clearance_days"
        case violationRestartsClock = "violation_restarts_clock"
        case chain
        case passValidityDays = "pass_validity_days"
        case agriculturalPassValidityDays = "agricultural_pass_validity_days"
    }
}

// MARK: - Loading
extension VehiclePolicy {
    public static let defaultFileName = "vehicle-pass.yaml"

    private enum Key {
        static let version = "version"
        static let clearanceDays = "clearance_days"
        static let violationRestartsClock = "violation_restarts_clock"
        static let chain = "chain"
        static let passValidityDays = "pass_validity_days"
        static let agriculturalPassValidityDays = "agricultural_pass_validity_days"
        static let level = "level"
        static let role = "role"
        static let limitHours = "limit_hours"
    }

    /// Parses and validates the policy text; the caller reads the file.
    ///
    /// Throws `policy_invalid` naming the line for an unknown key, a missing key, a wrong
    /// type, an unknown role, a duplicate level or role, a level out of sequence, and a
    /// non-positive duration.
    public static func load(yaml: String, file: String = Self.defaultFileName) throws(SignoffError) -> VehiclePolicy {
        let root = try PolicyReader.root(yaml: yaml, file: file)
        try root.allowOnly([
            Key.version, Key.clearanceDays, Key.violationRestartsClock, Key.chain, Key.passValidityDays,
            Key.agriculturalPassValidityDays,
        ])
        let version = try root.string(Key.version)
        let clearanceDays = try root.positiveInt(Key.clearanceDays)
        let restarts = try root.bool(Key.violationRestartsClock)
        let chain = try Self.chain(root.value(Key.chain))
        let passDays = try root.positiveInt(Key.passValidityDays)
        let agriculturalDays = try root.positiveInt(Key.agriculturalPassValidityDays)
        // Everything was checked above with line numbers; the initializer's checks cannot fail here.
        return try VehiclePolicy(
            version: version, clearanceDays: clearanceDays, violationRestartsClock: restarts, chain: chain,
            passValidityDays: passDays, agriculturalPassValidityDays: agriculturalDays)
    }

    private static func chain(_ value: PolicyValue) throws(SignoffError) -> [Level] {
        let items = try value.sequence()
        guard !items.isEmpty else { throw value.invalid("needs at least one level.") }
        var levels: [Level] = []
        var lineOfLevel: [Int: Int] = [:]
        var lineOfRole: [Role: Int] = [:]
        for item in items {
            let mapping = try item.mapping()
            try mapping.allowOnly([Key.level, Key.role, Key.limitHours])
            let levelValue = try mapping.value(Key.level)
            let number = try levelValue.positiveInt()
            if let first = lineOfLevel[number] {
                throw levelValue.invalid("level \(number) is declared twice (first on line \(first)).")
            }
            guard number == levels.count + 1 else {
                throw levelValue.invalid("is \(number), but levels are numbered 1, 2, 3 … in chain order; expected \(levels.count + 1).")
            }
            let roleValue = try mapping.value(Key.role)
            let role = try roleValue.oneOf(Role.self, allowed: Self.signerRoles, what: "role")
            if let first = lineOfRole[role] {
                throw roleValue.invalid("role \(role.rawValue) already signs another level (line \(first)); one role signs one level.")
            }
            let limit = try mapping.positiveInt(Key.limitHours)
            lineOfLevel[number] = levelValue.line
            lineOfRole[role] = roleValue.line
            levels.append(Level(level: number, role: role, limitHours: limit))
        }
        return levels
    }
}
