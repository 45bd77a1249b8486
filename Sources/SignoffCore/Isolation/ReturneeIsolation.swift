import Foundation

/// A returnee's isolation 返乡人员隔离, decided by the key-area list or by points 积分管理.
///
/// A grid worker registers the return. A returnee from a key area goes to compulsory
/// central isolation at a designated site; anyone else is placed by the household's
/// infraction points: under the threshold at home, at or over it in central isolation at
/// their own expense. New ledger entries reach the returnee as `recordInfraction`, and the
/// one that reaches the threshold moves home isolation to central. Temperatures are read
/// daily; a fever is an urgent report until the health centre handles it. Release comes
/// after the isolation days.
public struct ReturneeIsolation: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        case home
        case centralCompulsory = "central_compulsory"
        case centralSelfPaid = "central_self_paid"
        case released
    }

    /// Where the returnee isolates; the state is this until release.
    public enum Placement: String, Sendable, Codable, Hashable, CaseIterable {
        /// 居家隔离观察.
        case home
        /// 重点疫区返乡, 指定地点强制集中隔离: not paid by the returnee.
        case centralCompulsory = "central_compulsory"
        /// 积分满阈值, 本人自费在指定地点集中隔离.
        case centralSelfPaid = "central_self_paid"

        public var state: State {
            switch self {
            case .home: .home
            case .centralCompulsory: .centralCompulsory
            case .centralSelfPaid: .centralSelfPaid
            }
        }

        /// At a designated site 指定地点 rather than at home.
        public var isCentral: Bool { self != .home }

        /// The placement the points rule gives for `total`: the threshold itself is central.
        public static func byPoints(_ total: Int, threshold: Int) -> Placement {
            total >= threshold ? .centralSelfPaid : .home
        }
    }

    /// The rule that decided the placement.
    public enum Rule: String, Sendable, Codable, Hashable {
        case keyArea = "key_area"
        case points
    }

    public struct Start: Sendable {
        public var personID: UUID
        public var householdID: UUID
        /// The household's grid; the record lives there.
        public var gridPath: UnitPath
        public var fromProvince: String
        public var fromCity: String?
        public var arrivedAt: Date
        /// The household's infraction ledger as it stands; its sum is the points total.
        public var householdInfractions: [InfractionEntry]
        /// The policy in force at registration; its values are copied.
        public var policy: IsolationPolicy

        public init(personID: UUID, householdID: UUID, gridPath: UnitPath, fromProvince: String, fromCity: String?,
                    arrivedAt: Date, householdInfractions: [InfractionEntry], policy: IsolationPolicy) {
            self.personID = personID
            self.householdID = householdID
            self.gridPath = gridPath
            self.fromProvince = fromProvince
            self.fromCity = fromCity
            self.arrivedAt = arrivedAt
            self.householdInfractions = householdInfractions
            self.policy = policy
        }
    }

    public enum Command: Sendable, Equatable {
        /// A new entry of the household's ledger, passed by the store in the entry's own transaction.
        case recordInfraction(InfractionEntry)
        /// A temperature in °C; `takenAt` nil means now.
        case recordTemperature(celsius: Double, takenAt: Date?)
        /// The health centre dealt with the open fever report; `note` says how.
        case handleFever(note: String)
        case release(note: String?)
    }

    public static let kind = "returnee_isolation"
    /// Who reads temperatures and records a release: the grid worker on the doorstep or the health centre.
    public static let carerRoles: [Role] = [.gridWorker, .healthOfficer]

    public private(set) var placement: Placement
    public let returneeID: UUID
    public let personID: UUID
    public let householdID: UUID
    public let gridPath: UnitPath
    public let fromProvince: String
    public let fromCity: String?
    public let arrivedAt: Date
    public let registeredAt: Date
    public let registeredBy: UUID
    public let policyVersion: String
    public let threshold: Int
    public let isolationDays: Int
    public let centralPeriodStart: IsolationPolicy.CentralPeriodStart
    public let feverCelsius: Double
    public let validReadings: ClosedRange<Double>
    public let readingEveryHours: Int
    /// The key area matched at registration, as the policy names it; nil when points decided.
    public let keyArea: String?
    /// The household's ledger entries known to this record, in the order received.
    public private(set) var entries: [InfractionEntry]
    /// When the days counting toward release started: arrival, or the move to central per policy.
    public private(set) var periodStartedAt: Date
    /// When points moved home isolation to central, if they did.
    public private(set) var movedToCentralAt: Date?
    // Set by the temperature facet, in its own file.
    public internal(set) var readings: [Reading]
    public internal(set) var feverReports: [FeverReport]
    public private(set) var releasedAt: Date?
    public private(set) var releasedBy: UUID?
    public private(set) var releaseNote: String?

    public var state: State { self.releasedAt == nil ? self.placement.state : .released }
    public var stateName: String { self.state.rawValue }
    public var isIsolating: Bool { self.releasedAt == nil }

    public var rule: Rule { self.keyArea == nil ? .points : .keyArea }
    public var infractionTotal: Int { InfractionLedger.total(of: self.entries) }
    public var isSelfPaid: Bool { self.placement == .centralSelfPaid }
    public var isolationEndsAt: Date { self.periodStartedAt.addingTimeInterval(DomainFormat.days(self.isolationDays)) }

    public var projection: Projection {
        let fever = self.openFever
        return Projection(unitPath: self.gridPath, pendingRole: fever == nil ? nil : .healthOfficer,
                          pendingSince: fever?.raisedAt, dueAt: self.nextReadingDue, policyVersion: self.policyVersion,
                          subjectRef: self.personID, category: self.placement.rawValue)
    }

    /// One isolation at a time per person.
    public var exclusiveKey: ExclusiveKey? {
        self.isIsolating ? .person(self.personID) : nil
    }

    public func isReleasable(at now: Date) -> Bool {
        self.isIsolating && self.openFever == nil && now >= self.isolationEndsAt
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = try actor.assignment(as: .gridWorker, covering: start.gridPath)
        let province = try DomainFormat.required(start.fromProvince, field: "from_province",
                                                  what: "The province returned from 来自省份", limit: 50)
        let city = try DomainFormat.optional(start.fromCity, field: "from_city", what: "The city returned from 来自城市", limit: 50)
        guard start.arrivedAt <= now else {
            throw SignoffError.invalidValue(
                "arrived_at", "返乡日期不能晚于登记时间。The arrival \(DomainFormat.timestamp(start.arrivedAt)) is after the registration.")
        }
        guard start.householdInfractions.allSatisfy({ $0.householdID == start.householdID }) else {
            throw SignoffError.invalidValue("household_infractions", "Every infraction entry must belong to the returnee's household.")
        }
        let policy = start.policy
        let keyArea = policy.keyArea(province: province, city: city)
        let total = InfractionLedger.total(of: start.householdInfractions)
        let placement: Placement = keyArea == nil ? .byPoints(total, threshold: policy.threshold) : .centralCompulsory
        let counting = placement.isCentral && policy.centralPeriodStart == .moveToCentral ? now : start.arrivedAt
        let machine = ReturneeIsolation(
            placement: placement, returneeID: id, personID: start.personID, householdID: start.householdID,
            gridPath: start.gridPath, fromProvince: province, fromCity: city, arrivedAt: start.arrivedAt,
            registeredAt: now, registeredBy: actor.userID, policyVersion: policy.version, threshold: policy.threshold,
            isolationDays: policy.isolationDays, centralPeriodStart: policy.centralPeriodStart,
            feverCelsius: policy.feverCelsius, validReadings: policy.validReadings,
            readingEveryHours: policy.readingEveryHours, keyArea: keyArea?.name, entries: start.householdInfractions,
            periodStartedAt: counting)
        var payload: [String: JSONValue] = [
            "person_id": .string(start.personID.uuidString), "household_id": .string(start.householdID.uuidString),
            "from_province": .string(province), "arrived_at": .string(DomainFormat.timestamp(start.arrivedAt)),
            "placement": .string(placement.rawValue),
            "isolation_ends_at": .string(DomainFormat.timestamp(machine.isolationEndsAt)),
            "decision": machine.explanation.json,
        ]
        if let city { payload["from_city"] = .string(city) }
        return (machine, Effect(event: "register", actingAs: acting, payload: payload))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .recordInfraction(let entry): try self.recordInfraction(entry, by: actor, at: now)
        case .recordTemperature(let celsius, let takenAt):
            try self.recordTemperature(celsius: celsius, takenAt: takenAt, by: actor, at: now)
        case .handleFever(let note): try self.handleFever(note: note, by: actor, at: now)
        case .release(let note): try self.release(note: note, by: actor, at: now)
        }
    }

    /// Adds a household ledger entry; the one that reaches the threshold moves home isolation
    /// to central at own expense, and the effect names every entry behind that decision.
    ///
    /// The service delivers entries from vehicle events; a grid worker's own entries arrive
    /// under their assignment.
    public mutating func recordInfraction(_ entry: InfractionEntry, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting: RoleAssignment? = actor.isSystem ? nil : try actor.assignment(as: .gridWorker, covering: self.gridPath)
        guard entry.householdID == self.householdID else {
            throw SignoffError.invalidValue("household_id", "The infraction belongs to another household.")
        }
        guard self.isIsolating else { throw .invalidTransition("record_infraction", from: self.stateName) }
        let seen = self.entries.contains { $0.id == entry.id || ($0.sourceKey != nil && $0.sourceKey == entry.sourceKey) }
        guard !seen else {
            throw SignoffError(.duplicate, "This infraction is already counted for the returnee.",
                               extra: ["entry_id": .string(entry.id.uuidString)])
        }
        self.entries.append(entry)
        var payload: [String: JSONValue] = [
            "entry": entry.json, "total": .int(self.infractionTotal), "threshold": .int(self.threshold),
        ]
        if self.placement == .home, Placement.byPoints(self.infractionTotal, threshold: self.threshold) == .centralSelfPaid {
            self.placement = .centralSelfPaid
            self.movedToCentralAt = now
            if self.centralPeriodStart == .moveToCentral { self.periodStartedAt = now }
            payload["moved_to"] = .string(self.placement.rawValue)
            payload["isolation_ends_at"] = .string(DomainFormat.timestamp(self.isolationEndsAt))
            payload["decision"] = self.explanation.json
        }
        return Effect(event: "record_infraction", actingAs: acting, payload: payload)
    }

    public mutating func release(note: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.carerRoles, covering: self.gridPath)
        let note = try DomainFormat.optional(note, field: "note", what: "The note", limit: 1_000)
        guard self.isIsolating else { throw .invalidTransition("release", from: self.stateName) }
        if let fever = self.openFever {
            throw SignoffError(
                .invalidTransition,
                "发热报告尚未处置, 不能解除隔离。The fever report of \(DomainFormat.timestamp(fever.raisedAt)) must be handled by the health centre 卫生院 before release.",
                extra: ["state": .string(self.stateName), "event": "release", "requires": "fever_handled"])
        }
        let ends = self.isolationEndsAt
        guard now >= ends else {
            let text = DomainFormat.timestamp(ends)
            throw SignoffError(
                .clearanceNotReached,
                "隔离期未满, \(Self.chinaTime(ends)) (北京时间) 起方可解除。The isolation period ends at \(text); release is possible from then.",
                extra: ["ends_at": .string(text)])
        }
        let placement = self.placement
        self.releasedAt = now
        self.releasedBy = actor.userID
        self.releaseNote = note
        var payload: [String: JSONValue] = [
            "placement": .string(placement.rawValue), "isolation_ends_at": .string(DomainFormat.timestamp(ends)),
            "readings": .int(self.readings.count),
        ]
        if let note { payload["note"] = .string(note) }
        return Effect(event: "release", actingAs: acting, payload: payload)
    }

    /// A time as the township reads it, such as "2020-02-24 08:00".
    static func chinaTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = DomainFormat.chinaTime
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                      parts.hour ?? 0, parts.minute ?? 0)
    }

    private init(
        placement: Placement, returneeID: UUID, personID: UUID, householdID: UUID, gridPath: UnitPath,
        fromProvince: String, fromCity: String?, arrivedAt: Date, registeredAt: Date, registeredBy: UUID,
        policyVersion: String, threshold: Int, isolationDays: Int, centralPeriodStart: IsolationPolicy.CentralPeriodStart,
        feverCelsius: Double, validReadings: ClosedRange<Double>, readingEveryHours: Int, keyArea: String?,
        entries: [InfractionEntry], periodStartedAt: Date
    ) {
        self.placement = placement
        self.returneeID = returneeID
        self.personID = personID
        self.householdID = householdID
        self.gridPath = gridPath
        self.fromProvince = fromProvince
        self.fromCity = fromCity
        self.arrivedAt = arrivedAt
        self.registeredAt = registeredAt
        self.registeredBy = registeredBy
        self.policyVersion = policyVersion
        self.threshold = threshold
        self.isolationDays = isolationDays
        self.centralPeriodStart = centralPeriodStart
        self.feverCelsius = feverCelsius
        self.validReadings = validReadings
        self.readingEveryHours = readingEveryHours
        self.keyArea = keyArea
        self.entries = entries
        self.periodStartedAt = periodStartedAt
        self.movedToCentralAt = nil
        self.readings = []
        self.feverReports = []
        self.releasedAt = nil
        self.releasedBy = nil
        self.releaseNote = nil
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case placement
        case returneeID = "returnee_id"
        case personID = "person_id"
        case householdID = "household_id"
        case gridPath = "grid_path"
        case fromProvince = "from_province"
        case fromCity = "from_city"
        case arrivedAt = "arrived_at"
        case registeredAt = "registered_at"
        case registeredBy = "registered_by"
        case policyVersion = "policy_version"
        case threshold
        case isolationDays = "isolation_days"
        case centralPeriodStart = "central_period_start"
        case feverCelsius = "fever_celsius"
        case validReadings = "valid_readings"
        case readingEveryHours = "reading_every_hours"
        case keyArea = "key_area"
        case entries
        case periodStartedAt = "period_started_at"
        case movedToCentralAt = "moved_to_central_at"
        case readings
        case feverReports = "fever_reports"
        case releasedAt = "released_at"
        case releasedBy = "released_by"
        case releaseNote = "release_note"
    }
}

