import Foundation
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffStore

/// 待办总览 reads kept counts (`pending_tally` plus unfolded deltas) instead of counting the
/// pending rows. These tests compare those counts with a direct count of the rows, through
/// signing, rejecting, the clock passing the time limits and the fold.
@Suite("待办总览: the kept pending counts", .timeLimit(.minutes(3)))
struct PendingTallyTests {
    /// The page's cells counted straight from `instances`: what the kept counts must equal.
    static func counted(_ world: TestWorld) async throws -> [PendingCell] {
        let now = world.clock.now()
        return try await world.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT c.village::text, coalesce(v.name, c.village::text), c.grp::text, coalesce(g.name, c.grp::text),
                       c.level, c.pending, c.overdue
                  FROM (SELECT subpath(unit_path, 0, 2) AS village, subpath(unit_path, 0, 3) AS grp,
                               pending_level::integer AS level,
                               count(*)::integer AS pending, (count(*) FILTER (WHERE due_at < \(now)))::integer AS overdue
                          FROM instances
                         WHERE kind = 'vehicle_pass' AND pending_role IS NOT NULL AND nlevel(unit_path) >= 3
                         GROUP BY 1, 2, 3) c
                  LEFT JOIN units v ON v.path = c.village
                  LEFT JOIN units g ON g.path = c.grp
                 ORDER BY c.village, c.grp, c.level
                """, logger: world.database.logger)
            var cells: [PendingCell] = []
            for try await (village, villageName, group, groupName, level, pending, overdue)
                in rows.decode((String, String, String, String, Int, Int, Int).self) {
                cells.append(PendingCell(villagePath: village, villageName: villageName, groupPath: group, groupName: groupName,
                                         level: level, pending: pending, overdue: overdue))
            }
            return cells
        }
    }

    static func deltas(_ world: TestWorld) async throws -> Int {
        try await world.database.withConnection { connection in
            let rows = try await connection.query("SELECT count(*)::integer FROM pending_tally_deltas", logger: world.database.logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    /// The kept counts equal the direct count, before and after a fold.
    static func expectExact(_ world: TestWorld, _ queries: AdminQueries, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let expected = try await Self.counted(world)
        #expect(try await queries.pendingCells(in: world.town.township.path) == expected, sourceLocation: sourceLocation)
        try await queries.foldPendingTally()
        #expect(try await Self.deltas(world) == 0, sourceLocation: sourceLocation)
        #expect(try await queries.pendingCells(in: world.town.township.path) == expected, sourceLocation: sourceLocation)
    }

    @Test func theKeptCountsFollowEveryTransitionAndTheClock() async throws {
        try await TestWorld.with { world, client in
            let queries = AdminQueries(database: world.database, clock: world.clock)
            var vehicles: [UUID] = []
            let workers = ["gw1", "gw1", "gw2", "gw3"]
            for (index, grid) in [world.town.grid1, world.town.grid1, world.town.grid2, world.town.gridOther].enumerated() {
                vehicles.append(try await client.registerVehicle(world, plate: "川Q 7710\(index)", grid: grid, by: workers[index]).vehicle)
            }
            world.clock.advance(days: 14)
            var passes: [UUID] = []
            for (index, vehicle) in vehicles.enumerated() {
                passes.append(try await client.applyForPass(world, vehicle: vehicle, by: workers[index]))
            }
            // Four applications at level 1; nothing is overdue yet.
            let fresh = try await queries.pendingCells(in: world.town.township.path)
            #expect(fresh.map(\.pending).reduce(0, +) == 4)
            #expect(fresh.map(\.overdue).reduce(0, +) == 0)
            try await Self.expectExact(world, queries)

            // One moves to level 2, one to level 3; one is rejected (no longer pending).
            #expect(try await client.sign(world, pass: passes[0], by: "gw1").status == .ok)
            #expect(try await client.sign(world, pass: passes[1], by: "gw1").status == .ok)
            #expect(try await client.sign(world, pass: passes[1], by: "v1g1leader").status == .ok)
            let rejected = try await client.call(.post, "/passes/\(passes[3])/reject", token: try await world.token("gw3"),
                                                 json: ["reason": "车主未按时返回"])
            #expect(rejected.status == .ok, "\(rejected.text)")
            let levels = try await queries.pendingCells(in: world.town.township.path)
            #expect(levels.filter { $0.level == 1 }.map(\.pending).reduce(0, +) == 1)
            #expect(levels.filter { $0.level == 2 }.map(\.pending).reduce(0, +) == 1)
            #expect(levels.filter { $0.level == 3 }.map(\.pending).reduce(0, +) == 1)
            #expect(levels.map(\.pending).reduce(0, +) == 3)
            #expect(!levels.contains { $0.villagePath == world.town.village2.path.description })
            try await Self.expectExact(world, queries)

            // The level-1 item falls due during the next day: overdue counted from today's rows.
            world.clock.advance(by: 25 * 3600)
            let dueToday = try await queries.pendingCells(in: world.town.township.path)
            #expect(dueToday.filter { $0.level == 1 }.map(\.overdue).reduce(0, +) == 1)
            try await Self.expectExact(world, queries)

            // Days later everything is overdue, counted from the kept counts of earlier days.
            world.clock.advance(days: 3)
            let later = try await queries.pendingCells(in: world.town.township.path)
            #expect(later.map(\.overdue).reduce(0, +) == 3)
            try await Self.expectExact(world, queries)

            // A signature after the fold moves a count again; the page is exact before the next fold.
            #expect(try await client.sign(world, pass: passes[2], by: "gw2").status == .ok)
            #expect(try await Self.deltas(world) > 0)
            let moved = try await queries.pendingCells(in: world.town.township.path)
            #expect(moved.filter { $0.level == 1 }.map(\.pending).reduce(0, +) == 0)
            #expect(moved.filter { $0.level == 2 }.map(\.pending).reduce(0, +) == 2)
            try await Self.expectExact(world, queries)

            // A scope below the township counts only its own units.
            let village2 = try await queries.pendingCells(in: world.town.village2.path)
            #expect(village2.isEmpty)
        }
    }

    /// Several servers fold at once: every delta is moved exactly once and the counts stay exact.
    @Test func concurrentFoldsMoveEachDeltaOnce() async throws {
        try await TestWorld.with { world, client in
            let queries = AdminQueries(database: world.database, clock: world.clock)
            var vehicles: [UUID] = []
            for index in 0..<6 {
                vehicles.append(try await client.registerVehicle(world, plate: "川Q 7720\(index)", grid: world.town.grid1, by: "gw1").vehicle)
            }
            world.clock.advance(days: 14)
            for vehicle in vehicles {
                let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
                #expect(try await client.sign(world, pass: pass, by: "gw1").status == .ok)
            }
            let before = try await Self.deltas(world)
            #expect(before >= 12)
            let moved = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do { return try await queries.foldPendingTally() } catch {
                            Issue.record("fold failed: \(String(reflecting: error))")
                            throw error
                        }
                    }
                }
                var total = 0
                for try await count in group { total += count }
                return total
            }
            // Folds that found the lock taken moved nothing; one more round takes what is left.
            let rest = try await queries.foldPendingTally()
            #expect(moved + rest == before)
            #expect(try await Self.deltas(world) == 0)
            #expect(try await queries.pendingCells(in: world.town.township.path) == Self.counted(world))
            #expect(try await queries.pendingCells(in: world.town.township.path).map(\.pending).reduce(0, +) == 6)
        }
    }
}
