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

    /// Pending and overdue counts per (village, group, level) inside `scope`, through the same
    /// projection columns as the inbox (kind, pending_role, unit_path, due_at).
    public func pendingCells(in scope: UnitPath) async throws -> [PendingCell] {
        let now = self.clock.now()
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT c.village::text, coalesce(v.name, c.village::text), c.grp::text, coalesce(g.name, c.grp::text),
                       c.level, c.pending, c.overdue
                  FROM (SELECT subpath(unit_path, 0, 2) AS village, subpath(unit_path, 0, 3) AS grp,
                               pending_level::integer AS level,
                               count(*)::integer AS pending, (count(*) FILTER (WHERE due_at < \(now)))::integer AS overdue
                          FROM instances
                         WHERE kind = \(PassApplication.kind) AND pending_role IS NOT NULL
                           AND unit_path <@ \(scope.description)::ltree AND nlevel(unit_path) >= 3
                         GROUP BY 1, 2, 3) c
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