// MARK: - DiagrammedMachine
extension ReturneeIsolation: DiagrammedMachine {
    public static let title = "返乡人员隔离 returnee isolation by points"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "register", .centralCompulsory, when: "from a key area"),
        Transition(nil, "register", .home, when: "points under threshold"),
        Transition(nil, "register", .centralSelfPaid, when: "points at or over threshold"),
        Transition(.home, "record_infraction", .home, when: "total under threshold"),
        Transition(.home, "record_infraction", .centralSelfPaid, when: "total reaches threshold"),
        Transition(.centralCompulsory, "record_infraction", .centralCompulsory),
        Transition(.centralSelfPaid, "record_infraction", .centralSelfPaid),
    ] + Placement.allCases.flatMap { placement in
        [
            Transition(placement.state, "record_temperature", placement.state, when: "fever opens an urgent report"),
            Transition(placement.state, "handle_fever", placement.state, when: "health centre"),
            Transition(placement.state, "release", .released, when: "period over, no open fever"),
        ]
    }

    public static let finalStates: [State] = [.released]

    public static func describe(_ state: State) -> String {
        switch state {
        case .home: "居家隔离 home isolation"
        case .centralCompulsory: "强制集中隔离 central, key area"
        case .centralSelfPaid: "自费集中隔离 central, self-paid"
        case .released: "解除隔离 released"
        }
    }
}
