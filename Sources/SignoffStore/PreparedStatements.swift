import Foundation
import Logging
import PostgresNIO

/// The statements every signature runs, prepared once per connection instead of parsed and
/// planned anew each time (PostgresNIO keeps them by name per connection). Planning was about
/// half of PostgreSQL's work for a sign: the token check alone took 0.5 ms to plan and 0.1 ms
/// to run (issue 8, `docs/performance.md`).
///
/// Each names its parameters' types, so a first execution with a NULL cannot fix a type the
/// later ones would not match, and its SQL starts with `Prepared.marker`: PostgresNIO remembers a
/// failed preparation for the connection's life, so a connection on which one of these failed
/// for a reason other than its data is closed (`closeIfSpoiled`), and the pool opens a fresh one.
enum Prepared {
    static let marker = "/* signoff prepared */ "

    /// Whether `error` came from one of these statements and may have been its preparation
    /// (not a refusal of the row it wrote: a constraint, a trigger's check, a conflict).
    static func mayHavePoisoned(_ error: any Error) -> Bool {
        guard let psql = error as? PSQLError, psql.query?.sql.hasPrefix(Self.marker) == true else { return false }
        guard let state = psql.serverInfo?[.sqlState] else { return true }
        return !["22", "23", "40", "P0", "SO"].contains(String(state.prefix(2)))
    }

    /// Closes `connection` when `error` may have left a failed preparation on it (`mayHavePoisoned`).
    /// Called where statements fail: a lease's watched body and a transaction's rollback (which
    /// sees the error before it is translated).
    ///
    /// It waits for the close, so the connection is closed before its lease goes back to the
    /// pool: the next lease would otherwise be handed the same connection and its remembered
    /// failure.
    static func closeIfSpoiled(_ connection: PostgresConnection, by error: any Error, logger: Logger) async {
        guard Self.mayHavePoisoned(error), !connection.isClosed else { return }
        logger.warning("a prepared statement failed; closing its connection", metadata: ["signoff.error": "\(String(reflecting: error))"])
        try? await connection.close()
    }
}

extension PostgresConnection {
    /// Runs a prepared statement and collects its rows.
    func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await self.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }
}

/// The account behind a bearer token (`AccountStore.authenticate`).
struct TokenActorStatement: PostgresPreparedStatement {
    /// A fixed name: PostgresNIO's default reflects the type's name on every call.
    static let name = "signoff_token_actor"
    typealias Row = (UUID, String, UUID?, String)
    static let sql = Prepared.marker + """
        SELECT u.id, u.display_name, u.person_id,
               coalesce(json_agg(json_build_object('role', r.role, 'unit_id', x.id, 'unit_path', x.path::text))
                        FILTER (WHERE r.role IS NOT NULL), '[]')::text
          FROM auth_tokens t
          JOIN users u ON u.id = t.user_id
          JOIN instances i ON i.id = u.id AND i.kind = 'account' AND i.state_name = 'active'
          LEFT JOIN role_assignments r ON r.user_id = u.id
          LEFT JOIN units x ON x.id = r.unit_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2
         GROUP BY u.id
        """
    static let bindingDataTypes: [PostgresDataType] = [.bytea, .timestamptz]

    var tokenHash: Data
    var now: Date

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        try bindings.append(self.tokenHash)
        bindings.append(self.now)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// Counts one write in each of its buckets, in this session's shard, and returns each bucket's
/// count over all shards in the window (`WriteLimiter.admit`).
struct WriteHitStatement: PostgresPreparedStatement {
    /// A fixed name: PostgresNIO's default reflects the type's name on every call.
    static let name = "signoff_write_hit"
    typealias Row = (String, Int)
    static let sql = Prepared.marker + """
        WITH hit AS (
            INSERT INTO write_limits AS w (bucket, shard, window_start, hits)
            SELECT bucket, pg_backend_pid() % $2, $3, 1 FROM unnest($1::text[]) AS bucket
            ON CONFLICT (bucket, shard) DO UPDATE SET
                hits = CASE WHEN w.window_start = EXCLUDED.window_start THEN w.hits + 1 ELSE 1 END,
                window_start = EXCLUDED.window_start
            RETURNING bucket, shard, hits
        )
        SELECT h.bucket, (h.hits + coalesce((SELECT sum(o.hits) FROM write_limits o
                                              WHERE o.bucket = h.bucket AND o.shard <> h.shard
                                                AND o.window_start = $3), 0))::int
          FROM hit h
        """
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .int4, .timestamptz]

    var buckets: [String]
    var shards: Int32
    var windowStart: Date

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(self.buckets)
        bindings.append(self.shards)
        bindings.append(self.windowStart)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// An instance's stored form (`TransitionStore.load`).
struct LoadInstanceStatement: PostgresPreparedStatement {
    /// A fixed name: PostgresNIO's default reflects the type's name on every call.
    static let name = "signoff_load_instance"
    typealias Row = (String, Int, Date, Date, Int)
    static let sql = Prepared.marker + """
        SELECT state::text, version, created_at, updated_at, schema_version FROM instances WHERE id = $1 AND kind = $2
        """
    static let bindingDataTypes: [PostgresDataType] = [.uuid, .text]

    var id: UUID
    var kind: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(self.id)
        bindings.append(self.kind)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// Locks a user's `Idempotency-Key` for the transaction and returns the response kept with it,
/// if any (`TransitionStore.claimKey`).
struct ClaimKeyStatement: PostgresPreparedStatement {
    /// A fixed name: PostgresNIO's default reflects the type's name on every call.
    static let name = "signoff_claim_key"
    typealias Row = (Data, Int, Data)
    static let sql = Prepared.marker + """
        SELECT request_hash, status, body FROM idempotency_claim($1, $2, $3)
        """
    static let bindingDataTypes: [PostgresDataType] = [.uuid, .text, .text]

    var userID: UUID
    var key: String
    var lockName: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(self.userID)
        bindings.append(self.key)
        bindings.append(self.lockName)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// `ClaimKeyStatement` and `LoadInstanceStatement` in one round trip, for a transaction that
/// knows the instance it is about to move (`TransitionStore.transaction(prefetching:)`). The
/// instance is read in the statement's snapshot; the version-checked write catches a change
/// made after it, as it does for a separate load.
struct ClaimAndLoadStatement: PostgresPreparedStatement {
    static let name = "signoff_claim_and_load"
    typealias Row = (Data?, Int?, Data?, String?, Int?, Date?, Date?, Int?)
    static let sql = Prepared.marker + """
        SELECT c.request_hash, c.status, c.body, i.state::text, i.version, i.created_at, i.updated_at, i.schema_version::int8
          FROM (SELECT 1) AS one
          LEFT JOIN idempotency_claim($1, $2, $3) AS c ON true
          LEFT JOIN instances i ON i.id = $4 AND i.kind = $5
        """
    static let bindingDataTypes: [PostgresDataType] = [.uuid, .text, .text, .uuid, .text]

    var userID: UUID
    var key: String
    var lockName: String
    var id: UUID
    var kind: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(self.userID)
        bindings.append(self.key)
        bindings.append(self.lockName)
        bindings.append(self.id)
        bindings.append(self.kind)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
