import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// A stored signed audit statement (`audit_checkpoints`).
public struct AuditCheckpoint: Sendable, Equatable {
    public enum Trigger: String, Sendable {
        /// Written by the service once a China-time day.
        case daily
        /// Written by `signoff audit checkpoint`.
        case manual
    }

    public var id: UUID
    public var createdAt: Date
    public var trigger: Trigger
    public var records: Int
    public var subjects: Int
    public var merkleRoot: String
    public var keyID: String
    public var statement: String

    /// The file name an auditor keeps it under, with the UTC time it was made.
    public var filename: String {
        let stamp = AuditStatement.stamp(self.createdAt).replacingOccurrences(of: ":", with: "")
        return "signoff-audit-checkpoint-\(stamp).txt"
    }
}

/// What `audit verify --against` found.
public struct AuditCheckpointVerification: Sendable, Equatable {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var subjectID: UUID
        public var subjectKind: String
        /// The seq the statement names for the subject.
        public var seq: Int
        public var message: String

        public var description: String { "subject \(self.subjectKind)/\(self.subjectID.uuidString.lowercased()) (seq \(self.seq) at the checkpoint): \(self.message)" }
    }

    public var statement: AuditStatement
    /// Chains recomputed and rows read.
    public var subjectsChecked: Int
    public var rowsChecked: Int
    /// Whether the heads found now give the signed root.
    public var rootMatches: Bool
    /// Every subject whose history as of the statement is no longer there as it was.
    public var problems: [Problem]

    public var isIntact: Bool { self.rootMatches && self.problems.isEmpty }
}

/// Writes signed audit statements and checks a trail against one.
///
/// A statement is read from the audit rows themselves (each head's hash is the hash of the row
/// at the head's seq), in one repeatable-read snapshot so the count and the heads agree.
/// Checking recomputes every row of each listed subject up to the listed seq (its hash from its
/// contents, its link to the previous row, its seq) and compares the last hash with the listed
/// head: a chain cut short, a row removed, altered or replaced is named by its subject, even
/// when the triggers were disabled and the heads and instances rewound to match.
public struct AuditCheckpointStore: Sendable {
    public let database: Database
    public let clock: any WallClock
    public let keys: SigningKeys
    /// Subjects per query when checking.
    public var batchSize = 2_000

    public init(database: Database, clock: any WallClock, keys: SigningKeys) {
        self.database = database
        self.clock = clock
        self.keys = keys
    }

    var logger: Logger { self.database.logger }

    // MARK: Writing

    /// Writes a statement of the trail as it is now.
    public func write(trigger: AuditCheckpoint.Trigger = .manual) async throws -> AuditCheckpoint {
        let written = try await self.database.transaction(level: .repeatableRead) { connection in
            return try await self.write(trigger: trigger, on: connection)
        }
        // Unreachable for a manual statement: only daily ones share a unique day.
        guard let written else { throw SignoffError(.internalError, "The checkpoint was not written.") }
        return written
    }

    /// The daily statement, unless today's (China time) exists: called on every round of the
    /// time-driven worker, so each instance tries and exactly one writes it.
    @discardableResult
    public func writeDailyIfDue() async throws -> AuditCheckpoint? {
        let day = ChinaDay(containing: self.clock.now()).text
        if try await self.hasDaily(day) { return nil }
        do {
            return try await self.database.transaction(level: .repeatableRead) { connection -> AuditCheckpoint? in
                // Another instance writing it now holds this lock: let it.
                let locked = try await connection.query("""
                    SELECT pg_try_advisory_xact_lock(hashtextextended('audit_checkpoint_daily', 0))
                    """, logger: self.logger)
                for try await gotIt in locked.decode(Bool.self) where !gotIt { return nil }
                let existing = try await connection.query("""
                    SELECT 1 FROM audit_checkpoints WHERE trigger = 'daily' AND day = \(day)::date
                    """, logger: self.logger)
                for try await _ in existing { return nil }
                return try await self.write(trigger: .daily, on: connection)
            }
        } catch {
            // Written by another instance between our snapshot and our lock (a serialization failure).
            if try await self.hasDaily(day) { return nil }
            throw error
        }
    }

