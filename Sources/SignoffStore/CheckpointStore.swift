import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// The checkpoints 卡点: the log of checks and turn-backs (each a `CheckpointCheck` through the
/// transition path), the duty roster 值班 (`TransitionStore.write`), and the report.
public struct CheckpointStore: Sendable {
    public let transitions: TransitionStore
    public let policies: PolicyCatalog

    public init(transitions: TransitionStore, policies: PolicyCatalog) {
        self.transitions = transitions
        self.policies = policies
    }

    var database: Database { self.transitions.database }
    var logger: Logger { self.database.logger }

    public func policy() throws -> CheckpointPolicy { try self.policies.checkpointPolicy() }

    // MARK: The log

    /// What the person at the checkpoint sends for one check.
    public struct CheckRequest: Sendable {
        public var checkpoint: String
        public var direction: CheckpointCheck.Direction
        public var subject: String
        public var decision: CheckpointCheck.Decision
        /// The `SO1.` text read from the QR code, if a credential was shown.
        public var credential: String?
        public var note: String?
        public var checkedAt: Date?

        public init(checkpoint: String, direction: CheckpointCheck.Direction, subject: String, decision: CheckpointCheck.Decision,
                    credential: String?, note: String?, checkedAt: Date?) {
            self.checkpoint = checkpoint
            self.direction = direction
            self.subject = subject
            self.decision = decision
            self.credential = credential
            self.note = note
            self.checkedAt = checkedAt
        }
    }

