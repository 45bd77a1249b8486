import Crypto
import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// A whole-trail chain check (`audit verify`) as a background job whose progress is a row of
/// `audit_checks`: whichever instance a poll reaches reads the same progress, and each batch of
/// subjects is checked under the job row's lock, so two instances never count a batch twice.
public struct AuditCheck: Sendable, Equatable {
    public enum Status: String, Sendable {
        case running, intact, broken, failed
    }

    public var id: UUID
    public var status: Status
    public var startedBy: UUID
    public var startedAt: Date
    public var heartbeatAt: Date
    public var finishedAt: Date?
    public var subjectsTotal: Int
    public var rowsTotal: Int
    public var subjectsChecked: Int
    public var rowsChecked: Int
    public var firstBrokenRow: Int?
    public var firstBrokenText: String?
    public var subjectProblems: Int
    public var problemsText: String
    public var errorText: String?
}

public struct AuditCheckStore: Sendable {
    public let database: Database
    public let clock: any WallClock
    /// Subjects per batch: small enough that one batch holds a connection well under its bound.
    public var batchSize: Int = 2_000
    /// A running job whose heartbeat is older than this is taken over by the next poll.
    public static let staleAfter: TimeInterval = 30

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    var logger: Logger { self.database.logger }

    /// Starts a check, or returns the one already running.
    public func start(by userID: UUID) async throws -> AuditCheck {
        let now = self.clock.now()
        let id = try await self.database.transaction { connection -> UUID in
            if let running = try await self.runningID(on: connection) { return running }
            let counts = try await connection.query(
                "SELECT (SELECT count(*)::int FROM audit_chain_heads), (SELECT count(*)::int FROM audit_events)", logger: self.logger)
            var totals = (0, 0)
            for try await row in counts.decode((Int, Int).self) { totals = row }
            let id = UUID()
            try await connection.query("""
                INSERT INTO audit_checks (id, status, started_by, started_at, heartbeat_at, subjects_total, rows_total)
                VALUES (\(id), 'running', \(userID), \(now), \(now), \(totals.0), \(totals.1))
                ON CONFLICT DO NOTHING
                """, logger: self.logger)
            // A check started at the same moment elsewhere won the one running slot.
            return try await self.runningID(on: connection) ?? id
        }
        return try await self.check(id: id)
    }

