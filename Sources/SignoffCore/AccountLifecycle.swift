import Foundation

/// The life of a user account: active → suspended → reactivated (active again), or closed.
///
/// A suspended or closed account cannot log in and its tokens stop working. Role grants,
/// revocations and passwords are commands of the account too, so each is audited on its
/// chain; the rows they change (`role_assignments`, the password hash) are written by the
/// store's reactions to the events emitted here, in the same transaction.
public struct AccountLifecycle: AuditedMachine {
    public enum State: String, Sendable, Codable, Equatable {
        case active
        case suspended
        case closed
    }

    public struct Start: Sendable {
        public var username: String
        /// The unit whose administrators manage this account.
        public var homePath: UnitPath
        /// A migrant worker's own account 务工人员, which the grid worker of their grid may create.
        public var isWorkerAccount: Bool
        /// Why the account is made (the web asks for one), kept in the audit.
        public var reason: String?
        /// The roles the account starts with; at least one.
        public var roles: [RoleAtUnit]
        /// The bcrypt hash of the first password, if one is set now. Never stored or audited:
        /// it only travels to the reaction that writes it.
        public var passwordHash: String?

        public init(username: String, homePath: UnitPath, isWorkerAccount: Bool = false, reason: String? = nil,
                    roles: [RoleAtUnit] = [], passwordHash: String? = nil) {
            self.username = username
            self.homePath = homePath
            self.isWorkerAccount = isWorkerAccount
            self.reason = reason
            self.roles = roles
            self.passwordHash = passwordHash
        }
    }

    /// A role at one unit of the tree, as a grant or a revocation names it.
    public struct RoleAtUnit: Sendable, Equatable {
        public var role: Role
        public var unitID: UUID
        public var unitPath: UnitPath
        public var unitKind: UnitKind
        /// For refusals people read.
        public var unitName: String

        public init(role: Role, unitID: UUID, unitPath: UnitPath, unitKind: UnitKind, unitName: String) {
            self.role = role
            self.unitID = unitID
            self.unitPath = unitPath
            self.unitKind = unitKind
            self.unitName = unitName
        }
    }

    public enum Command: Sendable, Equatable {
        case suspend(reason: String?)
        case reactivate(reason: String?)
        case close(reason: String?)
        /// Grants `grant`; `held` is every role the account holds now (the store gathers it).
        case grantRole(RoleAtUnit, held: [RoleAssignment], reason: String?)
        /// Takes `role` away, with a reason; the account's last role stays.
        case revokeRole(RoleAtUnit, held: [RoleAssignment], reason: String?)
        /// Sets the password to `hash` (bcrypt). Audited as `set_password`, without the hash.
        case setPassword(hash: String)
    }

    public static let kind = "account"

    /// Emitted for each role an account gains; the store inserts the `role_assignments` row.
    public static let roleGrantedEvent = "account.role_granted"
    /// Emitted when a role is taken away; the store deletes the row.
    public static let roleRevokedEvent = "account.role_revoked"
    /// Emitted with the new hash; the store writes it to `users`. In-transaction only: never
    /// queued in the outbox, so the hash is stored nowhere else.
    public static let passwordSetEvent = "account.password_set"

    public private(set) var state: State
    public let userID: UUID
    public let username: String
    public let homePath: UnitPath
    /// How many times the account was reactivated, shown to administrators.
    public private(set) var reactivations: Int

    public var stateName: String { self.state.rawValue }

