import Foundation
import HummingbirdTesting
import SignoffCore
import SignoffStore
import Testing

@Suite("Web app: the 通知 page and its unread badge", .timeLimit(.minutes(2)))
struct NotificationPageTests {
    @Test func theGridWorkerSeesTheClearanceNoticeWithABadgeAndMarksItRead() async throws {
        try await TestWorld.with { world, client in
            _ = try await client.registerVehicle(world, plate: "川Q 12345", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            try await world.services.notificationWorker.runOnce()
            let session = try await client.webLogin("gw1")
            let home = try await client.page("/app", session)
            #expect(home.text.contains("aria-label=\"未读通知 1 条\""))
            let page = try await client.page("/app/notifications", session)
            #expect(page.status == .ok)
            #expect(page.text.contains("川Q12345 停放已满14天, 可申请通行证。"))
            #expect(page.text.contains("未读 1 条"))
            #expect(!page.text.contains("{{"))
            let refused = try await client.form("/app/notifications/read-all", session, ["csrf": "wrong"])
            #expect(refused.status == .forbidden)
            let marked = try await client.form("/app/notifications/read-all", session, ["csrf": session.csrf])
            #expect(marked.status == .seeOther)
            let after = try await client.page("/app/notifications", session)
            #expect(after.text.contains("未读 0 条"))
            #expect(!after.text.contains("未读通知"))
        }
    }
}