    private func hasDaily(_ day: String) async throws -> Bool {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT 1 FROM audit_checkpoints WHERE trigger = 'daily' AND day = \(day)::date
                """, logger: self.logger)
            for try await _ in rows { return true }
            return false
        }
    }

    /// In a repeatable-read transaction, so the heads are one snapshot; nil when the daily one
    /// of the day was written meanwhile.
    private func write(trigger: AuditCheckpoint.Trigger, on connection: PostgresConnection) async throws -> AuditCheckpoint? {
        let now = self.clock.now()
        let rows = try await connection.query("""
            SELECT subject_id, subject_kind, seq, head_hash FROM audit_chain_heads WHERE head_hash IS NOT NULL
            """, logger: self.logger)
        var heads: [AuditStatement.Head] = []
        for try await (subject, kind, seq, hash) in rows.decode((UUID, String, Int, Data).self) {
            heads.append(AuditStatement.Head(subjectID: subject, subjectKind: kind, seq: seq, hash: Array(hash)))
        }
        let statement = try AuditStatement.sign(createdAt: now, heads: heads, keyID: self.keys.keyID, with: self.keys.current)
        let checkpoint = AuditCheckpoint(
            id: UUID(), createdAt: statement.createdAt, trigger: trigger, records: statement.records, subjects: statement.subjects,
            merkleRoot: statement.merkleRootHex, keyID: statement.keyID, statement: statement.text)
        let inserted = try await connection.query("""
            INSERT INTO audit_checkpoints (id, created_at, day, trigger, records, subjects, merkle_root, key_id, statement)
            VALUES (\(checkpoint.id), \(checkpoint.createdAt), \(ChinaDay(containing: now).text)::date, \(trigger.rawValue),
                    \(checkpoint.records), \(checkpoint.subjects), \(checkpoint.merkleRoot), \(checkpoint.keyID), \(checkpoint.statement))
            ON CONFLICT DO NOTHING
            RETURNING id
            """, logger: self.logger)
        for try await _ in inserted { return checkpoint }
        return nil
    }

    // MARK: Reading

    public func recent(limit: Int = 10) async throws -> [AuditCheckpoint] {
        try await self.database.withConnection { connection in
            try await self.checkpoints(where: "true", [], limit: limit, on: connection)
        }
    }

    public func checkpoint(id: UUID) async throws -> AuditCheckpoint {
        let found = try await self.database.withConnection { connection in
            try await self.checkpoints(where: "id = $1", [id], limit: 1, on: connection).first
        }
        guard let found else { throw SignoffError.notFound("This checkpoint") }
        return found
    }

    private func checkpoints(where condition: String, _ binds: [UUID], limit: Int,
                             on connection: PostgresConnection) async throws -> [AuditCheckpoint] {
        var bindings = PostgresBindings()
        for bind in binds { bindings.append(bind) }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT id, created_at, trigger, records, subjects, merkle_root, key_id, statement
              FROM audit_checkpoints WHERE \(condition) ORDER BY created_at DESC, id LIMIT \(max(1, limit))
            """, binds: bindings), logger: self.logger)
        var found: [AuditCheckpoint] = []
        for try await (id, created, trigger, records, subjects, root, key, statement)
            in rows.decode((UUID, Date, String, Int, Int, String, String, String).self) {
            found.append(AuditCheckpoint(id: id, createdAt: created, trigger: AuditCheckpoint.Trigger(rawValue: trigger) ?? .manual,
                                         records: records, subjects: subjects, merkleRoot: root, keyID: key, statement: statement))
        }
        return found
    }

    // MARK: Checking

    /// Checks the trail against a statement file: refused (`AuditStatement.Refusal`) when the
    /// file itself is not a statement signed by a published key; otherwise every subject it
    /// lists is recomputed as of the statement.
    public static func verify(
        statementText: String, keys: [CredentialKey], database: Database, batchSize: Int = 2_000
    ) async throws -> AuditCheckpointVerification {
        let statement = try AuditStatement.parse(statementText)
        try statement.verify(keys: keys)
        var verification = AuditCheckpointVerification(statement: statement, subjectsChecked: 0, rowsChecked: 0,
                                                       rootMatches: false, problems: [])
        var found: [AuditStatement.Head] = []
        let logger = database.logger
        var start = 0
        while start < statement.heads.count {
            let batch = Array(statement.heads[start ..< min(statement.heads.count, start + max(1, batchSize))])
            start += batch.count
            let rows = try await database.withConnection { connection in
                try await connection.query("""
                    WITH want AS (
                        SELECT * FROM unnest(\(batch.map(\.subjectID))::uuid[], \(batch.map(\.seq))::int[]) AS w(subject_id, seq)
                    ),
                    chain AS (
                        SELECT e.subject_id, e.seq,
                               e.hash = audit_hash(e) AS hash_ok,
                               e.prev_hash IS NOT DISTINCT FROM lag(e.hash) OVER w AS link_ok,
                               e.seq = row_number() OVER w AS seq_ok
                          FROM audit_events e JOIN want ON want.subject_id = e.subject_id AND e.seq <= want.seq
                        WINDOW w AS (PARTITION BY e.subject_id ORDER BY e.seq, e.id)
                    ),
                    per AS (
                        SELECT subject_id, count(*)::int AS present,
                               min(seq) FILTER (WHERE NOT hash_ok) AS first_altered,
                               min(seq) FILTER (WHERE NOT (link_ok AND seq_ok)) AS first_gap
                          FROM chain GROUP BY subject_id
                    )
                    SELECT want.subject_id, coalesce(per.present, 0), per.first_altered, per.first_gap,
                           (SELECT hash FROM audit_events e WHERE e.subject_id = want.subject_id AND e.seq = want.seq ORDER BY e.id LIMIT 1)
                      FROM want LEFT JOIN per ON per.subject_id = want.subject_id
                    """, logger: logger)
                    .collect()
            }
            var byID: [UUID: (present: Int, altered: Int?, gap: Int?, hash: [UInt8]?)] = [:]
            for row in rows {
                let (subject, present, altered, gap, hash) = try row.decode((UUID, Int, Int?, Int?, Data?).self)
                byID[subject] = (present, altered, gap, hash.map(Array.init))
            }
            for head in batch {
                verification.subjectsChecked += 1
                let now = byID[head.subjectID] ?? (0, nil, nil, nil)
                verification.rowsChecked += now.present
                found.append(AuditStatement.Head(subjectID: head.subjectID, subjectKind: head.subjectKind, seq: head.seq,
                                                 hash: now.hash ?? []))
                let message: String?
                if now.present == 0 {
                    message = "its whole history (\(head.seq) rows) is gone"
                } else if now.present < head.seq || now.hash == nil {
                    message = "only \(now.present) of its \(head.seq) rows are left: history that existed at the checkpoint was cut"
                } else if let altered = now.altered {
                    message = "its row seq \(altered) does not match its hash: it was altered after it was written"
                } else if let gap = now.gap {
                    message = "its chain breaks at seq \(gap): a row before it was removed or replaced"
                } else if now.hash != head.hash {
                    message = "its row seq \(head.seq) is not the one signed at the checkpoint: the history was rewritten"
                } else {
                    message = nil
                }
                if let message {
                    verification.problems.append(.init(subjectID: head.subjectID, subjectKind: head.subjectKind, seq: head.seq, message: message))
                }
            }
        }
        verification.rootMatches = AuditStatement.root(of: found) == statement.merkleRoot
        return verification
    }
}

