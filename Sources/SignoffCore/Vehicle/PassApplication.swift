import Foundation

/// A travel pass 通行证 application and its five-level signature chain.
///
/// It may be filed once the vehicle's clearance is due. The levels of the policy it
/// started under sign in order, each signer holding that level's role at a unit that
/// contains the vehicle's grid. A signer may reject with a reason; the applicant side
/// then resubmits (a new round from level 1; old rounds stay in `rounds`) or withdraws.
/// After the last level the pass is effective and `vehicle_pass.effective` is published.
///
/// One person acts at only one level of an application, across all its rounds: see
/// `PassApplication+Signing.swift`.
public struct PassApplication: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        /// Waiting for the signature of `currentLevel`.
        case pending
        case rejected
        case withdrawn
        case effective
        /// An effective pass withdrawn from force before its end (吊销); its credential is revoked.
        case revoked
    }

    public struct Start: Sendable {
        public var vehicleID: UUID
        public var pledgeID: UUID
        public var plate: LicensePlate
        public var gridPath: UnitPath
        /// The pledge's current clearance date; filing before it is refused.
        public var clearanceDueAt: Date
        /// The policy in force now; the application keeps its chain, limits and version.
        public var policy: VehiclePolicy

        public init(vehicleID: UUID, pledgeID: UUID, plate: LicensePlate, gridPath: UnitPath, clearanceDueAt: Date,
                    policy: VehiclePolicy) {
            self.vehicleID = vehicleID
            self.pledgeID = pledgeID
            self.plate = plate
            self.gridPath = gridPath
            self.clearanceDueAt = clearanceDueAt
            self.policy = policy
        }
    }

    public enum Command: Sendable, Equatable {
        /// Signs the pending level. `level`, when given, must be the pending one: a signer
        /// holding several chain roles states which level they meant, so a retry after a
        /// race never signs the next level by accident.
        /// `delegation`, when given, signs for its delegator (代签); the store resolves it by number.
        case sign(level: Int? = nil, delegation: DelegationGrant? = nil)
        case reject(reason: String?, level: Int? = nil, delegation: DelegationGrant? = nil)
        /// An administrator hands an overdue pending level to another holder of its role (转交).
        case reassign(level: Int, to: Principal, reason: String?)
        /// Starts a new round at level 1; the store passes the pledge's current clearance date.
        case resubmit(clearanceDueAt: Date, note: String?)
        case withdraw(reason: String?)
        /// Ends an effective pass before its validity ends (a chief leader or the office), with a reason.
        case revoke(reason: String?)
    }

    /// Who acted at a level, under which role and unit, and when.
    public struct Signature: Sendable, Codable, Hashable {
        public var level: Int
        public var role: Role
        public var userID: UUID
        public var name: String
        public var unitID: UUID
        public var unitPath: UnitPath
        public var at: Date
        /// Whom a delegate acted for (代签), and under which delegation; nil when signed in person.
        public var onBehalfOf: Delegation.Person?
        public var delegationNumber: Int?

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case level
            case role
            case userID = "user_id"
            case name
            case unitID = "unit_id"
            case unitPath = "unit_path"
            case at
            case onBehalfOf = "on_behalf_of"
            case delegationNumber = "delegation_number"
        }
    }

    /// An administrator's 转交 of a pending level to one named holder of its role. From then on
    /// only that person (or their delegate) acts at that level in that round.
    public struct Reassignment: Sendable, Codable, Hashable {
        public var level: Int
        public var to: Delegation.Person
        public var toUnitPath: UnitPath
        public var by: Delegation.Person
        public var reason: String
        public var at: Date

        /// The stored form's field names: a contract.
        enum CodingKeys: String, CodingKey, CaseIterable {
            case level, to
            case toUnitPath = "to_unit_path"
            case by, reason, at
        }
    }

    public struct Rejection: Sendable, Codable, Hashable {
        public var signer: Signature
        public var reason: String

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case signer
            case reason
        }
    }

    /// One pass through the chain. A rejected round ends with its rejection.
    public struct Round: Sendable, Codable, Hashable {
        public var number: Int
        public var startedAt: Date
        public var startedBy: UUID
        public var startedByName: String
        public var note: String?
        public var signatures: [Signature]
        public var rejection: Rejection?
        /// Absent in rows written before reassignment existed.
        public var reassignments: [Reassignment]?

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case number
            case startedAt = "started_at"
            case startedBy = "started_by"
            case startedByName = "started_by_name"
            case note
            case signatures
            case rejection
            case reassignments
        }
    }

    /// The chain of the current round as shown to a reader: each level and what happened there.
    public struct LevelProgress: Sendable, Hashable {
        public enum Status: String, Sendable, Hashable {
            case signed, rejected, pending, waiting
        }

        public var level: VehiclePolicy.Level
        public var status: Status
        /// The signature, or the rejecter.
        public var signer: Signature?
        public var reason: String?
        /// When a pending level started waiting, and when it is overdue.
        public var pendingSince: Date?
        public var dueAt: Date?
    }

    public static let kind = "vehicle_pass"
    public static let effectiveEvent = "vehicle_pass.effective"
    public static let revokedEvent = "vehicle_pass.revoked"
    /// Who may revoke an effective pass.
    public static let revokerRoles: [Role] = [.chiefLeader, .admin]
    /// What a 通行证 credential says it allows.
    public static let credentialScope = "车辆上路通行"

    public internal(set) var state: State
    public let applicationID: UUID
    public let vehicleID: UUID
    public let pledgeID: UUID
    public let plate: LicensePlate
    public let gridPath: UnitPath
    /// The policy the application started under, pinned for its whole life.
    public let policyVersion: String
    public let chain: [VehiclePolicy.Level]
    public let passValidityDays: Int
    public let appliedAt: Date
    public let appliedBy: UUID
    /// Oldest first; the last is the current round.
    public internal(set) var rounds: [Round]
    public internal(set) var passNumber: String?
    public internal(set) var effectiveFrom: Date?
    public internal(set) var effectiveUntil: Date?
    public internal(set) var closedReason: String?
    public internal(set) var revokedAt: Date?

    public var stateName: String { self.state.rawValue }

    /// The round in progress or, once closed, the last one.
    public var currentRound: Round {
        self.rounds[self.rounds.count - 1]  // start creates round 1 and rounds are never removed
    }

    /// The level waiting for a signature, while pending.
    public var pendingLevel: VehiclePolicy.Level? {
        guard self.state == .pending else { return nil }
        return self.chain[self.currentRound.signatures.count]  // pending means fewer signatures than levels
    }

    /// Since when the pending level has waited: the round's start or the previous signature.
    public var pendingSince: Date? {
        guard self.state == .pending else { return nil }
        return self.currentRound.signatures.last?.at ?? self.currentRound.startedAt
    }

    /// When the pending level becomes overdue: its limit from when it started waiting or, once
    /// reassigned, from the reassignment, so the new holder gets the level's full time.
    public var pendingDueAt: Date? {
        guard let level = self.pendingLevel, let since = self.pendingSince else { return nil }
        return (self.pendingReassignment?.at ?? since).addingTimeInterval(level.limit)
    }

    /// The latest reassignment of the pending level in this round, if any.
    public var pendingReassignment: Reassignment? {
        guard let level = self.pendingLevel else { return nil }
        return self.currentRound.reassignments?.last { $0.level == level.level }
    }

    public var projection: Projection {
        Projection(unitPath: self.gridPath, pendingRole: self.pendingLevel?.role, pendingSince: self.pendingSince,
                   dueAt: self.pendingDueAt, policyVersion: self.policyVersion, subjectRef: self.vehicleID,
                   pendingLevel: self.pendingLevel?.level, serialNumber: self.passNumber, label: self.plate.text)
    }

    /// One open application (pending or rejected, awaiting resubmission) per vehicle.
    public var exclusiveKey: ExclusiveKey? {
        self.state == .pending || self.state == .rejected ? .vehicle(self.vehicleID) : nil
    }

    public func isExpired(at now: Date) -> Bool {
        guard self.state == .effective, let until = self.effectiveUntil else { return false }
        return now >= until
    }

    /// What a reader sees: the state, or `expired` for an effective pass past its validity.
    public func displayStatus(at now: Date) -> String {
        self.isExpired(at: now) ? "expired" : self.stateName
    }

    /// Every level of the current round with its signer or its wait.
    public var progress: [LevelProgress] {
        let round = self.currentRound
        return self.chain.map { level in
            if let signature = round.signatures.first(where: { $0.level == level.level }) {
                return LevelProgress(level: level, status: .signed, signer: signature)
            }
            if let rejection = round.rejection, rejection.signer.level == level.level {
                return LevelProgress(level: level, status: .rejected, signer: rejection.signer, reason: rejection.reason)
            }
            if level.level == self.pendingLevel?.level {
                return LevelProgress(level: level, status: .pending, pendingSince: self.pendingSince, dueAt: self.pendingDueAt)
            }
            return LevelProgress(level: level, status: .waiting)
        }
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = try Self.applicantSide(actor, for: start.gridPath)
        try Self.requireClearance(due: start.clearanceDueAt, at: now)
        let round = Round(number: 1, startedAt: now, startedBy: actor.userID, startedByName: actor.displayName,
                          note: nil, signatures: [], rejection: nil)
        let application = PassApplication(
            state: .pending, applicationID: id, vehicleID: start.vehicleID, pledgeID: start.pledgeID, plate: start.plate,
            gridPath: start.gridPath, policyVersion: start.policy.version, chain: start.policy.chain,
            passValidityDays: start.policy.passValidityDays, appliedAt: now, appliedBy: actor.userID, rounds: [round])
        let payload: [String: JSONValue] = [
            "vehicle_id": .string(start.vehicleID.uuidString), "pledge_id": .string(start.pledgeID.uuidString),
            "plate": .string(start.plate.text), "policy_version": .string(start.policy.version), "round": 1,
            "pending_level": 1, "pending_role": .string(start.policy.chain[0].role.rawValue),  // policies have ≥ 1 level
        ]
        return (application, Effect(event: "apply", actingAs: acting, payload: payload))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .sign(let level, let delegation): try self.sign(level: level, delegation: delegation, by: actor, at: now)
        case .reject(let reason, let level, let delegation):
            try self.reject(reason: reason, level: level, delegation: delegation, by: actor, at: now)
        case .reassign(let level, let target, let reason): try self.reassign(level: level, to: target, reason: reason, by: actor, at: now)
        case .resubmit(let due, let note): try self.resubmit(clearanceDueAt: due, note: note, by: actor, at: now)
        case .withdraw(let reason): try self.withdraw(reason: reason, by: actor, at: now)
        case .revoke(let reason): try self.revoke(reason: reason, by: actor, at: now)
        }
    }

    /// 吊销: an effective pass still in force loses its force; its credential goes on the revocation list.
    public mutating func revoke(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.revokerRoles, covering: self.gridPath)
        let reason = try requireReason(reason)
        guard self.state == .effective, !self.isExpired(at: now), let number = self.passNumber else {
            throw .invalidTransition("revoke", from: self.displayStatus(at: now))
        }
        self.state = .revoked
        self.closedReason = reason
        self.revokedAt = now
        let event = DomainEvent(
            name: Self.revokedEvent, key: "\(Self.revokedEvent):\(self.applicationID.uuidString)",
            payload: [
                "application_id": .string(self.applicationID.uuidString), "plate": .string(self.plate.text),
                "pass_number": .string(number), "reason": .string(reason),
                CredentialClaim.revocationKey: CredentialClaim.revocationPayload(kind: .vehiclePass, number: number),
            ])
        return Effect(event: "revoke", actingAs: acting, reason: reason, payload: ["pass_number": .string(number)], emitted: [event])
    }

    public mutating func resubmit(clearanceDueAt: Date, note: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try Self.applicantSide(actor, for: self.gridPath)
        guard self.state == .rejected else { throw .invalidTransition("resubmit", from: self.stateName) }
        // A violation since the first filing may have restarted the clock.
        try Self.requireClearance(due: clearanceDueAt, at: now)
        let note = try DomainFormat.optional(note, field: "note", what: "The note", limit: 1_000)
        let number = self.rounds.count + 1
        self.rounds.append(Round(number: number, startedAt: now, startedBy: actor.userID, startedByName: actor.displayName,
                                 note: note, signatures: [], rejection: nil))
        self.state = .pending
        var payload: [String: JSONValue] = [
            "round": .int(number), "pending_level": 1, "pending_role": .string(self.chain[0].role.rawValue),
        ]
        if let note { payload["note"] = .string(note) }
        return Effect(event: "resubmit", actingAs: acting, payload: payload)
    }

    public mutating func withdraw(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try Self.applicantSide(actor, for: self.gridPath)
        guard self.state == .pending || self.state == .rejected else {
            throw .invalidTransition("withdraw", from: self.stateName)
        }
        let reason = try DomainFormat.optional(reason, field: "reason", what: "The reason", limit: 1_000)
        self.state = .withdrawn
        self.closedReason = reason
        return Effect(event: "withdraw", actingAs: acting, reason: reason, payload: ["round": .int(self.rounds.count)])
    }

    /// The applicant is the vehicle's household; a grid worker of its grid files and follows
    /// the application for them, as on paper. Any grid worker of the grid may, so a change of
    /// grid worker does not strand an application.
    static func applicantSide(_ actor: Principal, for gridPath: UnitPath) throws(SignoffError) -> RoleAssignment {
        try actor.assignment(as: .gridWorker, covering: gridPath)
    }

    static func requireClearance(due: Date, at now: Date) throws(SignoffError) {
        guard now >= due else {
            let text = DomainFormat.timestamp(due)
            throw SignoffError(
                .clearanceNotReached,
                "The vehicle has not been parked long enough; a travel pass 通行证 may be applied for from \(text).",
                extra: ["due_at": .string(text)])
        }
    }

    init(
        state: State, applicationID: UUID, vehicleID: UUID, pledgeID: UUID, plate: LicensePlate, gridPath: UnitPath,
        policyVersion: String, chain: [VehiclePolicy.Level], passValidityDays: Int, appliedAt: Date, appliedBy: UUID,
        rounds: [Round]
    ) {
        self.state = state
        self.applicationID = applicationID
        self.vehicleID = vehicleID
        self.pledgeID = pledgeID
        self.plate = plate
        self.gridPath = gridPath
        self.policyVersion = policyVersion
        self.chain = chain
        self.passValidityDays = passValidityDays
        self.appliedAt = appliedAt
        self.appliedBy = appliedBy
        self.rounds = rounds
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case applicationID = "application_id"
        case vehicleID = "vehicle_id"
        case pledgeID = "pledge_id"
        case plate
        case gridPath = "grid_path"
        case policyVersion = "policy_version"
        case chain
        case passValidityDays = "pass_validity_days"
        case appliedAt = "applied_at"
        case appliedBy = "applied_by"
        case rounds
        case passNumber = "pass_number"
        case effectiveFrom = "effective_from"
        case effectiveUntil = "effective_until"
        case closedReason = "closed_reason"
        case revokedAt = "revoked_at"
    }
}

// MARK: - DiagrammedMachine
extension PassApplication: DiagrammedMachine {
    public static let title = "通行证 travel pass, five-level chain"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "apply", .pending, when: "clearance reached"),
        Transition(.pending, "sign", .pending, when: "more levels"),
        Transition(.pending, "sign", .effective, when: "last level"),
        Transition(.pending, "reject", .rejected, when: "reason"),
        Transition(.pending, "reassign", .pending, when: "overdue; admin; reason"),
        Transition(.rejected, "resubmit", .pending, when: "new round at level 1"),
        Transition(.pending, "withdraw", .withdrawn),
        Transition(.rejected, "withdraw", .withdrawn),
        Transition(.effective, "revoke", .revoked, when: "in force; chief leader or office; reason"),
    ]

    public static let finalStates: [State] = [.withdrawn, .effective, .revoked]

    public static func describe(_ state: State) -> String {
        switch state {
        case .pending: "待签 pending"
        case .rejected: "退回 rejected"
        case .withdrawn: "撤回 withdrawn"
        case .effective: "生效 effective (expired after effective_until)"
        case .revoked: "吊销 revoked"
        }
    }
}
