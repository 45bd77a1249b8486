import Foundation

/// The township's returnee rules (`workflows/isolation.yaml`): the key areas, the points
/// table and threshold, how long isolation lasts, the temperature rules and autonomy credit.
///
/// A returnee copies the values it needs when registered, so a later change of the file
/// never changes an isolation in flight; `version` names the rules it started under.
public struct IsolationPolicy: Sendable, Codable, Hashable {
    /// A key epidemic area 重点疫区, matched against a returnee's province or city.
    public struct KeyArea: Sendable, Codable, Hashable {
        /// As the document writes it, such as "湖北".
        public var name: String
        /// Other spellings accepted, such as "Hubei"; compared case-insensitively.
        public var aliases: [String]

        public init(name: String, aliases: [String] = []) {
            self.name = name
            self.aliases = aliases
        }

        /// Whether `place` names this area, ignoring case, blanks and a trailing 省/市/province/city.
        public func matches(_ place: String) -> Bool {
            let place = Self.normalised(place)
            return !place.isEmpty && ([self.name] + self.aliases).contains { Self.normalised($0) == place }
        }

        static func normalised(_ place: String) -> String {
            var text = place.lowercased().filter { !$0.isWhitespace && $0 != "-" && $0 != "'" }
            for suffix in ["province", "city", "省", "市"] where text.hasSuffix(suffix) && text.count > suffix.count {
                text.removeLast(suffix.count)
                break
            }
            return text
        }

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            case aliases
        }
    }

    /// When the isolation days of a central isolation start counting.
    public enum CentralPeriodStart: String, Sendable, Codable, Hashable, CaseIterable {
        /// From the returnee's arrival, whatever happened since.
        case arrival
        /// From the day the returnee went into central isolation.
        case moveToCentral = "move_to_central"
    }

    public var version: String
    public var keyAreas: [KeyArea]
    public var infractionPoints: [InfractionKind: Int]
    /// Points at which a returnee goes to central isolation at own expense (10, inclusive).
    public var threshold: Int
    public var isolationDays: Int
    public var centralPeriodStart: CentralPeriodStart
    /// A reading at or above this is a fever 发热 and an urgent report (37.3 °C).
    public var feverCelsius: Double
    /// Readings outside this range are refused as mistakes (30.0 to 45.0 °C).
    public var validReadings: ClosedRange<Double>
    /// A reading is due this many hours after the last one (24: daily).
    public var readingEveryHours: Int
    public var creditPoints: [AutonomyCreditKind: Int]

    /// Builds a policy in code (tests, defaults), with the same checks as the file.
    public init(
        version: String,
        keyAreas: [KeyArea],
        infractionPoints: [InfractionKind: Int],
        threshold: Int,
        isolationDays: Int,
        centralPeriodStart: CentralPeriodStart,
        feverCelsius: Double,
        validReadings: ClosedRange<Double>,
        readingEveryHours: Int,
        creditPoints: [AutonomyCreditKind: Int]
    ) throws(SignoffError) {
        guard version.trimmedReason != nil, keyAreas.allSatisfy({ $0.name.trimmedReason != nil }) else {
            throw .invalidValue("policy", "The version and every key area need a name.")
        }
        guard InfractionKind.allCases.allSatisfy({ (infractionPoints[$0] ?? 0) > 0 }),
            AutonomyCreditKind.allCases.allSatisfy({ (creditPoints[$0] ?? 0) > 0 })
        else {
            throw .invalidValue("policy", "Every infraction and credit kind needs a positive number of points.")
        }
        guard threshold > 0, isolationDays > 0, readingEveryHours > 0 else {
            throw .invalidValue("policy", "The threshold, the isolation days and the reading interval must be positive.")
        }
        guard validReadings.lowerBound.isFinite, validReadings.upperBound.isFinite,
            validReadings.lowerBound < validReadings.upperBound, validReadings.contains(feverCelsius)
        else {
            throw .invalidValue("policy", "The fever threshold must lie inside a valid, non-empty reading range.")
        }
        self.version = version
        self.keyAreas = keyAreas
        self.infractionPoints = infractionPoints
        self.threshold = threshold
        self.isolationDays = isolationDays
        self.centralPeriodStart = centralPeriodStart
        self.feverCelsius = feverCelsius
        self.validReadings = validReadings
        self.readingEveryHours = readingEveryHours
        self.creditPoints = creditPoints
    }

    /// The key area a returnee from `province` / `city` comes from, if any.
    public func keyArea(province: String, city: String?) -> KeyArea? {
        self.keyAreas.first { $0.matches(province) || city.map($0.matches) == true }
    }

    public func points(for kind: InfractionKind) -> Int {
        // The initializer and the loader require every kind, so a missing one cannot be stored.
        self.infractionPoints[kind] ?? 0
    }

    public func points(for kind: AutonomyCreditKind) -> Int {
        self.creditPoints[kind] ?? 0
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case version
        case keyAreas = "key_areas"
        case infractionPoints = "infraction_points"
        case threshold
        case isolationDays = "isolation_days"
        case centralPeriodStart = "central_period_start"
        case feverCelsius = "fever_celsius"
        case validReadings = "valid_readings"
        case readingEveryHours = "reading_every_hours"
        case creditPoints = "credit_points"
    }
}

