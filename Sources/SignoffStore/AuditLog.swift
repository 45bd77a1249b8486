import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// A stored audit row, as shown to auditors.
public struct AuditRecord: Sendable, Codable, Equatable {
    public var id: Int
    public var subjectKind: String
    public var subjectID: UUID
    public var seq: Int
    public var event: String
    public var fromState: String?
    public var toState: String
    public var actorUserID: UUID?
    public var actorName: String
    public var actorRole: String?
    public var actorUnitPath: String?
    public var reason: String?
    public var payload: JSONValue
    public var at: Date
    public var requestID: String?
    public var hash: String
    public var prevHash: String?
}

/// What `audit verify` found.
public struct AuditVerification: Sendable, Equatable {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var rowID: Int?
        public var subjectID: UUID
        public var seq: Int?
        public var message: String
        public var description: String {
            if let rowID, let seq {
                return "audit row \(rowID) (subject \(subjectID), seq \(seq)): \(self.message)"
            }
            return "subject \(subjectID): \(self.message)"
        }
    }

    public var rowsChecked: Int
    public var subjectsChecked: Int
    /// The first broken row (lowest id), if any.
    public var firstBrokenRow: Problem?
    /// Subjects whose head or current state disagree with their last audited row.
    public var subjectProblems: [Problem]

    public var isIntact: Bool { self.firstBrokenRow == nil && self.subjectProblems.isEmpty }
}

public enum AuditLog {
    /// The name recorded for actions the service takes by itself.
    public static let systemName = "system"

