import Foundation
import Testing
@testable import SignoffCore

@Suite("Due moments, quiet hours, notification policy and webhook addresses")
struct DueMomentTests {
    static func application() throws -> PassApplication {
        let (application, _) = try PassApplication.start(
            .init(vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, plate: try LicensePlate("川Q12345"),
                  gridPath: Fixture.grid1, clearanceDueAt: Fixture.t0, policy: Fixture.policy()),
            id: Fixture.applicationID, by: Fixture.gridWorker, at: Fixture.t0)
        return application
    }

    @Test func aPendingLevelIsDueAtItsLimitAndEscalatesAtTwiceTheLimit() throws {
        var application = try Self.application()
        let limit = application.chain[0].limit
        let moments = application.dueMoments
        #expect(moments.map(\.name) == [.levelLimit, .levelEscalation])
        #expect(moments.map(\.at) == [Fixture.t0.addingTimeInterval(limit), Fixture.t0.addingTimeInterval(2 * limit)])
        #expect(moments[0].payload["level"] == .int(1))
        #expect(moments[0].payload["role"] == .string("grid_worker"))
        let firstKeys = moments.map { $0.key(for: Fixture.applicationID) }

        // Signing level 1 replaces them with level 2's, under other keys.
        let signedAt = Fixture.t0.addingTimeInterval(3_600)
        _ = try application.sign(by: Fixture.gridWorker, at: signedAt)
        let next = application.dueMoments
        #expect(next.map { $0.payload["level"] } == [.int(2), .int(2)])
        #expect(next[0].at == signedAt.addingTimeInterval(application.chain[1].limit))
        #expect(Set(next.map { $0.key(for: Fixture.applicationID) }).isDisjoint(with: firstKeys))
        #expect(next.map(\.eventName) == ["timer.level_limit", "timer.level_escalation"])
    }

    @Test func aRejectionIsANoticeForTheApplicantSideAndEndsTheTimers() throws {
        var application = try Self.application()
        let effect = try application.reject(reason: "停放地点不符", by: Fixture.gridWorker, at: Fixture.t0)
        #expect(application.dueMoments.isEmpty)
        let notices = application.notices(for: effect)
        #expect(notices.map(\.name) == ["vehicle_pass.rejected"])
        #expect(notices.first?.payload["reason"] == .string("停放地点不符"))
        #expect(notices.first?.payload["plate"] == .string("川Q12345"))
    }

    @Test func quietHoursWrapMidnightInChinaTime() {
        let quiet = NotificationPolicy.QuietHours(startMinute: 22 * 60, endMinute: 7 * 60, utcOffsetSeconds: 8 * 3_600)
        // 2020-02-10 00:00 UTC is 08:00 in China: not quiet.
        let morning = Date(timeIntervalSince1970: 1_581_292_800)
        #expect(quiet.release(after: morning) == nil)
        // 15:00 UTC is 23:00 in China: held until 07:00 China (23:00 UTC).
        let late = morning.addingTimeInterval(15 * 3_600)
        #expect(quiet.release(after: late) == morning.addingTimeInterval(23 * 3_600))
        // 06:59 China the next day: held one more minute.
        let early = morning.addingTimeInterval(22 * 3_600 + 59 * 60)
        #expect(quiet.release(after: early) == morning.addingTimeInterval(23 * 3_600))
        #expect(quiet.release(after: morning.addingTimeInterval(23 * 3_600)) == nil)
    }

    @Test func theShippedPolicyLoadsAndBadOnesNameTheLine() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("workflows/notifications.yaml")
        let policy = try NotificationPolicy.load(yaml: String(contentsOf: url, encoding: .utf8))
        #expect(policy.rules["isolation.fever"]?.urgent == true)
        #expect(policy.rules["timer.level_limit"]?.audiences == [.pendingRole])
        #expect(policy.staleAfter == 24 * 3_600)
        let body = NotificationPolicy.render(try #require(policy.rules["timer.clearance_due"]).body,
                                             ["plate": "川Q12345", "clearance_days": 14])
        #expect(body == "川Q12345 停放已满14天, 可申请通行证。")

        let bad = """
            version: "x"
            quiet_hours:
              start: "25:00"
              end: "07:00"
              utc_offset_hours: 8
            stale_after_hours: 24
            events: {}
            """
        #expect { try NotificationPolicy.load(yaml: bad) } throws: { error in
            (error as? SignoffError)?.code == .policyInvalid && ((error as? SignoffError)?.extra["line"] == .int(3))
        }
        let role = """
            version: "x"
            quiet_hours: {start: "22:00", end: "07:00", utc_offset_hours: 8}
            stale_after_hours: 24
            events:
              x:
                to: [mayor]
                title: t
                body: b
            """
        #expect(throws: SignoffError.self) { try NotificationPolicy.load(yaml: role) }
    }

    @Test func onlyPublicAddressesOverHttpAreWebhookTargets() throws {
        #expect(WebhookTarget.isPublic([8, 8, 8, 8]))
        #expect(WebhookTarget.isPublic([203, 0, 114, 1]))
        for address: [UInt8] in [[127, 0, 0, 1], [10, 0, 0, 1], [172, 16, 0, 1], [172, 31, 255, 255], [192, 168, 0, 1],
                                 [169, 254, 169, 254], [100, 64, 0, 1], [0, 0, 0, 0], [224, 0, 0, 1], [255, 255, 255, 255]] {
            #expect(!WebhookTarget.isPublic(address), "\(address)")
        }
        #expect(WebhookTarget.isPublic([172, 32, 0, 1]))
        let loopback6 = [UInt8](repeating: 0, count: 15) + [1]
        #expect(!WebhookTarget.isPublic(loopback6))
        let mapped = [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 127, 0, 0, 1]
        #expect(!WebhookTarget.isPublic(mapped))
        #expect(!WebhookTarget.isPublic([0xfd] + [UInt8](repeating: 0, count: 15)))
        #expect(!WebhookTarget.isPublic([0xfe, 0x80] + [UInt8](repeating: 0, count: 14)))
        #expect(WebhookTarget.isPublic([0x24, 0x08] + [UInt8](repeating: 1, count: 14)))

        #expect(try WebhookTarget.parse("https://robot.example.org/hook").port == 443)
        #expect(try WebhookTarget.parse("http://[::1]:8080/x").host == "::1")
        for text in ["ftp://example.org/", "file:///etc/passwd", "http://user:pw@example.org/", "example.org/hook"] {
            #expect { try WebhookTarget.parse(text) } throws: { ($0 as? SignoffError)?.code == .addressRefused }
        }
        #expect { try WebhookTarget.check(addresses: [[127, 0, 0, 1]], allowPrivate: false) } throws: {
            ($0 as? SignoffError)?.code == .addressRefused
        }
        try WebhookTarget.check(addresses: [[127, 0, 0, 1]], allowPrivate: true)
    }
}