// MARK: - Loading
extension IsolationPolicy {
    public static let defaultFileName = "isolation.yaml"

    private enum Key {
        static let version = "version"
        static let keyAreas = "key_areas"
        static let name = "name"
        static let also = "also"
        static let threshold = "threshold"
        static let infractions = "infractions"
        static let isolationDays = "isolation_days"
        static let centralPeriodStarts = "central_period_starts"
        static let temperature = "temperature"
        static let feverCelsius = "fever_celsius"
        static let minCelsius = "min_celsius"
        static let maxCelsius = "max_celsius"
        static let readingEveryHours = "reading_every_hours"
        static let autonomyCredit = "autonomy_credit"
    }

    /// Parses and validates the policy text; the caller reads the file.
    ///
    /// Throws `policy_invalid` naming the line for an unknown key or infraction kind, a
    /// missing key (every infraction kind must be weighted), a wrong type, a non-positive
    /// weight or duration, a key area named twice and a fever threshold outside the range.
    public static func load(yaml: String, file: String = Self.defaultFileName) throws(SignoffError) -> IsolationPolicy {
        let root = try PolicyReader.root(yaml: yaml, file: file)
        try root.allowOnly([
            Key.version, Key.keyAreas, Key.threshold, Key.infractions, Key.isolationDays, Key.centralPeriodStarts,
            Key.temperature, Key.autonomyCredit,
        ])
        let version = try root.string(Key.version)
        let keyAreas = try Self.keyAreas(root.value(Key.keyAreas))
        let threshold = try root.positiveInt(Key.threshold)
        let infractions: [InfractionKind: Int] = try Self.pointsTable(root.mapping(Key.infractions))
        let days = try root.positiveInt(Key.isolationDays)
        let periodStart = try root.value(Key.centralPeriodStarts).oneOf(CentralPeriodStart.self, what: "start")

        let temperature = try root.mapping(Key.temperature)
        try temperature.allowOnly([Key.feverCelsius, Key.minCelsius, Key.maxCelsius, Key.readingEveryHours])
        let low = try temperature.number(Key.minCelsius)
        let highValue = try temperature.value(Key.maxCelsius)
        let high = try highValue.number()
        guard low < high else { throw highValue.invalid("must be above min_celsius (\(low)).") }
        let feverValue = try temperature.value(Key.feverCelsius)
        let fever = try feverValue.number()
        guard (low...high).contains(fever) else {
            throw feverValue.invalid("must lie between min_celsius and max_celsius (\(low) to \(high)).")
        }
        let every = try temperature.positiveInt(Key.readingEveryHours)

        let credits: [AutonomyCreditKind: Int] = try Self.pointsTable(root.mapping(Key.autonomyCredit))
        // Everything was checked above with line numbers; the initializer's checks cannot fail here.
        return try IsolationPolicy(
            version: version, keyAreas: keyAreas, infractionPoints: infractions, threshold: threshold,
            isolationDays: days, centralPeriodStart: periodStart, feverCelsius: fever, validReadings: low...high,
            readingEveryHours: every, creditPoints: credits)
    }

    /// A mapping of every kind's code to its positive points; unknown codes are refused by line.
    private static func pointsTable<Kind>(_ mapping: PolicyMapping) throws(SignoffError) -> [Kind: Int]
    where Kind: RawRepresentable & CaseIterable & Hashable, Kind.RawValue == String {
        try mapping.allowOnly(Kind.allCases.map(\.rawValue))
        var table: [Kind: Int] = [:]
        for kind in Kind.allCases {
            table[kind] = try mapping.positiveInt(kind.rawValue)
        }
        return table
    }

    private static func keyAreas(_ value: PolicyValue) throws(SignoffError) -> [KeyArea] {
        var areas: [KeyArea] = []
        var lineOfName: [String: Int] = [:]
        for item in try value.sequence() {
            let mapping = try item.mapping()
            try mapping.allowOnly([Key.name, Key.also])
            var values = [try mapping.value(Key.name)]
            if let also = mapping.optionalValue(Key.also) { values += try also.sequence() }
            var names: [String] = []
            for value in values {
                let name = try value.string()
                let key = KeyArea.normalised(name)
                if let first = lineOfName[key] {
                    throw value.invalid("‘\(name)’ names a key area already listed (line \(first)).")
                }
                lineOfName[key] = value.line
                names.append(name)
            }
            areas.append(KeyArea(name: names[0], aliases: Array(names.dropFirst())))
        }
        return areas
    }
}