    /// Records a check: the credential verified here against the published keys and the
    /// revocation list as of the check, the roster of the checkpoint's shift, then one transition.
    public func record(
        _ request: CheckRequest, by actor: Principal, metadata: RequestMetadata,
        render: TransitionStore.Render<CheckpointCheck>? = nil
    ) async throws -> TransitionOutcome<CheckpointCheck> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.record(request, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    func record(
        _ request: CheckRequest, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<CheckpointCheck>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<CheckpointCheck> {
        let policy = try self.policy()
        let now = self.transitions.clock.now()
        let at = request.checkedAt ?? now
        var checked: CheckpointCheck.CheckedCredential?
        if let text = request.credential?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            let verification = try await self.verify(text, at: at, on: connection)
            checked = CheckpointCheck.CheckedCredential(verification)
            if checked == nil, request.decision == .release {
                throw SignoffError.invalidValue("credential", "The credential's signature does not hold 签名无效: it may not be let through.")
            }
        }
        let township = try await self.townshipPath(on: connection)
        let slot = policy.shift(at: at)
        var onDuty: [CheckpointCheck.OnDuty] = []
        if let slot {
            onDuty = try await self.onDuty(checkpoint: request.checkpoint, day: slot.day, shift: slot.shift.code, on: connection)
        }
        return try await self.transitions.start(
            CheckpointCheck.self,
            CheckpointCheck.Start(checkpoint: request.checkpoint, direction: request.direction, subject: request.subject,
                                  decision: request.decision, credential: checked, note: request.note, checkedAt: request.checkedAt,
                                  onDuty: onDuty, policy: policy, townshipPath: township),
            by: actor, metadata: metadata, render: render, on: connection)
    }

    /// Checks a credential's text as a checkpoint would, with the revocation list as it stands.
    public func verify(_ text: String, at date: Date) async throws -> CredentialVerification {
        try await self.database.withConnection { try await self.verify(text, at: date, on: $0) }
    }

    func verify(_ text: String, at date: Date, on connection: PostgresConnection) async throws -> CredentialVerification {
        guard let keys = self.transitions.signingKeys else { return .unknownKey("") }
        guard let signed = SignedCredential.parse(text) else { return .malformed }
        let rows = try await connection.query("""
            SELECT number FROM credentials
             WHERE kind = \(signed.credential.kind.rawValue) AND number = \(signed.credential.number) AND revoked_at IS NOT NULL
            """, logger: self.logger)
        var revoked = Set<String>()
        for try await number in rows.decode(String.self) { revoked.insert(number) }
        return keys.verifier(revoked: revoked).verify(signed, at: date)
    }

    func townshipPath(on connection: PostgresConnection) async throws -> UnitPath {
        let rows = try await connection.query("SELECT path::text FROM units WHERE parent_id IS NULL", logger: self.logger)
        for try await path in rows.decode(String.self) { return try UnitPath(path) }
        throw SignoffError.notFound("The township")
    }

    // MARK: The roster

    /// One leader on duty at a checkpoint for a shift of a day.
    public struct DutyAssignment: Sendable, Equatable {
        public var id: UUID
        public var checkpoint: String
        /// `2020-02-16`, China time.
        public var day: String
        public var shift: String
        public var userID: UUID
        public var name: String
    }

    /// A person who may be put on the roster, with the roles that qualify them.
    public struct Leader: Sendable, Equatable {
        public var userID: UUID
        public var name: String
        public var roles: [Role]
    }

    func onDuty(checkpoint: String, day: String, shift: String, on connection: PostgresConnection) async throws -> [CheckpointCheck.OnDuty] {
        let rows = try await connection.query("""
            SELECT u.id, u.display_name FROM duty_assignments d JOIN users u ON u.id = d.user_id
             WHERE d.checkpoint = \(checkpoint) AND d.day = \(day)::date AND d.shift = \(shift)
             ORDER BY u.display_name, u.id
            """, logger: self.logger)
        var people: [CheckpointCheck.OnDuty] = []
        for try await (id, name) in rows.decode((UUID, String).self) { people.append(.init(userID: id, name: name)) }
        return people
    }

    /// The roster from `firstDay` for `days` days, by day, checkpoint and shift.
    public func roster(from firstDay: String, days: Int) async throws -> [DutyAssignment] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT d.id, d.checkpoint, to_char(d.day, 'YYYY-MM-DD'), d.shift, d.user_id, u.display_name
                  FROM duty_assignments d JOIN users u ON u.id = d.user_id
                 WHERE d.day >= \(firstDay)::date AND d.day < \(firstDay)::date + \(days)::integer
                 ORDER BY d.day, d.checkpoint, d.shift, u.display_name
                """, logger: self.logger)
            var list: [DutyAssignment] = []
            for try await (id, checkpoint, day, shift, user, name) in rows.decode((UUID, String, String, String, UUID, String).self) {
                list.append(DutyAssignment(id: id, checkpoint: checkpoint, day: day, shift: shift, userID: user, name: name))
            }
            return list
        }
    }

    /// Everyone holding a duty role of the policy.
    public func leaders() async throws -> [Leader] {
        try await self.database.withConnection { try await self.leaders(on: $0) }
    }

    func leaders(on connection: PostgresConnection) async throws -> [Leader] {
        let roles = try self.policy().dutyRoles
        do {
            let rows = try await connection.query("""
                SELECT u.id, u.display_name, array_agg(DISTINCT r.role ORDER BY r.role)
                  FROM users u JOIN role_assignments r ON r.user_id = u.id
                 WHERE r.role = ANY(\(roles.map(\.rawValue)))
                 GROUP BY u.id, u.display_name ORDER BY u.display_name, u.id
                """, logger: self.logger)
            var list: [Leader] = []
            for try await (id, name, held) in rows.decode((UUID, String, [String]).self) {
                list.append(Leader(userID: id, name: name, roles: held.compactMap(Role.init(rawValue:))))
            }
            return list
        }
    }

    public struct Assignment: Sendable {
        public var checkpoint: String
        public var day: String
        public var shift: String
        public var userID: UUID

        public init(checkpoint: String, day: String, shift: String, userID: UUID) {
            self.checkpoint = checkpoint
            self.day = day
            self.shift = shift
            self.userID = userID
        }
    }

    /// Puts a leader on the roster (the township office), in the caller's write.
    public func assign(_ assignment: Assignment, by actor: Principal, on connection: PostgresConnection) async throws -> DutyAssignment {
        let policy = try self.policy()
        let township = try await self.townshipPath(on: connection)
        _ = try actor.assignment(as: .admin, covering: township)
        guard policy.checkpoint(assignment.checkpoint) != nil else {
            throw SignoffError.invalidValue("checkpoint", "Choose one of the township's checkpoints.")
        }
        guard let shift = policy.shift(assignment.shift) else { throw SignoffError.invalidValue("shift", "Choose one of the shifts 班次.") }
        guard Self.isDay(assignment.day) else { throw SignoffError.invalidValue("day", "Give the day as 2020-02-16.") }
        let leader = try await self.leaders(on: connection).first { $0.userID == assignment.userID }
        guard let leader else {
            throw SignoffError.invalidValue("user_id", "Only a leader (\(policy.dutyRoles.map(\.chineseName).joined(separator: "、"))) may be on duty.")
        }
        let id = UUID()
        do {
            try await connection.query("""
                INSERT INTO duty_assignments (id, checkpoint, day, shift, user_id, assigned_by, assigned_at)
                VALUES (\(id), \(assignment.checkpoint), \(assignment.day)::date, \(shift.code), \(leader.userID), \(actor.userID),
                        \(self.transitions.clock.now()))
                """, logger: self.logger)
        } catch {
            let translated = Database.translate(error)
            if let signoff = translated as? SignoffError, signoff.code == .duplicate {
                throw SignoffError(.duplicate, "\(leader.name) is already on duty there for that shift.")
            }
            throw translated
        }
        return DutyAssignment(id: id, checkpoint: assignment.checkpoint, day: assignment.day, shift: shift.code,
                              userID: leader.userID, name: leader.name)
    }

    /// Takes a leader off the roster (the township office), in the caller's write.
    public func unassign(_ id: UUID, by actor: Principal, on connection: PostgresConnection) async throws {
        let township = try await self.townshipPath(on: connection)
        _ = try actor.assignment(as: .admin, covering: township)
        let rows = try await connection.query("DELETE FROM duty_assignments WHERE id = \(id) RETURNING id", logger: self.logger)
        var deleted = false
        for try await _ in rows.decode(UUID.self) { deleted = true }
        guard deleted else { throw SignoffError.notFound("This duty assignment") }
    }

    /// Whether `text` is a real calendar day written as `2020-02-16`.
    public static func isDay(_ text: String) -> Bool {
        guard text.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", options: .regularExpression) != nil else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3_600)!  // a fixed offset always exists
        let parts = text.split(separator: "-").compactMap { Int($0) }
        let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
        return date.map { CheckpointPolicy.day($0) == text } ?? false
    }

    // MARK: Reading the log

    /// One row of the report: a checkpoint's day.
    public struct DayCount: Sendable, Equatable {
        public var checkpoint: String
        public var day: String
        public var released: Int
        public var turnedBack: Int
    }

    /// Checks and turn-backs by checkpoint and China-time day of recording, newest day first.
    public func report() async throws -> [DayCount] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT category, to_char((created_at AT TIME ZONE 'Asia/Shanghai')::date, 'YYYY-MM-DD') AS day,
                       count(*) FILTER (WHERE state_name = 'released')::int, count(*) FILTER (WHERE state_name = 'turned_back')::int
                  FROM instances WHERE kind = \(CheckpointCheck.kind)
                 GROUP BY category, day ORDER BY day DESC, category
                """, logger: self.logger)
            var list: [DayCount] = []
            for try await (checkpoint, day, released, turned) in rows.decode((String?, String, Int, Int).self) {
                list.append(DayCount(checkpoint: checkpoint ?? "", day: day, released: released, turnedBack: turned))
            }
            return list
        }
    }

    /// The latest checks, newest first.
    public func recent(limit: Int = 20) async throws -> [Stored<CheckpointCheck>] {
        let ids: [UUID] = try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT id FROM instances WHERE kind = \(CheckpointCheck.kind) ORDER BY created_at DESC, id LIMIT \(limit)
                """, logger: self.logger)
            var ids: [UUID] = []
            for try await id in rows.decode(UUID.self) { ids.append(id) }
            return ids
        }
        var list: [Stored<CheckpointCheck>] = []
        for id in ids { list.append(try await self.transitions.load(CheckpointCheck.self, id: id)) }
        return list
    }
}
