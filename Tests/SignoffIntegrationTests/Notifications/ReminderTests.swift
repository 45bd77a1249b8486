import Foundation
import HummingbirdTesting
import PostgresNIO
import SignoffCore
@testable import SignoffHTTP
@testable import SignoffStore
import Synchronization
import Testing

@Suite("Timers: reminders, escalation, exactly once across instances, quiet hours", .timeLimit(.minutes(3)))
struct ReminderTests {
    @Test func aLevelPastItsLimitRemindsOnceAndTwiceTheLimitEscalatesOnceEvenAcrossARestart() async throws {
        try await TestWorld.with { world, client in
            _ = try await world.filedPass(client)
            // Clearance (停放满14天) fired the grid worker's notice; nothing waits past its limit yet.
            let first = try await world.services.notificationWorker.runOnce()
            #expect(first.timers.fired == 1)
            #expect(try await world.notices(of: "gw1", event: "timer.clearance_due").map(\.body) == ["川Q12345 停放已满14天, 可申请通行证。"])
            #expect(try await world.notices(of: "gw1", event: "timer.level_limit").isEmpty)

            world.clock.advance(by: 24 * 3_600 + 60)
            try await world.services.notificationWorker.runOnce()
            let reminders = try await world.notices(of: "gw1", event: "timer.level_limit")
            #expect(reminders.count == 1)
            #expect(reminders.first?.title == "催办: 川Q12345 通行证待您签字")
            // Only the pending level's signer is reminded.
            #expect(try await world.notices(of: "v1g1leader", event: "timer.level_limit").isEmpty)
            #expect(try await world.notices(of: "admin", event: "timer.level_escalation").isEmpty)

            // A restart (a new set of services on the same database) and another round send nothing new.
            let restarted = world.anotherInstance()
            let again = try await restarted.notificationWorker.runOnce()
            #expect(again.timers.fired == 0)
            #expect(again.notifications.notices == 0)
            #expect(try await world.notices(of: "gw1", event: "timer.level_limit").count == 1)

            world.clock.advance(by: 24 * 3_600)
            try await restarted.notificationWorker.runOnce()
            try await world.anotherInstance().notificationWorker.runOnce()
            try await world.services.notificationWorker.runOnce()
            #expect(try await world.notices(of: "admin", event: "timer.level_escalation").count == 1)
            #expect(try await world.notices(of: "v1admin", event: "timer.level_escalation").count == 1)
            #expect(try await world.notices(of: "gw1", event: "timer.level_limit").count == 1)
            #expect(try await world.count("SELECT count(*)::int FROM notifications WHERE event = 'timer.level_escalation'") == 2)

            // The in-app list shows them with the unread count, and marking one read lowers it.
            let token = try await world.token("gw1")
            let list = try await client.call(.get, "/notifications", token: token)
            #expect(list.status == .ok)
            #expect(list.json["unread_count"] as? Int == 2)
            let items = try #require(list.json["items"] as? [[String: Any]])
            let id = try #require(items.first?["id"] as? Int)
            let read = try await client.call(.post, "/notifications/\(id)/read", token: token)
            #expect(read.json["unread_count"] as? Int == 1)
            let others = try await client.call(.post, "/notifications/\(id)/read", token: try await world.token("gw2"))
            #expect(others.code == "not_found")
            let unread = try await client.call(.get, "/notifications?unread=true", token: token)
            #expect((unread.json["items"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test func aSignedLevelDropsItsTimersAndTheNextLevelGetsItsOwn() async throws {
        try await TestWorld.with { world, client in
            let pass = try await world.filedPass(client)
            try await world.services.notificationWorker.runOnce()
            world.clock.advance(by: 3_600)
            #expect(try await client.sign(world, pass: pass, by: "gw1", json: ["level": 1]).status == .ok)
            world.clock.advance(by: 23 * 3_600 + 60)
            // Level 1's limit has passed, but it was signed: no reminder to the grid worker.
            try await world.services.notificationWorker.runOnce()
            #expect(try await world.notices(of: "gw1", event: "timer.level_limit").isEmpty)
            world.clock.advance(by: 3_600)
            try await world.services.notificationWorker.runOnce()
            #expect(try await world.notices(of: "v1g1leader", event: "timer.level_limit").count == 1)
        }
    }

    @Test func threeInstancesFireAThousandTimersExactlyOnceEach() async throws {
        try await TestWorld.with { world, client in
            let (_, pledge) = try await client.registerVehicle(world, plate: "川Q 54321", grid: world.town.grid1, by: "gw1")
            let due = world.clock.now().addingTimeInterval(-60)
            try await world.database.withConnection { connection in
                try await connection.query("""
                    INSERT INTO timers (key, instance_id, kind, name, due_at, payload, created_at, next_attempt_at)
                    SELECT 'load-' || n, \(pledge), 'parking_pledge', 'clearance_due', \(due), '{}'::jsonb, \(due), \(due)
                      FROM generate_series(1, 1000) AS n
                    """, logger: world.database.logger)
            }
            let instances = (0..<3).map { _ in
                world.anotherInstance(timers: TimerStore(database: world.database, clock: world.clock,
                                                         policies: world.services.policies, batchSize: 7))
            }
            let fired = try await withThrowingTaskGroup(of: Int.self) { group in
                for services in instances {
                    group.addTask { try await services.notificationWorker.timers.fireDue().fired }
                }
                return try await group.reduce(0, +)
            }
            #expect(fired == 1_000)
            #expect(try await world.count("SELECT count(*)::int FROM timers WHERE key LIKE 'load-%' AND fired_at IS NULL") == 0)
            #expect(try await world.count("SELECT count(*)::int FROM outbox WHERE key LIKE 'timer:load-%'") == 1_000)
            // Another round on any instance finds nothing left.
            #expect(try await instances[0].notificationWorker.timers.fireDue().fired == 0)
        }
    }

    @Test func aFailedFiringIsRetriedWithBackoffAndThenFiresOnce() async throws {
        try await TestWorld.with { world, client in
            let failures = Failures(count: 1)
            let timers = TimerStore(database: world.database, clock: world.clock, policies: world.services.policies,
                                    beforeFiring: { _ in try failures.take() })
            _ = try await client.registerVehicle(world, plate: "川Q 11111", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let failed = try await timers.fireDue()
            #expect(failed.retried == 1)
            #expect(failed.fired == 0)
            // Not retried before its backoff is over.
            #expect(try await timers.fireDue().fired == 0)
            world.clock.advance(by: TimerStore.backoff(afterAttempt: 1) + 1)
            #expect(try await timers.fireDue().fired == 1)
            #expect(try await timers.fireDue().fired == 0)
            #expect(try await world.count("SELECT count(*)::int FROM outbox WHERE name = 'timer.clearance_due'") == 1)
        }
    }

    @Test func quietHoursHoldBackAReminderButNotAFever() async throws {
        try await TestWorld.with { world, client in
            _ = try await world.filedPass(client)
            try await world.services.notificationWorker.runOnce()
            // Level 1's limit passed at 08:00; it is now 23:00 China time (15:00 UTC).
            world.clock.advance(by: 39 * 3_600)
            let quiet = try await world.services.notificationWorker.runOnce()
            #expect(quiet.notifications.deferred == 1)
            #expect(try await world.notices(of: "gw1", event: "timer.level_limit").isEmpty)

            let gw1 = try await world.token("gw1")
            let (_, person) = try await world.household(in: world.town.grid1, code: "H-fever", member: "赵六")
            let registered = try await ReturneeIsolationAPITests.register(client, token: gw1, person: person.id, province: "四川",
                                                                       arrivedAt: world.clock.now())
            let id = try #require(registered.json["id"] as? String)
            let fever = try await client.call(.post, "/returnees/\(id)/temperatures", token: gw1, json: ["celsius": 38.2])
            #expect(fever.status == .ok, "\(fever.text)")
            try await world.services.notificationWorker.runOnce()
            #expect(try await world.notices(of: "gw1", event: "isolation.fever").map(\.title) == ["发热报告: 38.2 °C"])
            #expect(try await world.notices(of: "health", event: "isolation.fever").count == 1)
            #expect(try await world.notices(of: "gw1", event: "timer.level_limit").isEmpty)

            // At 07:01 the held-back reminder goes out, once.
            world.clock.advance(by: 8 * 3_600 + 60)
            try await world.services.notificationWorker.runOnce()
            try await world.services.notificationWorker.runOnce()
            #expect(try await world.notices(of: "gw1", event: "timer.level_limit").count == 1)
        }
    }

    @Test func theMetricsCountTimersAndNotices() async throws {
        try await TestWorld.with { world, client in
            _ = try await world.filedPass(client)
            try await world.services.notificationWorker.runOnce()
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.text.contains("signoff_timers_fired_total 1"))
            #expect(metrics.text.contains("signoff_notifications_sent_total 1"))
            #expect(metrics.text.contains("signoff_timer_lateness_p99_seconds"))
            #expect(metrics.text.contains("signoff_webhook_deliveries_dead_total 0"))
        }
    }
}

/// A firing that fails the first `count` times.
final class Failures: Sendable {
    private let left: Mutex<Int>

    init(count: Int) { self.left = Mutex(count) }

    func take() throws {
        let fail = self.left.withLock { left -> Bool in
            guard left > 0 else { return false }
            left -= 1
            return true
        }
        if fail { throw SignoffError(.internalError, "a test failure") }
    }
}