    public static func history(subjectID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [AuditRecord] {
        let rows = try await connection.query("""
            SELECT id, subject_kind, subject_id, seq, event, from_state, to_state, actor_user_id, actor_name, actor_role,
                   actor_unit_path, reason, payload::text, at, request_id, encode(hash, 'hex'), encode(prev_hash, 'hex')
              FROM audit_events WHERE subject_id = \(subjectID) ORDER BY seq
            """, logger: logger)
        var records: [AuditRecord] = []
        let decoder = StoredForm.decoder()
        for try await (id, kind, subject, seq, event, from, to, actorID, actorName, role, unitPath, reason, payload, at, requestID, hash, prevHash)
            in rows.decode((Int, String, UUID, Int, String, String?, String, UUID?, String, String?, String?, String?, String, Date, String?, String, String?).self)
        {
            records.append(AuditRecord(
                id: id, subjectKind: kind, subjectID: subject, seq: seq, event: event, fromState: from, toState: to,
                actorUserID: actorID, actorName: actorName, actorRole: role, actorUnitPath: unitPath, reason: reason,
                payload: try decoder.decode(JSONValue.self, from: Data(payload.utf8)), at: at, requestID: requestID,
                hash: hash, prevHash: prevHash
            ))
        }
        return records
    }

    /// Which subjects a check covers: everything, one record, or a range of subject ids (a
    /// background check's batch: after `after`, up to and including `through`, nil = open end).
    public enum Scope: Sendable, Equatable {
        case all
        case subject(UUID)
        case range(after: UUID?, through: UUID?)
    }

    /// Recomputes every chain and compares each subject's head and current state with its last row.
    public static func verify(on connection: PostgresConnection, logger: Logger) async throws -> AuditVerification {
        try await self.verify(.all, on: connection, logger: logger)
    }

    /// The same checks for the subjects of `scope`. Chains are per subject, so a subject's rows
    /// are checked together whatever the scope.
    public static func verify(_ scope: Scope, on connection: PostgresConnection, logger: Logger) async throws -> AuditVerification {
        func query(_ sql: (String) -> String, column: String) throws -> PostgresQuery {
            var bindings = PostgresBindings()
            var conditions: [String] = []
            switch scope {
            case .all:
                break
            case .subject(let id):
                try bindings.append(id)
                conditions.append("\(column) = $\(bindings.count)")
            case .range(let after, let through):
                if let after {
                    try bindings.append(after)
                    conditions.append("\(column) > $\(bindings.count)")
                }
                if let through {
                    try bindings.append(through)
                    conditions.append("\(column) <= $\(bindings.count)")
                }
            }
            let condition = conditions.isEmpty ? "true" : conditions.joined(separator: " AND ")
            return PostgresQuery(unsafeSQL: sql(condition), binds: bindings)
        }
        var verification = AuditVerification(rowsChecked: 0, subjectsChecked: 0, firstBrokenRow: nil, subjectProblems: [])
        let counts = try await connection.query(try query({ "SELECT count(*)::int, count(DISTINCT subject_id)::int FROM audit_events WHERE \($0)" }, column: "subject_id"), logger: logger)
        for try await (rows, subjects) in counts.decode((Int, Int).self) {
            verification.rowsChecked = rows
            verification.subjectsChecked = subjects
        }
        let broken = try await connection.query(try query({ """
            SELECT id, subject_id, seq,
                   hash <> audit_hash(a) AS bad_hash,
                   prev_hash IS DISTINCT FROM lag(hash) OVER w AS bad_link,
                   seq <> coalesce(lag(seq) OVER w, 0) + 1 AS bad_seq
              FROM audit_events a
             WHERE \($0)
            WINDOW w AS (PARTITION BY subject_id ORDER BY seq, id)
            ORDER BY (hash <> audit_hash(a)
                      OR prev_hash IS DISTINCT FROM lag(hash) OVER w
                      OR seq <> coalesce(lag(seq) OVER w, 0) + 1) DESC, id
             LIMIT 1
            """ }, column: "a.subject_id"), logger: logger)
        for try await (id, subject, seq, badHash, badLink, badSeq) in broken.decode((Int, UUID, Int, Bool, Bool, Bool).self)
            where badHash || badLink || badSeq
        {
            let message = badHash
                ? "its hash does not match its contents: the row was altered after it was written"
                : badLink ? "its prev_hash does not match the previous row's hash: a row before it was removed or replaced"
                : "its sequence number is out of order: a row before it is missing"
            verification.firstBrokenRow = .init(rowID: id, subjectID: subject, seq: seq, message: message)
        }
        let heads = try await connection.query(try query({ """
            SELECT h.subject_id, h.seq, last.seq
              FROM audit_heads h
              LEFT JOIN LATERAL (SELECT seq, hash FROM audit_events e WHERE e.subject_id = h.subject_id
                                  ORDER BY seq DESC LIMIT 1) last ON true
             WHERE (last.hash IS DISTINCT FROM h.head_hash OR last.seq IS DISTINCT FROM h.seq) AND \($0)
             ORDER BY h.subject_id
            """ }, column: "h.subject_id"), logger: logger)
        for try await (subject, headSeq, lastSeq) in heads.decode((UUID, Int, Int?).self) {
            verification.subjectProblems.append(.init(
                rowID: nil, subjectID: subject, seq: nil,
                message: "its stored chain head (seq \(headSeq)) does not match its last audit row (seq \(lastSeq.map(String.init) ?? "none")): rows were removed or the head was changed"
            ))
        }
        let states = try await connection.query(try query({ """
            SELECT i.id, i.state_name, last.to_state
              FROM instances i
              LEFT JOIN LATERAL (SELECT to_state FROM audit_events e WHERE e.subject_id = i.id
                                  ORDER BY seq DESC LIMIT 1) last ON true
             WHERE last.to_state IS DISTINCT FROM i.state_name AND \($0)
             ORDER BY i.id
            """ }, column: "i.id"), logger: logger)
        for try await (subject, state, audited) in states.decode((UUID, String, String?).self) {
            verification.subjectProblems.append(.init(
                rowID: nil, subjectID: subject, seq: nil,
                message: "its current state ‘\(state)’ differs from its last audited state ‘\(audited ?? "none")’: the state was changed outside the transition path"
            ))
        }
        let ends = try await connection.query(try query({ """
            SELECT i.id, i.audit_seq, last.seq
              FROM instances i
              LEFT JOIN LATERAL (SELECT max(seq) AS seq FROM audit_events e WHERE e.subject_id = i.id) last ON true
             WHERE (i.audit_seq IS NULL OR last.seq IS DISTINCT FROM i.audit_seq) AND \($0)
             ORDER BY i.id
            """ }, column: "i.id"), logger: logger)
        for try await (subject, recorded, lastSeq) in ends.decode((UUID, Int?, Int?).self) {
            verification.subjectProblems.append(.init(
                rowID: nil, subjectID: subject, seq: nil,
                message: "its record says its last transition is audit seq \(recorded.map(String.init) ?? "none"), but its trail ends at seq \(lastSeq.map(String.init) ?? "none"): rows were cut from the end of the trail"
            ))
        }
        return verification
    }
}
