import Foundation

/// One household's visit in one half-day 上下午走访: the grid worker calls in the morning and in
/// the afternoon and records what they found: 已走访 (seen, nothing new), 不在家 (nobody home),
/// or 有变化 (a change in who is there: someone returned, someone left, a fever).
///
/// There is one visit per household and half-day (`exclusiveKey`): a double tap or a retry
/// never makes a second. A household found empty may be called on again in the same half-day
/// (`callAgain`); a call that found someone is final. A change names the workflow the store
/// opened with it (`FollowUp`): the returnee's isolation, or the isolation that got the reading.
public struct HouseholdVisit: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        /// 已走访.
        case visited
        /// 不在家.
        case notAtHome = "not_at_home"
        /// 有变化.
        case changed

        public var chineseName: String {
            switch self {
            case .visited: "已走访"
            case .notAtHome: "不在家"
            case .changed: "有变化"
            }
        }
    }

    /// What changed in who is there.
    public enum ChangeKind: String, Sendable, Codable, Hashable, CaseIterable {
        /// 有人返乡: opens a returnee registration.
        case returned
        /// 有人外出.
        case departed = "left"
        /// 有人发热: a temperature reading.
        case fever

        public var chineseName: String {
            switch self {
            case .returned: "有人返乡"
            case .departed: "有人外出"
            case .fever: "有人发热"
            }
        }
    }

    /// The workflow a reported change opened.
    public struct FollowUp: Sendable, Codable, Hashable {
        public var kind: String
        public var id: UUID

        public init(kind: String, id: UUID) {
            self.kind = kind
            self.id = id
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind
            case id
        }
    }

    /// A change as reported on the doorstep.
    public struct Change: Sendable, Codable, Hashable {
        public var kind: ChangeKind
        /// The member it is about, when on record.
        public var personID: UUID?
        /// The person's name (a returnee not on record yet, or as the worker wrote it).
        public var personName: String?
        /// Where a returnee came from.
        public var fromProvince: String?
        public var fromCity: String?
        /// A fever's reading, °C.
        public var celsius: Double?
        public var note: String?
        public var followUp: FollowUp?

        public init(kind: ChangeKind, personID: UUID? = nil, personName: String? = nil, fromProvince: String? = nil,
                    fromCity: String? = nil, celsius: Double? = nil, note: String? = nil, followUp: FollowUp? = nil) {
            self.kind = kind
            self.personID = personID
            self.personName = personName
            self.fromProvince = fromProvince
            self.fromCity = fromCity
            self.celsius = celsius
            self.note = note
            self.followUp = followUp
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind
            case personID = "person_id"
            case personName = "person_name"
            case fromProvince = "from_province"
            case fromCity = "from_city"
            case celsius
            case note
            case followUp = "follow_up"
        }
    }

    /// One call at the door.
    public struct Call: Sendable, Codable, Hashable {
        public var outcome: State
        public var at: Date
        public var byUserID: UUID
        public var byName: String
        public var change: Change?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case outcome
            case at
            case byUserID = "by_user_id"
            case byName = "by_name"
            case change
        }
    }

    /// What the grid worker found.
    public enum Finding: Sendable, Equatable {
        case visited
        case notAtHome
        case changed(Change)

        var state: State {
            switch self {
            case .visited: .visited
            case .notAtHome: .notAtHome
            case .changed: .changed
            }
        }
    }

    /// The rules a visit copies when it is made (from the isolation policy: what a reading is).
    public struct Rules: Sendable, Equatable {
        public var validReadings: ClosedRange<Double>
        public var feverCelsius: Double
        /// How long after its half-day ended a visit may still arrive (a phone that was offline).
        public var lateSync: TimeInterval

        public init(validReadings: ClosedRange<Double>, feverCelsius: Double, lateSync: TimeInterval = 24 * 3_600) {
            self.validReadings = validReadings
            self.feverCelsius = feverCelsius
            self.lateSync = lateSync
        }
    }

    public struct Start: Sendable {
        public var householdID: UUID
        public var gridPath: UnitPath
        /// The half-day the worker's screen showed; the store takes it from the form, so a visit
        /// queued offline in the morning stays the morning's.
        public var slot: VisitSlot
        public var finding: Finding
        public var rules: Rules

        public init(householdID: UUID, gridPath: UnitPath, slot: VisitSlot, finding: Finding, rules: Rules) {
            self.householdID = householdID
            self.gridPath = gridPath
            self.slot = slot
            self.finding = finding
            self.rules = rules
        }
    }

    public enum Command: Sendable, Equatable {
        /// Another call at a household that was not at home.
        case callAgain(Finding, rules: Rules)
    }

    public static let kind = "household_visit"

    public let visitID: UUID
    public let householdID: UUID
    public let gridPath: UnitPath
    /// The half-day, as `VisitSlot.label` (`2020-02-20 am`).
    public let slot: String
    public private(set) var calls: [Call]
    public let feverCelsius: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case visitID = "visit_id"
        case householdID = "household_id"
        case gridPath = "grid_path"
        case slot
        case calls
        case feverCelsius = "fever_celsius"
    }

    // Every visit has at least its first call: `start` makes it.
    public var lastCall: Call { self.calls[self.calls.count - 1] }
    public var state: State { self.lastCall.outcome }
    public var stateName: String { self.state.rawValue }
    public var change: Change? { self.lastCall.change }
    public var visitSlot: VisitSlot? { VisitSlot(label: self.slot) }

    public var projection: Projection {
        Projection(unitPath: self.gridPath, subjectRef: self.householdID, category: self.slot)
    }

    /// One visit per household and half-day, in every state.
    public var exclusiveKey: ExclusiveKey? { .household(self.householdID, slot: self.slot) }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = try actor.assignment(as: .gridWorker, covering: start.gridPath)
        guard start.slot.start <= now else {
            throw SignoffError.invalidValue("slot", "\(start.slot.chineseName)还没到，不能提前登记走访。The half-day \(start.slot.label) has not begun.")
        }
        guard now.timeIntervalSince(start.slot.end) < start.rules.lateSync else {
            throw SignoffError.invalidValue("slot", "\(start.slot.chineseName)的走访已过补报期限。The half-day \(start.slot.label) is too long past to record.")
        }
        let call = try Self.call(start.finding, rules: start.rules, by: actor, at: now)
        let visit = HouseholdVisit(visitID: id, householdID: start.householdID, gridPath: start.gridPath, slot: start.slot.label,
                                   calls: [call], feverCelsius: start.rules.feverCelsius)
        return (visit, Effect(event: "record", actingAs: acting, payload: visit.payload(of: call)))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .callAgain(let finding, let rules):
            let acting = try actor.assignment(as: .gridWorker, covering: self.gridPath)
            switch self.state {
            case .notAtHome:
                break
            case .visited, .changed:
                throw SignoffError(.invalidTransition, "这一户\(self.visitSlot?.chineseName ?? "")已走访（\(self.state.chineseName)）。This household's visit of \(self.slot) is recorded already.")
            }
            let call = try Self.call(finding, rules: rules, by: actor, at: now)
            self.calls.append(call)
            return Effect(event: "call_again", actingAs: acting, payload: self.payload(of: call))
        }
    }

    /// Checks what a change must say: who returned or left; a fever's reading.
    static func call(_ finding: Finding, rules: Rules, by actor: Principal, at now: Date) throws(SignoffError) -> Call {
        var change: Change?
        if case .changed(var reported) = finding {
            reported.personName = try DomainFormat.optional(reported.personName, field: "person_name", what: "The person's name 姓名", limit: 50)
            reported.note = try DomainFormat.optional(reported.note, field: "note", what: "The note 情况说明", limit: 500)
            reported.fromProvince = try DomainFormat.optional(reported.fromProvince, field: "from_province",
                                                              what: "The province returned from 来自省份", limit: 50)
            reported.fromCity = try DomainFormat.optional(reported.fromCity, field: "from_city", what: "The city 来自城市", limit: 50)
            switch reported.kind {
            case .returned:
                guard reported.personID != nil || reported.personName != nil else {
                    throw SignoffError(.missingField, "请填写返乡人员姓名。Name the person who returned.", extra: ["field": "person_name"])
                }
                // Without the origin the store opens the registration form instead of registering.
                reported.celsius = nil
            case .departed:
                guard reported.personID != nil || reported.personName != nil || reported.note != nil else {
                    throw SignoffError(.missingField, "请写明谁外出了。Say who left.", extra: ["field": "person_name"])
                }
                reported.celsius = nil
                reported.fromProvince = nil
                reported.fromCity = nil
            case .fever:
                guard let celsius = reported.celsius else {
                    throw SignoffError(.missingField, "请填写体温。Give the temperature.", extra: ["field": "celsius"])
                }
                guard rules.validReadings.contains(celsius) else {
                    throw SignoffError.invalidValue("celsius", "体温 \(celsius) °C 不在有效范围内。A reading must lie between \(rules.validReadings.lowerBound) and \(rules.validReadings.upperBound) °C.")
                }
                reported.fromProvince = nil
                reported.fromCity = nil
            }
            change = reported
        }
        return Call(outcome: finding.state, at: now, byUserID: actor.userID, byName: actor.displayName, change: change)
    }

    func payload(of call: Call) -> [String: JSONValue] {
        var payload: [String: JSONValue] = [
            "household_id": .string(self.householdID.uuidString), "slot": .string(self.slot), "outcome": .string(call.outcome.rawValue),
        ]
        if let change = call.change {
            payload["change"] = .string(change.kind.rawValue)
            if let person = change.personID { payload["person_id"] = .string(person.uuidString) }
            if let name = change.personName { payload["person_name"] = .string(name) }
            if let celsius = change.celsius { payload["celsius"] = .double(celsius) }
            if let note = change.note { payload["note"] = .string(note) }
            if let followUp = change.followUp {
                payload["follow_up_kind"] = .string(followUp.kind)
                payload["follow_up_id"] = .string(followUp.id.uuidString)
            }
        }
        return payload
    }

    /// A fever found on a visit goes at once to the grid and the health centre, unless an
    /// isolation took the reading (its own fever report then goes out).
    public func notices(for effect: Effect) -> [DomainEvent] {
        guard let change = self.lastCall.change, change.kind == .fever, change.followUp == nil,
              let celsius = change.celsius, celsius >= self.feverCelsius
        else { return [] }
        return [DomainEvent(
            name: "visit.fever", key: "visit.fever:\(self.visitID.uuidString):\(self.calls.count)",
            payload: [
                "celsius": .double(celsius), "slot": .string(self.slot), "household_id": .string(self.householdID.uuidString),
                "person_name": .string(change.personName ?? ""),
            ])]
    }
}

// MARK: - DiagrammedMachine
extension HouseholdVisit: DiagrammedMachine {
    public static let title = "上下午走访 household visit"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "record", .visited, when: "the half-day has begun and ended less than a day ago"),
        Transition(nil, "record", .notAtHome),
        Transition(nil, "record", .changed, when: "a return, a departure or a fever, with its follow-up"),
        Transition(.notAtHome, "call_again", .visited),
        Transition(.notAtHome, "call_again", .notAtHome),
        Transition(.notAtHome, "call_again", .changed),
    ]

    public static let finalStates: [State] = [.visited, .changed]

    public static func describe(_ state: State) -> String {
        "\(state.chineseName) \(state.rawValue.replacingOccurrences(of: "_", with: " "))"
    }
}
