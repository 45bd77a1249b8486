import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// 通知: the signed-in user's in-app notices, newest first, marked read one by one or all at once.
struct NotificationPages: Sendable {
    let app: WebApp

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/notifications") { _, context in try await self.list(context) }
        group.post("/notifications/read-all") { request, context in
            _ = try await WebForm.read(request, csrf: context.session.csrfToken)
            try await self.app.services.notifications.markRead(nil, for: context.actor.userID)
            return WebRenderer.redirect("/app/notifications")
        }
        group.post("/notifications/:id/read") { request, context in
            _ = try await WebForm.read(request, csrf: context.session.csrfToken)
            guard let id = context.parameters.get("id").flatMap({ Int($0) }) else { throw SignoffError.notFound("This notification") }
            try await self.app.services.notifications.markRead(id, for: context.actor.userID)
            return WebRenderer.redirect("/app/notifications")
        }
    }

    func list(_ context: WebContext) async throws -> Response {
        let (items, unread) = try await self.app.services.notifications.list(for: context.actor.userID, unreadOnly: false, limit: 100)
        let csrf = context.session.csrfToken
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "通知", back: "/app"),
            "unreadCount": unread,
            "hasUnread": unread > 0,
            "csrf": csrf,
            "items": items.map { notice -> [String: Any] in
                [
                    "id": notice.id, "title": notice.title, "body": notice.body, "unread": notice.readAt == nil,
                    "createdAt": WebText.time(notice.createdAt), "csrf": csrf,
                ]
            },
        ]
        return self.app.renderer.page("notifications", model)
    }
}
