import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Administrators manage their units' outbound webhooks and see and replay dead deliveries.
struct WebhooksController {
    let webhooks: WebhookStore
    let policies: PolicyCatalog
    let settings: NotificationSettings
    /// For `Idempotency-Key` replay of the writes.
    let transitions: TransitionStore

    struct CreateWebhook: StrictRequest {
        var unitID: UUID
        var url: String
        var secret: String
        var events: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case unitID = "unit_id"
            case url, secret, events
        }
    }

    /// The secret is never shown again.
    struct WebhookView: Encodable {
        var id: UUID
        var unitId: UUID
        var unitPath: String
        var url: String
        var events: [String]
        var createdAt: Date

        init(_ hook: Webhook) {
            self.id = hook.id
            self.unitId = hook.unitID
            self.unitPath = hook.unitPath.description
            self.url = hook.url
            self.events = hook.events
            self.createdAt = hook.createdAt
        }
    }

    struct DeliveryView: Encodable {
        var id: UUID
        var webhookId: UUID
        var event: String
        var status: String
        var attempts: Int
        var nextAttemptAt: Date
        var lastError: String?
        var lastStatus: Int?
        var createdAt: Date
        var deliveredAt: Date?

        init(_ delivery: WebhookDelivery) {
            self.id = delivery.id
            self.webhookId = delivery.webhookID
            self.event = delivery.event
            self.status = delivery.status
            self.attempts = delivery.attempts
            self.nextAttemptAt = delivery.nextAttemptAt
            self.lastError = delivery.lastError
            self.lastStatus = delivery.lastStatus
            self.createdAt = delivery.createdAt
            self.deliveredAt = delivery.deliveredAt
        }
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("/admin/webhooks") { _, context in
            try Self.requireAdmin(context.actor)
            let hooks = try await self.webhooks.list(for: context.actor)
            return try JSONBody.response(["webhooks": hooks.map(WebhookView.init)])
        }
        group.write("/admin/webhooks", body: CreateWebhook.self, store: self.transitions) { context, body, connection in
            try Self.requireAdmin(context.actor)
            _ = try WebhookAddressCheck.check(body.url, allowPrivate: self.settings.allowPrivateWebhookAddresses)
            guard body.secret.count >= 16, body.secret.count <= 256 else {
                throw SignoffError.invalidValue("secret", "The secret is 16 to 256 characters; the receiver checks signatures with it.")
            }
            let known = try self.policies.notificationPolicy().events
            let events = body.events ?? []
            if let unknown = events.first(where: { !known.contains($0) }) {
                throw SignoffError(.invalidValue, "‘\(unknown)’ is not a notification event. Known: \(known.joined(separator: ", ")).",
                                   extra: ["field": "events"])
            }
            let hook = try await self.webhooks.create(unitID: body.unitID, url: body.url, secret: body.secret,
                                                      events: Array(Set(events)).sorted(), by: context.actor, on: connection)
            return WebhookView(hook)
        }
        group.write("/admin/webhooks/:id", method: .delete, body: EmptyRequest.self, status: .noContent,
                    store: self.transitions) { context, _, connection in
            try Self.requireAdmin(context.actor)
            try await self.webhooks.delete(try Self.id(context), by: context.actor, on: connection)
            return [String: String]()
        }
        group.get("/admin/webhook-deliveries") { request, context in
            try Self.requireAdmin(context.actor)
            let status = ApprovalsController.text(request, "status")
            if let status, !["pending", "delivered", "dead"].contains(status) {
                throw SignoffError.invalidValue("status", "‘status’ is pending, delivered or dead.")
            }
            let items = try await self.webhooks.deliveries(status: status, for: context.actor,
                                                           limit: try ApprovalsController.limit(request))
            return try JSONBody.response(["deliveries": items.map(DeliveryView.init)])
        }
        group.post("/admin/webhook-deliveries/:id/replay") { _, context in
            try Self.requireAdmin(context.actor)
            try await self.webhooks.replay(try Self.id(context), by: context.actor)
            return try JSONBody.response(["status": "pending"], status: .accepted)
        }
    }

    static func requireAdmin(_ actor: Principal) throws {
        guard actor.holds(.admin) else { throw SignoffError(.forbiddenRole, "This needs the role 乡政府办公室 (admin).") }
    }

    static func id(_ context: AuthenticatedContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw SignoffError.notFound("This record") }
        return id
    }
}
