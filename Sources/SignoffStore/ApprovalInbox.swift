import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// One travel pass application waiting for a signature.
public struct PendingApplication: Sendable {
    public var id: UUID
    public var version: Int
    public var application: PassApplication
    public var unitPath: UnitPath
    public var pendingSince: Date
    public var dueAt: Date?
    /// In "what is waiting for me": the delegation under which the reader signs it for someone
    /// else (代 X 签), if one is in force for this level and place.
    public var delegation: Delegation?
}

/// A page of an inbox, oldest first, with the cursor of the next page.
public struct PendingPage: Sendable {
    public var items: [PendingApplication]
    public var nextCursor: String?
}

/// Counts of pending applications, per level and per village.
public struct PendingSummary: Sendable, Equatable {
    public struct LevelCount: Sendable, Equatable {
        public var level: Int
        public var role: Role
        public var pending: Int
        public var overdue: Int
    }

    public struct VillageCount: Sendable, Equatable {
        public var unitID: UUID?
        public var name: String
        public var path: UnitPath
        public var pending: Int
        public var overdue: Int
    }

    public var levels: [LevelCount]
    public var villages: [VillageCount]
}

/// What an administrator asks of everything pending.
public struct PendingFilter: Sendable {
    public var role: Role?
    /// The level in the application's own chain (the policy it started under).
    public var level: Int?
    /// Subtree; must lie inside the administrator's own.
    public var unitPath: UnitPath?
    /// Waiting at least this long at its current level.
    public var minimumAge: TimeInterval?
    /// Only those past their level's time limit (true), or only those within it (false).
    public var overdue: Bool?
    /// Only those in this band of their level's time limit (`PendingAge`).
    public var age: PendingAge?
    /// Only those whose plate contains this text (upper case, no blanks), through the trigram index.
    public var plate: String?

    public init(role: Role? = nil, level: Int? = nil, unitPath: UnitPath? = nil, minimumAge: TimeInterval? = nil, overdue: Bool? = nil,
                age: PendingAge? = nil, plate: String? = nil) {
        self.role = role
        self.level = level
        self.unitPath = unitPath
        self.minimumAge = minimumAge
        self.overdue = overdue
        self.age = age
        self.plate = plate
    }
}

/// The approval inboxes: "what is waiting for me" for signers, and everything pending for administrators.
///
/// Both read `instances` through the projection the transition path keeps (pending_role,
/// pending_since, due_at, unit_path); see docs/inbox-query-plans.md for the plans.
public struct ApprovalInbox: Sendable {
    public let database: Database
    public let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    var logger: Logger { self.database.logger }

    /// The position after the last item of a page: (pending_since in microseconds, id).
    struct Cursor: Equatable {
        var micros: Int64
        var id: UUID

        var text: String {
            Data("\(self.micros):\(self.id.uuidString)".utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }

        init(micros: Int64, id: UUID) {
            self.micros = micros
            self.id = id
        }

        init(_ text: String) throws(SignoffError) {
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else {
                throw Self.invalid
            }
            let parts = decoded.split(separator: ":")
            guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
                throw Self.invalid
            }
            self.micros = micros
            self.id = id
        }

        static let invalid = SignoffError.invalidValue("cursor", "The cursor is not one this service gave out; start again without it.")
    }

