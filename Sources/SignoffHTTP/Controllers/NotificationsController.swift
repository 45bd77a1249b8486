import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// The signed-in user's in-app notices 通知: the newest first, with the unread count.
struct NotificationsController {
    let notifications: NotificationStore

    struct NoticeView: Encodable {
        var id: Int
        var event: String
        var title: String
        var body: String
        var subjectKind: String
        var subjectId: UUID
        var createdAt: Date
        var readAt: Date?
        var read: Bool

        init(_ notice: Notice) {
            self.id = notice.id
            self.event = notice.event
            self.title = notice.title
            self.body = notice.body
            self.subjectKind = notice.subjectKind
            self.subjectId = notice.subjectID
            self.createdAt = notice.createdAt
            self.readAt = notice.readAt
            self.read = notice.readAt != nil
        }
    }

    struct ListView: Encodable {
        var unreadCount: Int
        var items: [NoticeView]
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("/notifications") { request, context in
            let unread = try ApprovalsController.bool(request, "unread") ?? false
            let limit = try ApprovalsController.limit(request)
            let (items, count) = try await self.notifications.list(for: context.actor.userID, unreadOnly: unread, limit: limit)
            return try JSONBody.response(ListView(unreadCount: count, items: items.map(NoticeView.init)))
        }
        group.post("/notifications/:id/read") { _, context in
            guard let id = context.parameters.get("id").flatMap({ Int($0) }) else {
                throw SignoffError.notFound("This notification")
            }
            try await self.notifications.markRead(id, for: context.actor.userID)
            let (_, count) = try await self.notifications.list(for: context.actor.userID, unreadOnly: true, limit: 1)
            return try JSONBody.response(["unread_count": count])
        }
        group.post("/notifications/read-all") { _, context in
            let marked = try await self.notifications.markRead(nil, for: context.actor.userID)
            return try JSONBody.response(["marked": marked, "unread_count": 0])
        }
    }
}