    public var projection: Projection {
        Projection(unitPath: self.homePath, subjectRef: self.userID)
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = start.isWorkerAccount
            ? try actor.assignment(asAnyOf: [.gridWorker, .admin], covering: start.homePath)
            : try Self.administrator(actor, for: start.homePath)
        for grant in start.roles { try Self.requireHoldable(grant, field: "roles") }
        let machine = AccountLifecycle(state: .active, userID: id, username: start.username, homePath: start.homePath, reactivations: 0)
        var emitted = start.roles.map { machine.roleEvent(Self.roleGrantedEvent, $0) }
        var payload: [String: JSONValue] = ["username": .string(start.username)]
        if let hash = start.passwordHash {
            emitted.append(machine.passwordEvent(hash))
            payload["password_set"] = .bool(true)
        }
        return (machine, Effect(event: "create", actingAs: acting, reason: start.reason?.trimmedReason, payload: payload,
                                emitted: emitted))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .suspend(let reason): try self.suspend(by: actor, reason: reason)
        case .reactivate(let reason): try self.reactivate(by: actor, reason: reason)
        case .close(let reason): try self.close(by: actor, reason: reason)
        case .grantRole(let grant, let held, let reason): try self.grant(grant, held: held, by: actor, reason: reason)
        case .revokeRole(let grant, let held, let reason): try self.revoke(grant, held: held, by: actor, reason: reason)
        case .setPassword(let hash): try self.setPassword(hash, by: actor)
        }
    }

    // MARK: Roles and password

    /// An administrator of both the unit and the account's home grants a role the unit can hold.
    /// The state does not change; the audit row and the emitted event carry the grant.
    public func grant(_ grant: RoleAtUnit, held: [RoleAssignment], by actor: Principal, reason: String?) throws(SignoffError) -> Effect {
        let acting = try Self.administrator(actor, for: grant.unitPath)
        _ = try Self.administrator(actor, for: self.homePath)
        guard self.state != .closed else { throw .invalidTransition("grant_role", from: self.stateName) }
        try Self.requireHoldable(grant, field: "unit_id")
        guard !held.contains(where: { $0.role == grant.role && $0.unitID == grant.unitID }) else {
            throw SignoffError(.duplicate, "The account holds this role at this unit already.")
        }
        return Effect(event: "grant_role", actingAs: acting, reason: reason?.trimmedReason, payload: Self.payload(grant),
                      emitted: [self.roleEvent(Self.roleGrantedEvent, grant)])
    }

    /// Takes a role away, with a reason. Administrators keep their own administrator role, and
    /// an account keeps its last role (close it instead): one without any belongs to no administrator.
    public func revoke(_ grant: RoleAtUnit, held: [RoleAssignment], by actor: Principal, reason: String?) throws(SignoffError) -> Effect {
        guard let reason = reason?.trimmedReason else {
            throw SignoffError(.reasonRequired, "Give a reason for taking the role away.", extra: ["field": "reason"])
        }
        let acting = try Self.administrator(actor, for: grant.unitPath)
        _ = try Self.administrator(actor, for: self.homePath)
        guard self.userID != actor.userID || grant.role != .admin else {
            throw SignoffError(.invalidValue, "Administrators cannot take their own administrator role away.")
        }
        guard held.contains(where: { $0.role == grant.role && $0.unitID == grant.unitID }) else {
            throw SignoffError.notFound("This role at this unit")
        }
        guard held.count > 1 else {
            throw SignoffError.invalidValue("role", "This is the account's only role; close the account instead.")
        }
        return Effect(event: "revoke_role", actingAs: acting, reason: reason, payload: Self.payload(grant),
                      emitted: [self.roleEvent(Self.roleRevokedEvent, grant)])
    }

    /// The holder sets their own password (a worker with the activation code), or an
    /// administrator of the account's home, or the service. The audit row says who; the hash
    /// goes only into the emitted event.
    public func setPassword(_ hash: String, by actor: Principal) throws(SignoffError) -> Effect {
        guard self.state != .closed else { throw .invalidTransition("set_password", from: self.stateName) }
        guard !hash.isEmpty else { throw SignoffError.invalidValue("password", "A password is required.") }
        let acting: RoleAssignment?
        if actor.userID == self.userID || actor.isSystem {
            acting = nil
        } else {
            acting = try Self.administrator(actor, for: self.homePath)
        }
        return Effect(event: "set_password", actingAs: acting,
                      payload: ["by_holder": .bool(actor.userID == self.userID)],
                      emitted: [self.passwordEvent(hash)])
    }

    private static func requireHoldable(_ grant: RoleAtUnit, field: String) throws(SignoffError) {
        guard grant.role.canBeHeld(at: grant.unitKind) else {
            throw SignoffError.invalidValue(field, "The role \(grant.role.rawValue) (\(grant.role.chineseName)) is held at a \(grant.role.heldAt.rawValue), but \(grant.unitName) is a \(grant.unitKind.rawValue).")
        }
    }

    private static func payload(_ grant: RoleAtUnit) -> [String: JSONValue] {
        ["role": .string(grant.role.rawValue), "unit_path": .string(grant.unitPath.description)]
    }

    private func roleEvent(_ name: String, _ grant: RoleAtUnit) -> DomainEvent {
        DomainEvent(
            name: name, key: "\(name):\(self.userID.uuidString):\(grant.role.rawValue):\(grant.unitID.uuidString)",
            payload: ["user_id": .string(self.userID.uuidString), "role": .string(grant.role.rawValue),
                      "unit_id": .string(grant.unitID.uuidString)])
    }

    private func passwordEvent(_ hash: String) -> DomainEvent {
        DomainEvent(name: Self.passwordSetEvent, key: "\(Self.passwordSetEvent):\(self.userID.uuidString)",
                    payload: ["user_id": .string(self.userID.uuidString), "password_hash": .string(hash)])
    }

    public mutating func suspend(by actor: Principal, reason: String?) throws(SignoffError) -> Effect {
        let acting = try Self.administrator(actor, for: self.homePath)
        guard actor.userID != self.userID else {
            throw SignoffError(.invalidValue, "Administrators cannot suspend their own account.")
        }
        let reason = try requireReason(reason)
        guard self.state == .active else { throw .invalidTransition("suspend", from: self.stateName) }
        self.state = .suspended
        return Effect(event: "suspend", actingAs: acting, reason: reason)
    }

    public mutating func reactivate(by actor: Principal, reason: String?) throws(SignoffError) -> Effect {
        let acting = try Self.administrator(actor, for: self.homePath)
        guard self.state == .suspended else { throw .invalidTransition("reactivate", from: self.stateName) }
        self.state = .active
        self.reactivations += 1
        return Effect(event: "reactivate", actingAs: acting, reason: reason?.trimmedReason,
                      payload: ["reactivations": .int(self.reactivations)])
    }

    public mutating func close(by actor: Principal, reason: String?) throws(SignoffError) -> Effect {
        let acting = try Self.administrator(actor, for: self.homePath)
        guard actor.userID != self.userID else {
            throw SignoffError(.invalidValue, "Administrators cannot close their own account.")
        }
        let reason = try requireReason(reason)
        guard self.state != .closed else { throw .invalidTransition("close", from: self.stateName) }
        self.state = .closed
        return Effect(event: "close", actingAs: acting, reason: reason)
    }

    private static func administrator(_ actor: Principal, for path: UnitPath) throws(SignoffError) -> RoleAssignment {
        try actor.assignment(as: .admin, covering: path)
    }

    private init(state: State, userID: UUID, username: String, homePath: UnitPath, reactivations: Int) {
        self.state = state
        self.userID = userID
        self.username = username
        self.homePath = homePath
        self.reactivations = reactivations
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case userID = "user_id"
        case username
        case homePath = "home_path"
        case reactivations
    }
}