    private func runningID(on connection: PostgresConnection) async throws -> UUID? {
        let rows = try await connection.query("SELECT id FROM audit_checks WHERE status = 'running'", logger: self.logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    public func check(id: UUID) async throws -> AuditCheck {
        let found = try await self.database.withConnection { connection in
            try await self.checks(where: "id = $1", [id], limit: 1, on: connection).first
        }
        guard let found else { throw SignoffError.notFound("Audit check") }
        return found
    }

    public func recent(limit: Int = 5) async throws -> [AuditCheck] {
        try await self.database.withConnection { connection in
            try await self.checks(where: "true", [], limit: limit, on: connection)
        }
    }

    private func checks(where condition: String, _ binds: [any PostgresEncodable & Sendable], limit: Int, on connection: PostgresConnection) async throws -> [AuditCheck] {
        var bindings = PostgresBindings()
        for bind in binds { try bindings.append(bind) }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT id, status, started_by, started_at, heartbeat_at, finished_at, subjects_total, rows_total,
                   subjects_checked, rows_checked, first_broken_row, first_broken_text, subject_problems, problems_text, error_text
              FROM audit_checks WHERE \(condition) ORDER BY started_at DESC LIMIT \(max(1, limit))
            """, binds: bindings), logger: self.logger)
        var found: [AuditCheck] = []
        for try await row in rows.decode((UUID, String, UUID, Date, Date, Date?, Int, Int, Int, Int, Int?, String?, Int, String, String?).self) {
            found.append(AuditCheck(
                id: row.0, status: AuditCheck.Status(rawValue: row.1) ?? .failed, startedBy: row.2, startedAt: row.3, heartbeatAt: row.4,
                finishedAt: row.5, subjectsTotal: row.6, rowsTotal: row.7, subjectsChecked: row.8, rowsChecked: row.9,
                firstBrokenRow: row.10, firstBrokenText: row.11, subjectProblems: row.12, problemsText: row.13, errorText: row.14))
        }
        return found
    }

    /// Whether a running job has had no batch for a while (its instance stopped).
    public func isStale(_ check: AuditCheck) -> Bool {
        check.status == .running && self.clock.now().timeIntervalSince(check.heartbeatAt) > Self.staleAfter
    }

    /// Checks the next batch of subjects; false once the job is finished (or another
    /// instance holds the job row right now, which then carries it on).
    @discardableResult
    public func runBatch(id: UUID) async throws -> Bool {
        try await self.database.transaction { connection -> Bool in
            let rows = try await connection.query("""
                SELECT cursor_subject, first_broken_row FROM audit_checks
                 WHERE id = \(id) AND status = 'running' FOR UPDATE SKIP LOCKED
                """, logger: self.logger)
            var job: (UUID?, Int?)?
            for try await row in rows.decode((UUID?, Int?).self) { job = row }
            guard let (cursor, firstBroken) = job else { return false }
            let ends = try await connection.query("""
                SELECT subject_id FROM audit_chain_heads WHERE \(cursor)::uuid IS NULL OR subject_id > \(cursor)::uuid
                 ORDER BY subject_id OFFSET \(self.batchSize - 1) LIMIT 1
                """, logger: self.logger)
            var through: UUID?
            for try await end in ends.decode(UUID.self) { through = end }
            let found = try await AuditLog.verify(.range(after: cursor, through: through), on: connection, logger: self.logger)
            let now = self.clock.now()
            var broken: (Int, String)?
            if let row = found.firstBrokenRow, let rowID = row.rowID, firstBroken.map({ rowID < $0 }) ?? true {
                broken = (rowID, row.description)
            }
            let problems = found.subjectProblems.map(\.description).joined(separator: "\n")
            try await connection.query("""
                UPDATE audit_checks
                   SET rows_checked = rows_checked + \(found.rowsChecked), subjects_checked = subjects_checked + \(found.subjectsChecked),
                       cursor_subject = \(through)::uuid, heartbeat_at = \(now),
                       first_broken_row = coalesce(\(broken?.0)::bigint, first_broken_row),
                       first_broken_text = coalesce(\(broken?.1)::text, first_broken_text),
                       subject_problems = subject_problems + \(found.subjectProblems.count),
                       problems_text = CASE WHEN length(problems_text) > 4000 OR \(problems) = '' THEN problems_text
                                            WHEN problems_text = '' THEN \(problems) ELSE problems_text || E'\\n' || \(problems) END
                 WHERE id = \(id)
                """, logger: self.logger)
            guard through == nil else { return true }
            try await connection.query("""
                UPDATE audit_checks
                   SET status = CASE WHEN first_broken_row IS NULL AND subject_problems = 0 THEN 'intact' ELSE 'broken' END,
                       finished_at = \(now)
                 WHERE id = \(id)
                """, logger: self.logger)
            return false
        }
    }

    /// Runs batches until the job is finished; a failure is recorded on the job.
    public func runToEnd(id: UUID) async {
        do {
            while try await self.runBatch(id: id) {}
        } catch {
            self.logger.error("audit check failed", metadata: ["signoff.error": "\(String(reflecting: error))"])
            _ = try? await self.database.withConnection { connection in
                try await connection.query("""
                    UPDATE audit_checks SET status = 'failed', finished_at = \(self.clock.now()), error_text = \(Self.failureText(error))
                     WHERE id = \(id) AND status = 'running'
                    """, logger: self.logger)
            }
        }
    }

    /// What the page says about a failed run: the kind of failure, never the database's details.
    static func failureText(_ error: any Error) -> String {
        if let error = error as? SignoffError, error.code == .databaseUnavailable { return "数据库暂时连不上" }
        return "数据库出错"
    }

    // MARK: Chain heads

    /// The current head of every chain, as a dated text file: one line per subject with the
    /// head's SHA-256, and at the end the SHA-256 of all lines above it, so a later copy of the
    /// trail can be shown to still contain every head (nothing cut from any end).
    public func headsExport() async throws -> (filename: String, text: String) {
        let now = self.clock.now()
        let lines: [String] = try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT subject_kind, subject_id, seq, encode(head_hash, 'hex') FROM audit_chain_heads ORDER BY subject_id
                """, logger: self.logger)
            var lines: [String] = []
            for try await (kind, subject, seq, hash) in rows.decode((String, UUID, Int, String?).self) {
                lines.append("\(hash ?? "-")  \(kind)/\(subject.uuidString.lowercased())@\(seq)")
            }
            return lines
        }
        let formatter = ISO8601DateFormatter()
        let stamp = formatter.string(from: now)
        let header = [
            "# Signoff audit chain heads",
            "# exported-at: \(stamp)",
            "# heads: \(lines.count)",
            "# format: <sha256 of the chain's last row>  <kind>/<subject id>@<seq>",
        ]
        let body = lines.map { $0 + "\n" }.joined()
        let digest = Hex.encode(SHA256.hash(data: Data(body.utf8)))
        let text = header.joined(separator: "\n") + "\n" + body + "# sha256-of-lines: \(digest)\n"
        let day = String(stamp.prefix(10))
        return ("signoff-audit-heads-\(day).txt", text)
    }
}
