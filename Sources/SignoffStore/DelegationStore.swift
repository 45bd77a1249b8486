import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// A delegation as stored, with its instance's version.
public struct StoredDelegation: Sendable {
    public var id: UUID
    public var version: Int
    public var delegation: Delegation

    public init(id: UUID, version: Int, delegation: Delegation) {
        self.id = id
        self.version = version
        self.delegation = delegation
    }
}

/// Delegations 委托代签 and reassignments 转交 of a pass's pending level.
///
/// Both are transitions through `TransitionStore`: a delegation is its own `delegation`
/// instance (created, revoked), a reassignment is a `reassign` event on the pass. This store
/// only looks up what they need (the people involved with their roles, overlapping
/// delegations, a delegation by number) inside the same transaction, and writes the
/// delegation's number row of `delegations` beside its start.
public struct DelegationStore: Sendable {
    public let transitions: TransitionStore
    public let vehicles: VehicleStore

    public init(transitions: TransitionStore, vehicles: VehicleStore) {
        self.transitions = transitions
        self.vehicles = vehicles
    }

    var database: Database { self.transitions.database }
    var logger: Logger { self.database.logger }

    public struct NewDelegation: Sendable {
        /// Nil: the signed-in signer delegates their own duties.
        public var delegatorID: UUID?
        public var delegateID: UUID
        public var role: Role?
        /// Nil: the delegator's only unit for `role`.
        public var unitID: UUID?
        public var from: Date?
        public var until: Date
        public var reason: String?

        public init(delegatorID: UUID?, delegateID: UUID, role: Role?, unitID: UUID?, from: Date?, until: Date, reason: String?) {
            self.delegatorID = delegatorID
            self.delegateID = delegateID
            self.role = role
            self.unitID = unitID
            self.from = from
            self.until = until
            self.reason = reason
        }
    }

    // MARK: Writing

