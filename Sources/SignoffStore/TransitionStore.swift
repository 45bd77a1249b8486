import Crypto
import Foundation
import Logging
import PostgresNIO
import SignoffCore
import Synchronization

/// A response kept with an `Idempotency-Key`, replayed byte for byte when the same request comes again.
public struct StoredResponse: Sendable, Equatable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }
}

/// A client's `Idempotency-Key` and a digest of the request it came with.
public struct IdempotencyRequest: Sendable {
    public var key: String
    public var requestHash: Data

    public init(key: String, method: String, path: String, body: Data) {
        self.key = key
        var hasher = SHA256()
        hasher.update(data: Data("\(method) \(path)\n".utf8))
        hasher.update(data: body)
        self.requestHash = Data(hasher.finalize())
    }
}

/// Who asked, for the audit row.
public struct RequestMetadata: Sendable {
    public var requestID: String?
    public var idempotency: IdempotencyRequest?

    public init(requestID: String? = nil, idempotency: IdempotencyRequest? = nil) {
        self.requestID = requestID
        self.idempotency = idempotency
    }
}

/// A machine as stored: its id, state and the version the next write must match.
public struct Stored<Machine: AuditedMachine>: Sendable {
    public var id: UUID
    public var machine: Machine
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
}

/// What a transition wrote.
public struct Transitioned<Machine: AuditedMachine>: Sendable {
    public var stored: Stored<Machine>
    public var effect: Effect
    public var fromState: String?
}

/// The result of `start`/`apply`: either the transition, or the response stored under the same key.
public enum TransitionOutcome<Machine: AuditedMachine>: Sendable {
    case applied(Transitioned<Machine>, response: StoredResponse?)
    case replayed(StoredResponse)
}

/// The one transition path. Every state change of every workflow goes through here.
///
/// In one transaction it loads the instance, applies the pure machine, writes the new state
/// with a version check, appends the audit row (chained by the database trigger), queues the
/// machine's emitted events in the outbox, and stores the idempotency key with its response.
public struct TransitionStore: Sendable {
    public let database: Database
    public let clock: any WallClock
    /// The township key that signs the credentials transitions declare (`CredentialClaim`);
    /// without one, a transition that declares a credential issues none.
    public let signingKeys: SigningKeys?

    public init(database: Database, clock: any WallClock, signingKeys: SigningKeys? = nil) {
        self.database = database
        self.clock = clock
        self.signingKeys = signingKeys
    }

    /// Reactions to emitted events that run in the transition's own transaction, each declaring
    /// the event names it takes: the only writers of the rows those events stand for.
    var reactions: [any TransitionReaction] {
        var reactions: [any TransitionReaction] = [AccountRowsReaction(), HouseholdLedgerRowsReaction()]
        if let keys = self.signingKeys { reactions.append(CredentialIssuer(keys: keys)) }
        return reactions
    }

    /// Every event some reaction takes in the transition's transaction (with signing keys).
    static var inTransactionEvents: Set<String> {
        AccountRowsReaction.events.union(HouseholdLedgerRowsReaction.events).union(CredentialIssuer.events)
    }

    /// Renders the response kept with an idempotency key; called inside the transaction.
    public typealias Render<Machine: AuditedMachine> = @Sendable (Transitioned<Machine>) throws -> StoredResponse

    // MARK: Creating

