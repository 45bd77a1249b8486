import Foundation

/// A vehicle's parking pledge 停放承诺书: registered by the grid worker when the owner
/// signs, parked until its travel pass takes effect, with every violation recorded.
///
/// Clearance is due `clearanceDays` after parking starts; a violation (the vehicle seen on
/// the road) starts the clock again when the policy says so, and is published as
/// `vehicle.violation` for the points ledger.
public struct ParkingPledge: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        case parked
        case released
    }

    public struct Start: Sendable {
        public var vehicleID: UUID
        /// As typed; validated and normalised by `start`.
        public var plate: String
        public var ownerPersonID: UUID
        public var householdID: UUID
        /// Where the vehicle stands, such as "村委会院坝".
        public var parkingPlace: String
        /// The grid of the household; the pledge lives there.
        public var gridPath: UnitPath
        /// The policy in force at registration; its values are copied.
        public var policy: VehiclePolicy

        public init(vehicleID: UUID, plate: String, ownerPersonID: UUID, householdID: UUID, parkingPlace: String,
                    gridPath: UnitPath, policy: VehiclePolicy) {
            self.vehicleID = vehicleID
            self.plate = plate
            self.ownerPersonID = ownerPersonID
            self.householdID = householdID
            self.parkingPlace = parkingPlace
            self.gridPath = gridPath
            self.policy = policy
        }
    }

    public enum Command: Sendable, Equatable {
        /// A grid worker saw the vehicle on the road before clearance.
        case recordViolation(note: String)
        /// Issued by the service (`Principal.system`) when the vehicle's pass takes effect.
        case release(passID: UUID)
    }

    /// One violation, in the order recorded.
    public struct Violation: Sendable, Codable, Hashable {
        /// 1-based; part of the published event's key.
        public var number: Int
        public var at: Date
        public var note: String
        public var recordedBy: UUID
        public var recordedByName: String
        /// The clearance date before and after this violation.
        public var clearanceDueBefore: Date
        public var clearanceDueAfter: Date

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case number
            case at
            case note
            case recordedBy = "recorded_by"
            case recordedByName = "recorded_by_name"
            case clearanceDueBefore = "clearance_due_before"
            case clearanceDueAfter = "clearance_due_after"
        }
    }

    public static let kind = "parking_pledge"
    public static let violationEvent = "vehicle.violation"

    public private(set) var state: State
    public let pledgeID: UUID
    public let vehicleID: UUID
    public let plate: LicensePlate
    public let ownerPersonID: UUID
    public let householdID: UUID
    public let parkingPlace: String
    public let gridPath: UnitPath
    public let policyVersion: String
    public let clearanceDays: Int
    public let violationRestartsClock: Bool
    /// When the owner signed and parking started.
    public let parkedSince: Date
    /// When the current clearance period started: `parkedSince`, or the last violation that restarted it.
    public private(set) var clockStartedAt: Date
    public private(set) var clearanceDueAt: Date
    public private(set) var violations: [Violation]
    public private(set) var releasedAt: Date?
    public private(set) var releasedByPass: UUID?

    public var stateName: String { self.state.rawValue }

    public var projection: Projection {
        Projection(unitPath: self.gridPath, dueAt: self.state == .parked ? self.clearanceDueAt : nil,
                   policyVersion: self.policyVersion, subjectRef: self.vehicleID, label: self.plate.text)
    }

    /// One active pledge per vehicle.
    public var exclusiveKey: ExclusiveKey? {
        self.state == .parked ? .vehicle(self.vehicleID) : nil
    }

    public func isCleared(at now: Date) -> Bool {
        now >= self.clearanceDueAt
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = try actor.assignment(as: .gridWorker, covering: start.gridPath)
        let plate = try LicensePlate(start.plate)
        let place = try DomainFormat.required(start.parkingPlace, field: "parking_place", what: "The parking place 停放地点")
        let due = now.addingTimeInterval(start.policy.clearancePeriod)
        let pledge = ParkingPledge(
            state: .parked, pledgeID: id, vehicleID: start.vehicleID, plate: plate, ownerPersonID: start.ownerPersonID,
            householdID: start.householdID, parkingPlace: place, gridPath: start.gridPath,
            policyVersion: start.policy.version, clearanceDays: start.policy.clearanceDays,
            violationRestartsClock: start.policy.violationRestartsClock, parkedSince: now, clockStartedAt: now,
            clearanceDueAt: due, violations: [], releasedAt: nil, releasedByPass: nil)
        let payload: [String: JSONValue] = [
            "vehicle_id": .string(start.vehicleID.uuidString), "plate": .string(plate.text),
            "owner_person_id": .string(start.ownerPersonID.uuidString),
            "household_id": .string(start.householdID.uuidString), "parking_place": .string(place),
            "clearance_due_at": .string(DomainFormat.timestamp(due)),
        ]
        return (pledge, Effect(event: "register", actingAs: acting, payload: payload))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .recordViolation(let note): try self.recordViolation(note: note, by: actor, at: now)
        case .release(let passID): try self.release(passID: passID, by: actor, at: now)
        }
    }

    public mutating func recordViolation(note: String, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(as: .gridWorker, covering: self.gridPath)
        let note = try DomainFormat.required(note, field: "note", what: "The violation note", limit: 1_000)
        guard self.state == .parked else { throw .invalidTransition("record_violation", from: self.stateName) }
        let before = self.clearanceDueAt
        if self.violationRestartsClock {
            self.clockStartedAt = now
            self.clearanceDueAt = now.addingTimeInterval(DomainFormat.days(self.clearanceDays))
        }
        let violation = Violation(
            number: self.violations.count + 1, at: now, note: note, recordedBy: actor.userID,
            recordedByName: actor.displayName, clearanceDueBefore: before, clearanceDueAfter: self.clearanceDueAt)
        self.violations.append(violation)
        let event = DomainEvent(
            name: Self.violationEvent,
            // The pledge and the violation's number identify it, so a redelivery scores once.
            key: "\(Self.violationEvent):\(self.pledgeID.uuidString):\(violation.number)",
            payload: [
                "pledge_id": .string(self.pledgeID.uuidString), "vehicle_id": .string(self.vehicleID.uuidString),
                "plate": .string(self.plate.text), "household_id": .string(self.householdID.uuidString),
                "person_id": .string(self.ownerPersonID.uuidString), "grid_path": .string(self.gridPath.description),
                "at": .string(DomainFormat.timestamp(now)), "number": .int(violation.number), "note": .string(note),
            ])
        return Effect(
            event: "record_violation", actingAs: acting,
            payload: [
                "number": .int(violation.number), "note": .string(note),
                "clock_restarted": .bool(self.violationRestartsClock),
                "clearance_due_at": .string(DomainFormat.timestamp(self.clearanceDueAt)),
            ],
            emitted: [event])
    }

    public mutating func release(passID: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        try actor.requireSystem(for: "release")
        guard self.state == .parked else { throw .invalidTransition("release", from: self.stateName) }
        self.state = .released
        self.releasedAt = now
        self.releasedByPass = passID
        return Effect(event: "release", actingAs: nil, payload: ["pass_id": .string(passID.uuidString)])
    }

    private init(
        state: State, pledgeID: UUID, vehicleID: UUID, plate: LicensePlate, ownerPersonID: UUID, householdID: UUID,
        parkingPlace: String, gridPath: UnitPath, policyVersion: String, clearanceDays: Int,
        violationRestartsClock: Bool, parkedSince: Date, clockStartedAt: Date, clearanceDueAt: Date,
        violations: [Violation], releasedAt: Date?, releasedByPass: UUID?
    ) {
        self.state = state
        self.pledgeID = pledgeID
        self.vehicleID = vehicleID
        self.plate = plate
        self.ownerPersonID = ownerPersonID
        self.householdID = householdID
        self.parkingPlace = parkingPlace
        self.gridPath = gridPath
        self.policyVersion = policyVersion
        self.clearanceDays = clearanceDays
        self.violationRestartsClock = violationRestartsClock
        self.parkedSince = parkedSince
        self.clockStartedAt = clockStartedAt
        self.clearanceDueAt = clearanceDueAt
        self.violations = violations
        self.releasedAt = releasedAt
        self.releasedByPass = releasedByPass
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case pledgeID = "pledge_id"
        case vehicleID = "vehicle_id"
        case plate
        case ownerPersonID = "owner_person_id"
        case householdID = "household_id"
        case parkingPlace = "parking_place"
        case gridPath = "grid_path"
        case policyVersion = "policy_version"
        case clearanceDays = "clearance_days"
        case violationRestartsClock = "violation_restarts_clock"
        case parkedSince = "parked_since"
        case clockStartedAt = "clock_started_at"
        case clearanceDueAt = "clearance_due_at"
        case violations
        case releasedAt = "released_at"
        case releasedByPass = "released_by_pass"
    }
}

// MARK: - DiagrammedMachine
extension ParkingPledge: DiagrammedMachine {
    public static let title = "停放承诺书 parking pledge"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "register", .parked),
        Transition(.parked, "record_violation", .parked, when: "clock restarts per policy"),
        Transition(.parked, "release", .released, when: "pass effective, by the service"),
    ]

    public static let finalStates: [State] = [.released]

    public static func describe(_ state: State) -> String {
        switch state {
        case .parked: "停放中 parked"
        case .released: "已解除 released"
        }
    }
}
