import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// Pending travel passes counted per village, group and level, for the 待办总览 table.
public struct PendingCell: Sendable, Equatable {
    public var villagePath: String
    public var villageName: String
    public var groupPath: String
    public var groupName: String
    public var level: Int
    public var pending: Int
    public var overdue: Int
}

/// Passes signed on one day (China time), for the report's line.
public struct SignedDay: Sendable, Equatable {
    public var day: String
    public var count: Int
}

/// Read-only queries behind the administrators' pages. Every query is bounded by a unit subtree.
public struct AdminQueries: Sendable {
    public let database: Database
    public let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    var logger: Logger { self.database.logger }

    /// Pending and overdue counts per (village, group, level) inside `scope`, from the kept
    /// counts (`pending_tally` and its unfolded deltas, `schema/0013_pending_overview.sql`), so the
    /// cost does not grow with the number of pending applications: only what falls due today is
    /// counted from the pending rows themselves (index `instances_pending_due`).
    public func pendingCells(in scope: UnitPath) async throws -> [PendingCell] {
        let now = self.clock.now()
        return try await self.database.withConnection { connection in
            // Days as the tally counts them: `pending_due_day`, the one definition.
            let rows = try await connection.query("""
                WITH today AS (
                    SELECT pending_due_day(\(now)) AS day,
                           'epoch'::timestamptz + pending_due_day(\(now)) * interval '1 day' AS start
                ), counted AS (
                    SELECT unit_path, level, due_day, pending AS n FROM pending_tally
                     WHERE kind = \(PassApplication.kind) AND unit_path <@ \(scope.description)::ltree
                    UNION ALL
                    SELECT unit_path, level, due_day, delta FROM pending_tally_deltas
                     WHERE kind = \(PassApplication.kind) AND unit_path <@ \(scope.description)::ltree
                ), per_unit AS (
                    SELECT unit_path, level, sum(n) AS pending,
                           coalesce(sum(n) FILTER (WHERE due_day < (SELECT day FROM today)), 0) AS overdue
                      FROM counted GROUP BY 1, 2
                    UNION ALL
                    SELECT unit_path, pending_level, 0, count(*)
                      FROM instances
                     WHERE kind = \(PassApplication.kind) AND pending_role IS NOT NULL
                       AND due_at >= (SELECT start FROM today) AND due_at < \(now)
                       AND unit_path <@ \(scope.description)::ltree
                     GROUP BY 1, 2
                ), c AS (
                    SELECT subpath(unit_path, 0, 2) AS village, subpath(unit_path, 0, 3) AS grp, level::integer AS level,
                           sum(pending)::integer AS pending, sum(overdue)::integer AS overdue
                      FROM per_unit WHERE nlevel(unit_path) >= 3
                     GROUP BY 1, 2, 3 HAVING sum(pending) > 0
                )
                SELECT c.village::text, coalesce(v.name, c.village::text), c.grp::text, coalesce(g.name, c.grp::text),
                       c.level, c.pending, c.overdue
                  FROM c
                  LEFT JOIN units v ON v.path = c.village
                  LEFT JOIN units g ON g.path = c.grp
                 ORDER BY c.village, c.grp, c.level
                """, logger: self.logger)
            var cells: [PendingCell] = []
            for try await (village, villageName, group, groupName, level, pending, overdue)
                in rows.decode((String, String, String, String, Int, Int, Int).self) {
                cells.append(PendingCell(villagePath: village, villageName: villageName, groupPath: group, groupName: groupName,
                                         level: level, pending: pending, overdue: overdue))
            }
            return cells
        }
    }

    /// Moves the appended pending deltas into the kept counts and merges the days before
    /// yesterday into one; any number of servers may call it at once (one folds, the others
    /// return 0). Returns how many deltas were moved.
    @discardableResult
    public func foldPendingTally() async throws -> Int {
        let now = self.clock.now()
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("SELECT pending_tally_fold(pending_due_day(\(now)))", logger: self.logger)
            for try await moved in rows.decode(Int.self) { return moved }
            return 0
        }
    }

    /// Signatures on travel passes per day (UTC+8) inside `scope` and the period, oldest first.
    public func signedPerDay(under scope: UnitPath, from: Date?, to: Date?) async throws -> [SignedDay] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT to_char((a.at AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD') AS day, count(*)::integer
                  FROM audit_events a JOIN instances i ON i.id = a.subject_id
                 WHERE a.subject_kind = \(PassApplication.kind) AND a.event = 'sign'
                   AND i.kind = \(PassApplication.kind) AND i.unit_path <@ \(scope.description)::ltree
                   AND (\(from)::timestamptz IS NULL OR a.at >= \(from))
                   AND (\(to)::timestamptz IS NULL OR a.at < \(to))
                 GROUP BY 1 ORDER BY 1
                """, logger: self.logger)
            var days: [SignedDay] = []
            for try await (day, count) in rows.decode((String, Int).self) { days.append(SignedDay(day: day, count: count)) }
            return days
        }
    }
}