    /// Applications waiting at a level the actor signs, inside the units where they hold that role, oldest first.
    public func pending(for actor: Principal, cursor: String?, limit: Int) async throws -> PendingPage {
        let after = try cursor.map { text throws(SignoffError) in try Cursor(text) }
        let assignments = actor.assignments.filter { VehiclePolicy.signerRoles.contains($0.role) }
        guard !assignments.isEmpty else {
            _ = try actor.assignment(asAnyOf: VehiclePolicy.signerRoles, covering: UnitPath(labels: []))
            return PendingPage(items: [], nextCursor: nil)
        }
        // One index-ordered query per assignment (usually one), merged.
        var merged: [(PendingApplication, Int64)] = try await self.database.withConnection { connection in
            var merged: [(PendingApplication, Int64)] = []
            for assignment in assignments {
                // A grid has no units below it: a role held at a grid covers the rows of that
                // grid exactly, which instances_pending_grid (schema 0015) gives in age order.
                let exact = assignment.role.heldAt == .grid
                let rows = try await connection.query("""
                    SELECT id, version, state::text, unit_path::text, pending_since, due_at,
                           (extract(epoch FROM pending_since) * 1000000)::bigint
                      FROM instances
                     WHERE kind = \(PassApplication.kind) AND pending_role = \(assignment.role.rawValue)
                       AND CASE WHEN \(exact) THEN unit_path = \(assignment.unitPath.description)::ltree
                                ELSE unit_path <@ \(assignment.unitPath.description)::ltree END
                       AND (\(after?.micros)::bigint IS NULL
                            OR (pending_since, id) > ('epoch'::timestamptz + \(after?.micros ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
                     ORDER BY pending_since, id
                     LIMIT \(limit + 1)
                    """, logger: self.logger)
                merged += try await Self.items(rows)
            }
            return merged
        }
        var seen = Set<UUID>()
        merged = merged.sorted { ($0.1, $0.0.id.uuidString) < ($1.1, $1.0.id.uuidString) }.filter { seen.insert($0.0.id).inserted }
        let now = self.clock.now()
        let delegations = try await self.database.withConnection { connection in
            try await DelegationStore.inForce(to: actor.userID, at: now, on: connection, logger: self.logger)
        }
        // The page is cut on the query's order, then narrowed in Swift: a level handed to one
        // holder (转交) waits only for them and their delegate. A page may come out shorter than
        // `limit`; its cursor still continues after the last row read.
        var page = Self.page(merged, limit: limit)
        page.items = page.items.compactMap { item in
            Self.mine(item, actor: actor, delegations: delegations)
        }
        return page
    }

    /// The item as the actor sees it in their inbox, or nil when it waits for someone else.
    static func mine(_ item: PendingApplication, actor: Principal, delegations: [Delegation]) -> PendingApplication? {
        guard let level = item.application.pendingLevel else { return nil }
        var item = item
        let applicable = delegations.filter { $0.covers(role: level.role, path: item.application.gridPath) }
        if let assigned = item.application.pendingReassignment {
            if assigned.to.userID == actor.userID { return item }
            guard let delegation = applicable.first(where: { $0.delegator.userID == assigned.to.userID }) else { return nil }
            item.delegation = delegation
            return item
        }
        item.delegation = applicable.first
        return item
    }

    /// Everything pending inside `scope` that matches the filter, oldest first.
    public func pending(in scope: UnitPath, filter: PendingFilter, cursor: String?, limit: Int) async throws -> PendingPage {
        let after = try cursor.map { text throws(SignoffError) in try Cursor(text) }
        let now = self.clock.now()
        let path = (filter.unitPath ?? scope).description
        let waitingSince = filter.minimumAge.map { now.addingTimeInterval(-$0) }
        // Part of a plate, anywhere in it; LIKE's own characters in the text match themselves.
        let plateLike = filter.plate.map { text in
            "%" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
        }
        let rows = try await self.database.withConnection { connection in
            try await connection.query("""
                SELECT id, version, state::text, unit_path::text, pending_since, due_at,
                       (extract(epoch FROM pending_since) * 1000000)::bigint
                  FROM instances
                 WHERE kind = \(PassApplication.kind) AND pending_role IS NOT NULL
                   AND unit_path <@ \(path)::ltree
                   AND (\(filter.role?.rawValue)::text IS NULL OR pending_role = \(filter.role?.rawValue))
                   AND (\(filter.level)::integer IS NULL
                        OR pending_level = \(filter.level))
                   AND (\(waitingSince)::timestamptz IS NULL OR pending_since <= \(waitingSince))
                   -- coalesce: no limit is not overdue, and the planner walks the age order
                   -- (instances_pending_age) instead of gathering every overdue row first.
                   AND (\(filter.overdue)::boolean IS NULL OR coalesce(due_at < \(now), false) = \(filter.overdue))
                   AND (\(filter.age?.rawValue)::text IS NULL
                        OR (\(filter.age?.rawValue) = 'overdue' AND due_at < \(now))
                        OR (\(filter.age?.rawValue) = 'warning' AND due_at >= \(now)
                            AND \(now) >= pending_since + (due_at - pending_since) / 2)
                        OR (\(filter.age?.rawValue) = 'fresh' AND (due_at IS NULL
                            OR (due_at >= \(now) AND \(now) < pending_since + (due_at - pending_since) / 2))))
                   AND (\(plateLike)::text IS NULL OR label ILIKE \(plateLike))
                   AND (\(after?.micros)::bigint IS NULL
                        OR (pending_since, id) > ('epoch'::timestamptz + \(after?.micros ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
                 ORDER BY pending_since, id
                 LIMIT \(limit + 1)
                """, logger: self.logger).collect()
        }
        var items: [(PendingApplication, Int64)] = []
        for row in rows { items.append(try Self.item(row)) }
        return Self.page(items, limit: limit)
    }

