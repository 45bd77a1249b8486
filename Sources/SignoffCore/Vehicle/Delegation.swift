import Foundation

/// A delegation 委托代签: for a period, a signer's duties at one role and unit are carried by
/// another holder of that role, who then signs "for" them.
///
/// The delegate must hold the same role at a unit covering the delegator's unit (so the rules
/// of jurisdiction never widen), and may not be the delegator. The delegator names the delegate,
/// or an administrator covering the unit does. It ends at `until` (shown as 已到期, derived from
/// the clock as a pass's expiry is) or earlier when revoked. The store gives it its number
/// (#n, without gaps) and refuses an overlapping active delegation for the same role and unit.
public struct Delegation: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        /// In force between `from` and `until`.
        case active
        /// Ended early.
        case revoked
    }

    /// A person as recorded in a delegation.
    public struct Person: Sendable, Codable, Hashable {
        public var userID: UUID
        public var name: String

        public init(userID: UUID, name: String) {
            self.userID = userID
            self.name = name
        }

        /// The stored form's field names: a contract.
        enum CodingKeys: String, CodingKey, CaseIterable {
            case userID = "user_id"
            case name
        }
    }

    public struct Start: Sendable {
        public var number: Int
        /// The delegator with every role they hold; `role` must be held at `unitID`.
        public var delegator: Principal
        /// The delegate with every role they hold.
        public var delegate: Principal
        public var role: Role
        public var unitID: UUID
        public var from: Date
        public var until: Date
        public var reason: String?

        public init(number: Int, delegator: Principal, delegate: Principal, role: Role, unitID: UUID, from: Date, until: Date,
                    reason: String?) {
            self.number = number
            self.delegator = delegator
            self.delegate = delegate
            self.role = role
            self.unitID = unitID
            self.from = from
            self.until = until
            self.reason = reason
        }
    }

    public enum Command: Sendable, Equatable {
        case revoke(reason: String?)
    }

    public enum Event: String, Sendable {
        case create, revoke
    }

    /// How long one delegation may last.
    public static let longest: TimeInterval = 90 * 86_400

    public static let kind = "delegation"

    public internal(set) var state: State
    public let delegationID: UUID
    public let number: Int
    public let delegator: Person
    public let delegate: Person
    public let role: Role
    public let unitID: UUID
    public let unitPath: UnitPath
    public let from: Date
    public let until: Date
    public let reason: String
    public let createdBy: Person
    /// True when an administrator named the delegate rather than the signer themself.
    public let createdByAdmin: Bool
    public let createdAt: Date
    public internal(set) var revokedBy: Person?
    public internal(set) var revokedAt: Date?
    public internal(set) var revokedReason: String?

    public var stateName: String { self.state.rawValue }

    /// The stored form's field names: a contract.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case delegationID = "delegation_id"
        case number, delegator, delegate, role
        case unitID = "unit_id"
        case unitPath = "unit_path"
        case from, until, reason
        case createdBy = "created_by"
        case createdByAdmin = "created_by_admin"
        case createdAt = "created_at"
        case revokedBy = "revoked_by"
        case revokedAt = "revoked_at"
        case revokedReason = "revoked_reason"
    }

    /// Active and inside its period at `now`.
    public func isInForce(at now: Date) -> Bool {
        self.state == .active && self.from <= now && now < self.until
    }

    /// 生效中, 未开始, 已到期 or 已撤销, for readers.
    public func status(at now: Date) -> String {
        switch self.state {
        case .revoked: "revoked"
        case .active: now < self.from ? "scheduled" : (now >= self.until ? "expired" : "active")
        }
    }

    /// Whether it applies to a record at `path` waiting for `role`.
    public func covers(role: Role, path: UnitPath) -> Bool {
        self.role == role && self.unitPath.contains(path)
    }

    public var projection: Projection {
        // subject_ref is the delegate, so "delegations to me" is an indexed lookup.
        Projection(unitPath: self.unitPath, dueAt: self.state == .active ? self.until : nil, subjectRef: self.delegate.userID)
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        guard VehiclePolicy.signerRoles.contains(start.role) else {
            throw SignoffError(.delegationInvalid, "Only the signer roles of the 通行证 chain can be delegated.",
                               extra: ["field": "role"])
        }
        guard let held = start.delegator.assignments.first(where: { $0.role == start.role && $0.unitID == start.unitID }) else {
            throw SignoffError(.delegationInvalid,
                               "\(start.delegator.displayName) does not hold \(start.role.chineseName) (\(start.role.rawValue)) at this unit.",
                               extra: ["field": "delegator_id"])
        }
        // The signer themself, or an administrator over the unit.
        let acting: RoleAssignment
        let byAdmin: Bool
        if actor.userID == start.delegator.userID {
            acting = held
            byAdmin = false
        } else {
            acting = try actor.assignment(as: .admin, covering: held.unitPath)
            byAdmin = true
        }
        guard start.delegate.userID != start.delegator.userID else {
            throw SignoffError(.delegationInvalid, "A signer cannot delegate to themself.", extra: ["field": "delegate_id"])
        }
        guard start.delegate.assignments.contains(where: { $0.role == start.role && $0.covers(held.unitPath) }) else {
            throw SignoffError(
                .delegationInvalid,
                "\(start.delegate.displayName) does not hold \(start.role.chineseName) (\(start.role.rawValue)) at a unit covering \(held.unitPath); a delegate must hold the same role there.",
                extra: ["field": "delegate_id", "role": .string(start.role.rawValue), "unit_path": .string(held.unitPath.description)])
        }
        guard start.from < start.until else {
            throw SignoffError(.delegationInvalid, "The period must end after it starts.", extra: ["field": "until"])
        }
        guard start.until > now else {
            throw SignoffError(.delegationInvalid, "The period is already over.", extra: ["field": "until"])
        }
        guard start.until.timeIntervalSince(start.from) <= Self.longest else {
            throw SignoffError(.delegationInvalid, "A delegation lasts at most 90 days.", extra: ["field": "until"])
        }
        let reason = try requireReason(start.reason)
        guard reason.count <= 500 else { throw SignoffError.invalidValue("reason", "The reason is longer than 500 characters.") }
        let delegation = Delegation(
            state: .active, delegationID: id, number: start.number,
            delegator: Person(userID: start.delegator.userID, name: start.delegator.displayName),
            delegate: Person(userID: start.delegate.userID, name: start.delegate.displayName),
            role: start.role, unitID: held.unitID, unitPath: held.unitPath, from: start.from, until: start.until,
            reason: reason, createdBy: Person(userID: actor.userID, name: actor.displayName), createdByAdmin: byAdmin,
            createdAt: now)
        return (delegation, Effect(event: Event.create.rawValue, actingAs: acting, reason: reason, payload: delegation.auditPayload))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .revoke(let reason): try self.revoke(reason: reason, by: actor, at: now)
        }
    }

    /// Ends the delegation now. The delegator, the delegate (declining) or an administrator may.
    public mutating func revoke(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting: RoleAssignment
        if actor.userID == self.delegator.userID || actor.userID == self.delegate.userID {
            acting = try actor.assignment(as: self.role, covering: self.unitPath)
        } else {
            acting = try actor.assignment(as: .admin, covering: self.unitPath)
        }
        guard self.state == .active else { throw .invalidTransition(Event.revoke.rawValue, from: self.stateName) }
        guard now < self.until else {
            throw SignoffError(.delegationInactive, "Delegation #\(self.number) has already ended.",
                               extra: ["delegation_number": .int(self.number)])
        }
        let reason = try DomainFormat.optional(reason, field: "reason", what: "The reason", limit: 500)
        self.state = .revoked
        self.revokedBy = Person(userID: actor.userID, name: actor.displayName)
        self.revokedAt = now
        self.revokedReason = reason
        return Effect(event: Event.revoke.rawValue, actingAs: acting, reason: reason, payload: self.auditPayload)
    }

    var auditPayload: [String: JSONValue] {
        [
            "delegation_number": .int(self.number), "delegator_id": .string(self.delegator.userID.uuidString),
            "delegator_name": .string(self.delegator.name), "delegate_id": .string(self.delegate.userID.uuidString),
            "delegate_name": .string(self.delegate.name), "role": .string(self.role.rawValue),
            "unit_path": .string(self.unitPath.description), "from": .string(DomainFormat.timestamp(self.from)),
            "until": .string(DomainFormat.timestamp(self.until)),
        ]
    }

    /// What the pass chain needs to let the delegate act for the delegator.
    public var grant: DelegationGrant {
        DelegationGrant(number: self.number, delegator: self.delegator, delegateID: self.delegate.userID, role: self.role,
                        unitPath: self.unitPath, from: self.from, until: self.until, active: self.state == .active)
    }

    init(state: State, delegationID: UUID, number: Int, delegator: Person, delegate: Person, role: Role, unitID: UUID,
         unitPath: UnitPath, from: Date, until: Date, reason: String, createdBy: Person, createdByAdmin: Bool, createdAt: Date) {
        self.state = state
        self.delegationID = delegationID
        self.number = number
        self.delegator = delegator
        self.delegate = delegate
        self.role = role
        self.unitID = unitID
        self.unitPath = unitPath
        self.from = from
        self.until = until
        self.reason = reason
        self.createdBy = createdBy
        self.createdByAdmin = createdByAdmin
        self.createdAt = createdAt
    }
}