extension SigningKeys {
    /// The public keys listed in a data folder (`signing-keys.json`), without touching the private key.
    public static func publishedKeys(dataFolder: URL) throws -> [CredentialKey] {
        try Self.readList(at: dataFolder.appendingPathComponent(Self.listFileName))
    }

    /// Keys from a file in either form: the data folder's `signing-keys.json`, or what
    /// `GET /.well-known/signoff-keys` answers (the same fields, with `alg`).
    public static func publishedKeys(file: URL) throws -> [CredentialKey] {
        struct Published: Decodable {
            var keys: [Key]
            struct Key: Decodable {
                var kid: String
                var publicKey: String
                var notBefore: Date
                var notAfter: Date?

                enum CodingKeys: String, CodingKey, CaseIterable {
                    case kid
                    case publicKey = "public_key"
                    case notBefore = "not_before"
                    case notAfter = "not_after"
                }
            }

            enum CodingKeys: String, CodingKey, CaseIterable {
                case keys
            }
        }
        do {
            let list = try StoredForm.decoder().decode(Published.self, from: Data(contentsOf: file))
            return list.keys.map { CredentialKey(keyID: $0.kid, publicKey: $0.publicKey, notBefore: $0.notBefore, notAfter: $0.notAfter) }
        } catch {
            throw SignoffError(.invalidValue, "The key list \(file.path) cannot be read: \(error)")
        }
    }
}