    public func start<Machine: AuditedMachine>(
        _ type: Machine.Type,
        id: UUID = UUID(),
        _ start: Machine.Start,
        by actor: Principal,
        metadata: RequestMetadata = .init(),
        render: Render<Machine>? = nil
    ) async throws -> TransitionOutcome<Machine> {
        try await self.transaction(metadata: metadata, actor: actor) { connection in
            try await self.start(type, id: id, start, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same, inside a transaction the caller holds, so several transitions can commit together.
    public func start<Machine: AuditedMachine>(
        _ type: Machine.Type,
        id: UUID = UUID(),
        _ start: Machine.Start,
        by actor: Principal,
        metadata: RequestMetadata = .init(),
        render: Render<Machine>? = nil,
        on connection: PostgresConnection
    ) async throws -> TransitionOutcome<Machine> {
        if let replay = try await self.replay(metadata, actor: actor, on: connection) { return .replayed(replay) }
        let now = self.clock.now()
        let (machine, effect) = try Machine.start(start, id: id, by: actor, at: now)
        let projection = machine.projection
        let state = try StoreCoding.json(machine)
        let logger = self.database.logger
        try await connection.query("""
            INSERT INTO instances (id, kind, state_name, state, schema_version, version, unit_path, pending_role, pending_since,
                                   due_at, policy_version, subject_ref, exclusive_key, pending_level, serial_number,
                                   category, headcount, member_ids, poor_members, label, audit_seq, created_at, updated_at)
            VALUES (\(id), \(Machine.kind), \(machine.stateName), \(state)::jsonb, \(Machine.schemaVersion), 1,
                    \(projection.unitPath.description)::ltree,
                    \(projection.pendingRole?.rawValue), \(projection.pendingSince), \(projection.dueAt),
                    \(projection.policyVersion), \(projection.subjectRef), \(machine.exclusiveKey?.text),
                    \(projection.pendingLevel), \(projection.serialNumber), \(projection.category), \(projection.headcount),
                    \(Self.members(projection)), \(projection.poorMembers), \(projection.label), 1, \(now), \(now))
            """, logger: logger)
        let transitioned = Transitioned(
            stored: Stored(id: id, machine: machine, version: 1, createdAt: now, updatedAt: now),
            effect: effect, fromState: nil
        )
        return try await self.finish(transitioned, kind: Machine.kind, actor: actor, now: now, metadata: metadata, render: render, on: connection)
    }

    // MARK: Moving

    public func apply<Machine: AuditedMachine>(
        _ type: Machine.Type,
        id: UUID,
        expectedVersion: Int? = nil,
        _ command: Machine.Command,
        by actor: Principal,
        metadata: RequestMetadata = .init(),
        render: Render<Machine>? = nil
    ) async throws -> TransitionOutcome<Machine> {
        try await self.transaction(metadata: metadata, actor: actor, prefetching: (id, Machine.kind)) { connection in
            try await self.apply(type, id: id, expectedVersion: expectedVersion, command, by: actor,
                                 metadata: metadata, render: render, on: connection)
        }
    }

    /// Runs `body` in one transaction: lookups the command needs, the transition (through an
    /// `on: connection` overload with the same `metadata`) and any transitions it causes, all
    /// committed together. A retry racing its own first attempt answers with that attempt's response.
    ///
    /// `prefetching` names the instance the body moves first (its id and kind): it is read with
    /// the key's claim, in the same round trip, and the body's first load of it takes that row.
    public func transaction<Machine: AuditedMachine>(
        metadata: RequestMetadata,
        actor: Principal,
        prefetching: (id: UUID, kind: String)? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> TransitionOutcome<Machine>
    ) async throws -> TransitionOutcome<Machine> {
        do {
            return try await self.database.transaction { connection in
                // Same key, same user: wait here for the first attempt to commit, so the replay
                // below (and in the `on: connection` overloads) finds its response.
                var prefetched: Prefetched?
                if let prefetching, let idempotency = metadata.idempotency, let name = Self.lockName(metadata, actor: actor) {
                    let statement = ClaimAndLoadStatement(userID: actor.userID, key: idempotency.key, lockName: name,
                                                          id: prefetching.id, kind: prefetching.kind)
                    let row = try await connection.rows(statement, logger: self.database.logger).first
                    if let row, let hash = row.0, let status = row.1, let body = row.2 {
                        return .replayed(try Self.kept(hash: hash, status: status, body: body, for: idempotency))
                    }
                    prefetched = Prefetched(id: prefetching.id, kind: prefetching.kind, row: row.flatMap { row in
                        guard let state = row.3, let version = row.4, let created = row.5, let updated = row.6, let form = row.7
                        else { return nil }
                        return (state, version, created, updated, form)
                    })
                } else if let replay = try await self.claimKey(metadata, actor: actor, on: connection) {
                    return .replayed(replay)
                }
                // Locked and looked up: the body's own steps need not do either again.
                return try await Self.$heldKey.withValue(Self.lockName(metadata, actor: actor)) {
                    try await Self.$prefetched.withValue(prefetched) { try await body(connection) }
                }
            }
        } catch let error as SignoffError where [.versionConflict, .duplicate].contains(error.code) && metadata.idempotency != nil {
            let replay = try await self.database.withConnection { connection in
                try await self.replay(metadata, actor: actor, on: connection)
            }
            if let replay { return .replayed(replay) }
            throw error
        }
    }

    /// A write of several steps (an account with its roles, a role grant, a unit, a webhook)
    /// with the same `Idempotency-Key` replay: in one transaction, a repeated key
    /// answers the kept response and `body` runs only for a new one; its response is kept with the key.
    public func write(
        metadata: RequestMetadata,
        actor: Principal,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> StoredResponse
    ) async throws -> WriteOutcome<StoredResponse> {
        do {
            return try await self.database.transaction { connection in
                if let replay = try await self.replay(metadata, actor: actor, on: connection) { return .replayed(replay) }
                let response = try await body(connection)
                try await self.remember(response, metadata: metadata, actor: actor, now: self.clock.now(), on: connection)
                return .applied(response, response: response)
            }
        } catch let error as SignoffError where error.code == .duplicate && metadata.idempotency != nil {
            // The first attempt with this key committed while this one ran (keys are locked per
            // transaction, so only a key first seen in both at once gets here).
            let replay = try await self.database.withConnection { connection in
                try await self.replay(metadata, actor: actor, on: connection)
            }
            if let replay { return .replayed(replay) }
            throw error
        }
    }

    public func apply<Machine: AuditedMachine>(
        _ type: Machine.Type,
        id: UUID,
        expectedVersion: Int? = nil,
        _ command: Machine.Command,
        by actor: Principal,
        metadata: RequestMetadata = .init(),
        render: Render<Machine>? = nil,
        on connection: PostgresConnection
    ) async throws -> TransitionOutcome<Machine> {
        if let replay = try await self.replay(metadata, actor: actor, on: connection) { return .replayed(replay) }
        let loaded = try await self.load(type, id: id, on: connection)
        if let expectedVersion, expectedVersion != loaded.version {
            throw try Self.conflict(loaded, detail: "The record changed since you loaded it (version \(expectedVersion); it is now at version \(loaded.version)). Reload and try again.")
        }
        let now = self.clock.now()
        var machine = loaded.machine
        let effect = try machine.handle(command, by: actor, at: now)
        let projection = machine.projection
        let state = try StoreCoding.json(machine)
        let logger = self.database.logger
        let update = UpdateInstanceStatement(
            stateName: machine.stateName, state: state, unitPath: projection.unitPath.description,
            pendingRole: projection.pendingRole?.rawValue, pendingSince: projection.pendingSince, dueAt: projection.dueAt,
            policyVersion: projection.policyVersion, subjectRef: projection.subjectRef, exclusiveKey: machine.exclusiveKey?.text,
            pendingLevel: projection.pendingLevel, serialNumber: projection.serialNumber, category: projection.category,
            headcount: projection.headcount, memberIDs: Self.members(projection), poorMembers: projection.poorMembers,
            label: projection.label, schemaVersion: Machine.schemaVersion, now: now,
            id: id, kind: Machine.kind, version: loaded.version)
        let newVersion = try await connection.rows(update, logger: logger).first
        guard let newVersion else {
            // Someone else moved the instance between our read and our write. The UPDATE waited
            // for their commit, so this transaction (read committed) now sees their state.
            let current = try await self.load(type, id: id, on: connection)
            throw try Self.conflict(current, detail: "Someone else changed this record at the same moment. It is now ‘\(current.machine.stateName)’ at version \(current.version).")
        }
        let transitioned = Transitioned(
            stored: Stored(id: id, machine: machine, version: newVersion, createdAt: loaded.createdAt, updatedAt: now),
            effect: effect, fromState: loaded.machine.stateName
        )
        return try await self.finish(transitioned, previousMoments: loaded.machine.dueMoments, kind: Machine.kind, actor: actor,
                                     now: now, metadata: metadata, render: render, on: connection)
    }

    // MARK: Reading

    public func load<Machine: AuditedMachine>(_ type: Machine.Type, id: UUID) async throws -> Stored<Machine> {
        try await self.database.withConnection { try await self.load(type, id: id, on: $0) }
    }

    public func load<Machine: AuditedMachine>(_ type: Machine.Type, id: UUID, on connection: PostgresConnection) async throws -> Stored<Machine> {
        let rows: [LoadInstanceStatement.Row]
        if let prefetched = Self.prefetched, prefetched.id == id, prefetched.kind == Machine.kind, let row = prefetched.take() {
            rows = row.map { [$0] } ?? []
        } else {
            rows = try await connection.rows(LoadInstanceStatement(id: id, kind: Machine.kind), logger: self.database.logger)
        }
        for (state, version, created, updated, schemaVersion) in rows {
            guard schemaVersion == Machine.schemaVersion else {
                // A form this build does not know: written by a newer build, or not migrated.
                throw SignoffError(.internalError, "This record is stored in form \(schemaVersion) of ‘\(Machine.kind)’; this service reads form \(Machine.schemaVersion).")
            }
            let machine = try StoredForm.decoder().decode(Machine.self, from: Data(state.utf8))
            return Stored(id: id, machine: machine, version: version, createdAt: created, updatedAt: updated)
        }
        throw SignoffError.notFound("This record")
    }

    /// The members column: NULL when there are none, so the index stays small.
    private static func members(_ projection: Projection) -> [UUID]? {
        projection.memberIDs.isEmpty ? nil : projection.memberIDs
    }

    // MARK: Shared steps

    private func finish<Machine: AuditedMachine>(
        _ transitioned: Transitioned<Machine>,
        previousMoments: [DueMoment] = [],
        kind: String,
        actor: Principal,
        now: Date,
        metadata: RequestMetadata,
        render: Render<Machine>?,
        on connection: PostgresConnection
    ) async throws -> TransitionOutcome<Machine> {
        let effect = transitioned.effect
        let machine = transitioned.stored.machine
        let response = try render.map { try $0(transitioned) }
        // Only what an outbox consumer takes is queued; each row is marked done at once for the
        // consumers that never take its name, so nothing waits in the table for ever.
        var queued = FinishStatement.Queued()
        for event in effect.emitted + machine.notices(for: effect) {
            let consumers = OutboxRoutes.consumers(of: event.name)
            guard !consumers.isEmpty else { continue }
            queued.names.append(event.name)
            queued.keys.append(event.key)
            queued.payloads.append(try StoreCoding.json(event.payload))
            queued.delivered.append(!consumers.contains(.vehicleEvents))
            queued.notified.append(!consumers.contains(.notifications))
        }
        // The audit row, the outbox, the instance's due moments as it now stands (the only place
        // timers are written) and the kept response: one statement, one round trip.
        let finish = FinishStatement(
            audit: AuditEntry(
                subjectKind: kind, subjectID: transitioned.stored.id, event: effect.event,
                fromState: transitioned.fromState, toState: machine.stateName,
                actor: actor, actingAs: effect.actingAs, reason: effect.reason, payload: effect.payload,
                at: now, requestID: metadata.requestID
            ),
            timers: try TimerStore.plan(instanceID: transitioned.stored.id, previous: previousMoments, moments: machine.dueMoments),
            queued: queued,
            kept: response.flatMap { response in metadata.idempotency.map { (actor.userID, $0, response) } }
        )
        _ = try await connection.rows(finish, logger: self.database.logger)
        // Reactions declared for emitted events (a credential to sign, a role row), in this transaction.
        let reactions = self.reactions
        for event in effect.emitted {
            for reaction in reactions where type(of: reaction).events.contains(event.name) {
                try await reaction.react(to: event, subjectKind: kind, subjectID: transitioned.stored.id, at: now,
                                         on: connection, logger: self.database.logger)
            }
        }
        return .applied(transitioned, response: response)
    }

    /// Keeps the response of a request that carried an `Idempotency-Key`, in the caller's transaction.
    func remember(
        _ response: StoredResponse, metadata: RequestMetadata, actor: Principal, now: Date, on connection: PostgresConnection
    ) async throws {
        guard let idempotency = metadata.idempotency else { return }
        try await connection.query("""
            INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at)
            VALUES (\(actor.userID), \(idempotency.key), \(idempotency.requestHash), \(response.status), \(response.body), \(now))
            """, logger: self.database.logger)
    }

    /// The stored response for a repeated key; `idempotency_key_reused` when the request differs.
    /// Also used by writes of several transitions (a ledger entry and the isolations it moves), so they replay alike.
    /// Inside `transaction`, which has looked the key up already, it is nil at once.
    func replay(_ metadata: RequestMetadata, actor: Principal, on connection: PostgresConnection) async throws -> StoredResponse? {
        guard let name = Self.lockName(metadata, actor: actor), name != Self.heldKey else { return nil }
        return try await self.claimKey(metadata, actor: actor, on: connection)
    }

    /// Locks the key until the transaction ends and then reads its stored response, in one round
    /// trip (`idempotency_claim`, schema 0014: the read sees what committed while this one waited
    /// for the lock). The lock serialises requests with one user's one `Idempotency-Key`
    /// (re-entrant within a transaction): concurrent retries replay the first response instead of
    /// racing it into `duplicate` or `out_of_order`.
    private func claimKey(_ metadata: RequestMetadata, actor: Principal, on connection: PostgresConnection) async throws -> StoredResponse? {
        guard let idempotency = metadata.idempotency, let name = Self.lockName(metadata, actor: actor) else { return nil }
        let statement = ClaimKeyStatement(userID: actor.userID, key: idempotency.key, lockName: name)
        for (hash, status, body) in try await connection.rows(statement, logger: self.database.logger) {
            return try Self.kept(hash: hash, status: status, body: body, for: idempotency)
        }
        return nil
    }

    /// The response kept with a key; `idempotency_key_reused` when it was kept for another request.
    private static func kept(hash: Data, status: Int, body: Data, for idempotency: IdempotencyRequest) throws -> StoredResponse {
        guard hash == idempotency.requestHash else {
            throw SignoffError(.idempotencyKeyReused,
                               "This Idempotency-Key was already used for a different request. Use a new key for a new request.")
        }
        return StoredResponse(status: status, body: body)
    }

    private static func lockName(_ metadata: RequestMetadata, actor: Principal) -> String? {
        metadata.idempotency.map { "idempotency:\(actor.userID.uuidString):\($0.key)" }
    }

    /// The key `transaction` claimed for the body it runs: its `on: connection` steps need not claim it again.
    @TaskLocal private static var heldKey: String?

    /// The instance `transaction` read with its key's claim, for the body's first load of it only:
    /// a later load (after the body wrote it, or to report a conflict) reads the table again.
    @TaskLocal private static var prefetched: Prefetched?

    private final class Prefetched: Sendable {
        let id: UUID
        let kind: String
        /// nil inside: no such instance. Taken once.
        private let row: Mutex<LoadInstanceStatement.Row??>

        init(id: UUID, kind: String, row: LoadInstanceStatement.Row?) {
            self.id = id
            self.kind = kind
            self.row = Mutex(.some(row))
        }

        /// The row (nil inside when there was none), or nil when it was taken already.
        func take() -> LoadInstanceStatement.Row?? {
            self.row.withLock { row in
                defer { row = nil }
                return row
            }
        }
    }

    private static func conflict<Machine: AuditedMachine>(_ current: Stored<Machine>, detail: String) throws -> SignoffError {
        let state = try JSONDecoder().decode(JSONValue.self, from: StoredForm.encoder().encode(current.machine))
        return SignoffError(.versionConflict, detail, extra: [
            "current_version": .int(current.version),
            "current_state": .string(current.machine.stateName),
            "current": state,
        ])
    }
}

/// Work a transition's emitted event causes in the same transaction (the outbox serves what may
/// happen later). Only `TransitionStore.finish` calls reactions, and only for the events a
/// reaction declares.
protocol TransitionReaction: Sendable {
    /// The emitted events this reaction takes.
    static var events: Set<String> { get }

    func react(to event: DomainEvent, subjectKind: String, subjectID: UUID, at now: Date,
               on connection: PostgresConnection, logger: Logger) async throws
}

// MARK: - The audit row

/// One row of the audit trail, before the database chains it. Built only by `finish`.
private struct AuditEntry: Sendable {
    var subjectKind: String
    var subjectID: UUID
    var event: String
    var fromState: String?
    var toState: String
    var actor: Principal
    var actingAs: RoleAssignment?
    var reason: String?
    var payload: [String: JSONValue]
    var at: Date
    var requestID: String?
}

/// What a transition writes besides the instance (`TransitionStore.finish`), private to the
/// door, in one round trip: the audit row (the database trigger numbers and chains it), the
/// outbox rows, the instance's timers when its due moments changed, and the response kept with
/// the `Idempotency-Key`. The parts touch different tables and none reads another's rows, so
/// they can be one statement; the instance's own `UPDATE` goes first, as the audit trigger
/// reads the seq it advanced.
private struct FinishStatement: PostgresPreparedStatement {
    static let name = "signoff_finish"
    typealias Row = Int
    static let sql = Prepared.marker + """
        WITH audit AS (
            INSERT INTO audit_events (subject_kind, subject_id, seq, event, from_state, to_state, actor_user_id, actor_name,
                                      actor_role, actor_unit_id, actor_unit_path, reason, payload, at, request_id, hash)
            VALUES ($1, $2, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, ''::bytea)
            RETURNING 1
        ), dropped AS (
            DELETE FROM timers
             WHERE $15::bool AND instance_id = $2 AND fired_at IS NULL AND NOT (key = ANY($16::text[]))
        ), timed AS (
            INSERT INTO timers (key, instance_id, kind, name, due_at, payload, created_at, next_attempt_at)
            SELECT k, $2::uuid, $1::text, n, d, p::jsonb, $13::timestamptz, d
              FROM unnest($16::text[], $17::text[], $18::timestamptz[], $19::text[]) AS t(k, n, d, p)
             WHERE $15::bool
            ON CONFLICT (key) DO NOTHING
        ), queued AS (
            INSERT INTO outbox (name, key, subject_kind, subject_id, payload, created_at, delivered_at, notified_at)
            SELECT n, k, $1::text, $2::uuid, p::jsonb, $13::timestamptz, CASE WHEN d THEN $13::timestamptz END,
                   CASE WHEN o THEN $13::timestamptz END
              FROM unnest($20::text[], $21::text[], $22::text[], $23::bool[], $24::bool[]) AS q(n, k, p, d, o)
            ON CONFLICT (key) DO NOTHING
        ), kept AS (
            INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at)
            SELECT $25::uuid, $26::text, $27::bytea, $28::int4, $29::bytea, $13::timestamptz WHERE $26::text IS NOT NULL
        )
        SELECT count(*)::int8 FROM audit
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .text, .uuid, .text, .text, .text, .uuid, .text, .text, .uuid, .text, .text, .text, .timestamptz, .text,
        .bool, .textArray, .textArray, .timestamptzArray, .textArray,
        .textArray, .textArray, .textArray, .boolArray, .boolArray,
        .uuid, .text, .bytea, .int8, .bytea,
    ]

    /// The outbox rows, one element each; `delivered` and `notified` mark a row done at once
    /// for a consumer that does not take its name.
    struct Queued {
        var names: [String] = []
        var keys: [String] = []
        var payloads: [String] = []
        var delivered: [Bool] = []
        var notified: [Bool] = []
    }

    var audit: AuditEntry
    var timers: TimerStore.Plan?
    var queued: Queued
    var kept: (user: UUID, request: IdempotencyRequest, response: StoredResponse)?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 29)
        let entry = self.audit
        bindings.append(entry.subjectKind)
        bindings.append(entry.subjectID)
        bindings.append(entry.event)
        bindings.append(entry.fromState)
        bindings.append(entry.toState)
        bindings.append(entry.actor.userID == Principal.systemUserID ? nil : entry.actor.userID)
        bindings.append(entry.actor.displayName)
        bindings.append(entry.actingAs?.role.rawValue)
        bindings.append(entry.actingAs?.unitID)
        bindings.append(entry.actingAs?.unitPath.description)
        bindings.append(entry.reason)
        bindings.append(try StoreCoding.json(entry.payload))
        bindings.append(entry.at)
        bindings.append(entry.requestID)
        bindings.append(self.timers != nil)
        bindings.append(self.timers?.keys ?? [])
        bindings.append(self.timers?.names ?? [])
        bindings.append(self.timers?.dues ?? [])
        bindings.append(self.timers?.payloads ?? [])
        bindings.append(self.queued.names)
        bindings.append(self.queued.keys)
        bindings.append(self.queued.payloads)
        bindings.append(self.queued.delivered)
        bindings.append(self.queued.notified)
        bindings.append(self.kept?.user)
        bindings.append(self.kept?.request.key)
        try bindings.append(self.kept.map { Data($0.request.requestHash) })
        bindings.append(self.kept.map { $0.response.status })
        try bindings.append(self.kept?.response.body)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int.self) }
}

/// The version-checked write of an instance's new state and projection (`TransitionStore.apply`),
/// private to the door;
/// it advances the instance's audit seq, the chain head its audit row must follow (schema 0014).
private struct UpdateInstanceStatement: PostgresPreparedStatement {
    /// A fixed name: PostgresNIO's default reflects the type's name on every call.
    static let name = "signoff_update_instance"
    typealias Row = Int
    static let sql = Prepared.marker + """
        UPDATE instances
           SET state_name = $1, state = $2::jsonb, version = version + 1,
               unit_path = $3::ltree, pending_role = $4, pending_since = $5, due_at = $6,
               policy_version = $7, subject_ref = $8, exclusive_key = $9, pending_level = $10,
               serial_number = $11, category = $12, headcount = $13, member_ids = $14,
               poor_members = $15, label = $16, schema_version = $17,
               audit_seq = audit_seq + 1, updated_at = $18
         WHERE id = $19 AND kind = $20 AND version = $21
        RETURNING version
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .text, .text, .text, .text, .timestamptz, .timestamptz, .text, .uuid, .text, .int8,
        .text, .text, .int8, .uuidArray, .int8, .text, .int8, .timestamptz, .uuid, .text, .int8,
    ]

    var stateName: String
    var state: String
    var unitPath: String
    var pendingRole: String?
    var pendingSince: Date?
    var dueAt: Date?
    var policyVersion: String?
    var subjectRef: UUID?
    var exclusiveKey: String?
    var pendingLevel: Int?
    var serialNumber: String?
    var category: String?
    var headcount: Int?
    var memberIDs: [UUID]?
    var poorMembers: Int?
    var label: String?
    var schemaVersion: Int
    var now: Date
    var id: UUID
    var kind: String
    var version: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 21)
        bindings.append(self.stateName)
        bindings.append(self.state)
        bindings.append(self.unitPath)
        bindings.append(self.pendingRole)
        bindings.append(self.pendingSince)
        bindings.append(self.dueAt)
        bindings.append(self.policyVersion)
        bindings.append(self.subjectRef)
        bindings.append(self.exclusiveKey)
        bindings.append(self.pendingLevel)
        bindings.append(self.serialNumber)
        bindings.append(self.category)
        bindings.append(self.headcount)
        bindings.append(self.memberIDs)
        bindings.append(self.poorMembers)
        bindings.append(self.label)
        bindings.append(self.schemaVersion)
        bindings.append(self.now)
        bindings.append(self.id)
        bindings.append(self.kind)
        bindings.append(self.version)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int.self) }
}