/// A delegation as the pass chain sees it when the delegate signs: checked again by the pure
/// machine at the moment of signing, so a delegation outside its period never applies.
public struct DelegationGrant: Sendable, Codable, Hashable {
    public var number: Int
    public var delegator: Delegation.Person
    public var delegateID: UUID
    public var role: Role
    public var unitPath: UnitPath
    public var from: Date
    public var until: Date
    /// False once revoked.
    public var active: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case number, delegator
        case delegateID = "delegate_id"
        case role
        case unitPath = "unit_path"
        case from, until, active
    }

    public init(number: Int, delegator: Delegation.Person, delegateID: UUID, role: Role, unitPath: UnitPath, from: Date,
                until: Date, active: Bool) {
        self.number = number
        self.delegator = delegator
        self.delegateID = delegateID
        self.role = role
        self.unitPath = unitPath
        self.from = from
        self.until = until
        self.active = active
    }
}

// MARK: - DiagrammedMachine
extension Delegation: DiagrammedMachine {
    public static let title = "委托代签 delegation"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "create", .active, when: "delegate holds the role over the unit; no overlap"),
        Transition(.active, "revoke", .revoked, when: "before the end of the period"),
    ]

    public static let finalStates: [State] = [.revoked]

    public static func describe(_ state: State) -> String {
        switch state {
        case .active: "生效 active (已到期 expired after the period)"
        case .revoked: "撤销 revoked"
        }
    }
}