    /// Names a delegate. `delegation_overlap` when an active delegation of the same role and
    /// unit overlaps the period; the rest is the machine's (`delegation_invalid`, roles).
    public func create(
        _ new: NewDelegation, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<Delegation>? = nil
    ) async throws -> TransitionOutcome<Delegation> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            if let replay = try await self.transitions.replay(metadata, actor: actor, on: connection) { return .replayed(replay) }
            var delegator = actor
            if let id = new.delegatorID, id != actor.userID {
                delegator = try await self.actor(userID: id, on: connection)
            }
            let delegate = try await self.actor(userID: new.delegateID, on: connection, field: "delegate_id")
            let candidates = delegator.assignments.filter { VehiclePolicy.signerRoles.contains($0.role) }
                .filter { new.role == nil || $0.role == new.role }
                .filter { new.unitID == nil || $0.unitID == new.unitID }
            guard let held = candidates.first, candidates.count == 1 else {
                throw SignoffError(
                    .delegationInvalid,
                    candidates.isEmpty
                        ? "\(delegator.displayName) holds no signer role\(new.role.map { " \($0.chineseName) (\($0.rawValue))" } ?? "") at that unit."
                        : "\(delegator.displayName) signs in several roles or units; say which with role and unit_id.",
                    extra: ["field": .string(candidates.isEmpty ? "role" : "unit_id")])
            }
            let now = self.transitions.clock.now()
            let from = new.from ?? now
            // One delegation at a time per role and unit: serialise creations for the pair.
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(\("delegation:\(held.role.rawValue):\(held.unitID.uuidString)"), 0))",
                logger: self.logger)
            let overlapping = try await connection.query("""
                SELECT d.number FROM delegations d JOIN instances i ON i.id = d.instance_id
                 WHERE d.role = \(held.role.rawValue) AND d.unit_id = \(held.unitID) AND i.state_name = 'active'
                   AND d.valid_from < \(new.until) AND d.valid_until > \(from) AND d.valid_until > \(now)
                 ORDER BY d.number LIMIT 1
                """, logger: self.logger)
            for try await number in overlapping.decode(Int.self) {
                throw SignoffError(
                    .delegationOverlap,
                    "Delegation #\(number) for \(held.role.chineseName) at this unit overlaps that period; revoke it first or choose another period.",
                    extra: ["delegation_number": .int(number)])
            }
            let id = UUID()
            // Numbers are shown to people, so they have no gaps: one creation at a time takes the next.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended('delegation:numbers', 0))", logger: self.logger)
            let inserted = try await connection.query("""
                INSERT INTO delegations (number, instance_id, delegator_id, delegate_id, role, unit_id, valid_from, valid_until)
                SELECT (SELECT coalesce(max(number), 0) + 1 FROM delegations), \(id), \(delegator.userID), \(delegate.userID),
                       \(held.role.rawValue), \(held.unitID), \(from), \(new.until)
                 WHERE \(from) < \(new.until)
                RETURNING number
                """, logger: self.logger)
            var number: Int?
            for try await value in inserted.decode(Int.self) { number = value }
            let start = Delegation.Start(number: number ?? 0, delegator: delegator, delegate: delegate, role: held.role,
                                         unitID: held.unitID, from: from, until: new.until, reason: new.reason)
            // With no row (a backwards period) the machine refuses before anything is kept.
            return try await self.transitions.start(Delegation.self, id: id, start, by: actor, metadata: metadata, render: render,
                                                    on: connection)
        }
    }

    /// Ends a delegation early.
    public func revoke(
        number: Int, reason: String?, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<Delegation>? = nil
    ) async throws -> TransitionOutcome<Delegation> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            if let replay = try await self.transitions.replay(metadata, actor: actor, on: connection) { return .replayed(replay) }
            let id = try await self.instanceID(number: number, on: connection)
            return try await self.transitions.apply(Delegation.self, id: id, .revoke(reason: reason), by: actor,
                                                    metadata: metadata, render: render, on: connection)
        }
    }

    /// Signs or rejects a pass, for the delegator of delegation `number` when one is given.
    public func actOnPass(
        id: UUID, expectedVersion: Int?, delegationNumber: Int?,
        _ command: @escaping @Sendable (DelegationGrant?) -> PassApplication.Command,
        by actor: Principal, metadata: RequestMetadata, render: @escaping TransitionStore.Render<PassApplication>
    ) async throws -> TransitionOutcome<PassApplication> {
        try await self.transitions.transaction(metadata: metadata, actor: actor, prefetching: (id, PassApplication.kind)) { connection in
            if let replay = try await self.transitions.replay(metadata, actor: actor, on: connection) { return .replayed(replay) }
            var grant: DelegationGrant?
            if let delegationNumber {
                grant = try await self.load(number: delegationNumber, on: connection).delegation.grant
            }
            return try await self.vehicles.actOnPass(id: id, expectedVersion: expectedVersion, command(grant), by: actor,
                                                     metadata: metadata, render: render, on: connection)
        }
    }

    /// 转交: hands the overdue pending `level` of pass `id` to user `toUserID`, with a reason.
    public func reassign(
        passID id: UUID, level: Int, toUserID: UUID, reason: String?, expectedVersion: Int?, by actor: Principal,
        metadata: RequestMetadata = .init(), render: TransitionStore.Render<PassApplication>? = nil
    ) async throws -> TransitionOutcome<PassApplication> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            if let replay = try await self.transitions.replay(metadata, actor: actor, on: connection) { return .replayed(replay) }
            let target = try await self.actor(userID: toUserID, on: connection, field: "to_user_id")
            return try await self.transitions.apply(
                PassApplication.self, id: id, expectedVersion: expectedVersion, .reassign(level: level, to: target, reason: reason),
                by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    // MARK: Reading

    public func load(number: Int) async throws -> StoredDelegation {
        try await self.database.withConnection { try await self.load(number: number, on: $0) }
    }

    func load(number: Int, on connection: PostgresConnection) async throws -> StoredDelegation {
        let id = try await self.instanceID(number: number, on: connection)
        let stored = try await self.transitions.load(Delegation.self, id: id, on: connection)
        return StoredDelegation(id: id, version: stored.version, delegation: stored.machine)
    }

    func instanceID(number: Int, on connection: PostgresConnection) async throws -> UUID {
        let rows = try await connection.query("SELECT instance_id FROM delegations WHERE number = \(number)", logger: self.logger)
        for try await id in rows.decode(UUID.self) { return id }
        throw SignoffError.notFound("Delegation #\(number)")
    }

    /// Delegations the actor gave or received, and as an administrator those of units in their
    /// scope; newest first.
    public func list(for actor: Principal, limit: Int = 200) async throws -> [StoredDelegation] {
        let scopes = actor.assignments.filter { $0.role == .admin }.map(\.unitPath.description)
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT i.id, i.version, i.state::text
                  FROM delegations d JOIN instances i ON i.id = d.instance_id
                 WHERE d.delegator_id = \(actor.userID) OR d.delegate_id = \(actor.userID)
                    OR i.unit_path <@ ANY(\(scopes)::ltree[])
                 ORDER BY d.number DESC
                 LIMIT \(limit)
                """, logger: self.logger)
            return try await Self.decode(rows)
        }
    }

    /// The delegations to `userID` in force at `now`.
    public static func inForce(to userID: UUID, at now: Date, on connection: PostgresConnection, logger: Logger) async throws -> [Delegation] {
        let rows = try await connection.query("""
            SELECT i.id, i.version, i.state::text
              FROM delegations d JOIN instances i ON i.id = d.instance_id
             WHERE d.delegate_id = \(userID) AND i.state_name = 'active' AND d.valid_from <= \(now) AND d.valid_until > \(now)
             ORDER BY d.number
            """, logger: logger)
        return try await Self.decode(rows).map(\.delegation).filter { $0.isInForce(at: now) }
    }

    public func inForce(to userID: UUID) async throws -> [Delegation] {
        let now = self.transitions.clock.now()
        return try await self.database.withConnection { try await Self.inForce(to: userID, at: now, on: $0, logger: self.logger) }
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [StoredDelegation] {
        var items: [StoredDelegation] = []
        for try await (id, version, state) in rows.decode((UUID, Int, String).self) {
            let delegation = try StoredForm.decoder().decode(Delegation.self, from: Data(state.utf8))
            items.append(StoredDelegation(id: id, version: version, delegation: delegation))
        }
        return items
    }

    /// A person who may be named: an active holder of a role at a unit covering a path.
    public struct Holder: Sendable, Hashable {
        public var userID: UUID
        public var name: String
        public var unitName: String
    }

    /// Active holders of `role` at units covering `path`, nearest unit first.
    public func holders(of role: Role, covering path: UnitPath) async throws -> [Holder] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT DISTINCT ON (u.id) u.id, u.display_name, x.name, nlevel(x.path)
                  FROM role_assignments r JOIN units x ON x.id = r.unit_id JOIN users u ON u.id = r.user_id
                  JOIN instances i ON i.id = u.id AND i.kind = 'account' AND i.state_name = 'active'
                 WHERE r.role = \(role.rawValue) AND x.path @> \(path.description)::ltree
                 ORDER BY u.id, nlevel(x.path) DESC
                """, logger: self.logger)
            var holders: [(Holder, Int)] = []
            for try await (id, name, unit, depth) in rows.decode((UUID, String, String, Int).self) {
                holders.append((Holder(userID: id, name: name, unitName: unit), depth))
            }
            return holders.sorted { ($1.1, $0.0.name) < ($0.1, $1.0.name) }.map(\.0)
        }
    }

    /// An active account with every role it holds.
    func actor(userID: UUID, on connection: PostgresConnection, field: String = "delegator_id") async throws -> Principal {
        if let actor = try await AccountStore.activeActor(userID: userID, on: connection, logger: self.logger) { return actor }
        throw SignoffError(.delegationInvalid, "No active account with that id.", extra: ["field": .string(field)])
    }
}