    /// Pending and overdue counts per level and per village inside `scope`.
    public func summary(in scope: UnitPath) async throws -> PendingSummary {
        let now = self.clock.now()
        return try await self.database.withConnection { connection in
            let levelRows = try await connection.query("""
                SELECT pending_level::integer AS level, pending_role,
                       count(*)::integer, (count(*) FILTER (WHERE due_at < \(now)))::integer
                  FROM instances
                 WHERE kind = \(PassApplication.kind) AND pending_role IS NOT NULL AND unit_path <@ \(scope.description)::ltree
                 GROUP BY 1, 2 ORDER BY 1, 2
                """, logger: self.logger)
            var levels: [PendingSummary.LevelCount] = []
            for try await (level, role, pending, overdue) in levelRows.decode((Int, String, Int, Int).self) {
                guard let role = Role(rawValue: role) else { continue }
                levels.append(.init(level: level, role: role, pending: pending, overdue: overdue))
            }
            let villageRows = try await connection.query("""
                SELECT u.id, coalesce(u.name, v.village::text), v.village::text, v.pending, v.overdue
                  FROM (SELECT subpath(unit_path, 0, 2) AS village, count(*)::integer AS pending,
                               (count(*) FILTER (WHERE due_at < \(now)))::integer AS overdue
                          FROM instances
                         WHERE kind = \(PassApplication.kind) AND pending_role IS NOT NULL
                           AND unit_path <@ \(scope.description)::ltree AND nlevel(unit_path) >= 2
                         GROUP BY 1) v
                  LEFT JOIN units u ON u.path = v.village
                 ORDER BY v.village
                """, logger: self.logger)
            var villages: [PendingSummary.VillageCount] = []
            for try await (id, name, path, pending, overdue) in villageRows.decode((UUID?, String, String, Int, Int).self) {
                villages.append(.init(unitID: id, name: name, path: try UnitPath(path), pending: pending, overdue: overdue))
            }
            return PendingSummary(levels: levels, villages: villages)
        }
    }

    private static func items(_ rows: PostgresRowSequence) async throws -> [(PendingApplication, Int64)] {
        var items: [(PendingApplication, Int64)] = []
        for try await row in rows { items.append(try Self.item(row)) }
        return items
    }

    private static func item(_ row: PostgresRow) throws -> (PendingApplication, Int64) {
        let (id, version, state, path, since, due, micros) = try row.decode((UUID, Int, String, String, Date, Date?, Int64).self)
        let application = try StoredForm.decoder().decode(PassApplication.self, from: Data(state.utf8))
        return (PendingApplication(id: id, version: version, application: application, unitPath: try UnitPath(path),
                                   pendingSince: since, dueAt: due), micros)
    }

    private static func page(_ items: [(PendingApplication, Int64)], limit: Int) -> PendingPage {
        let page = Array(items.prefix(limit))
        let next = items.count > limit ? page.last.map { Cursor(micros: $0.1, id: $0.0.id).text } : nil
        return PendingPage(items: page.map(\.0), nextCursor: next)
    }
}
