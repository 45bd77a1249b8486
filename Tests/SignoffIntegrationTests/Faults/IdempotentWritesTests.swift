import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffHTTP

/// Writes that are not one transition (an account, a role grant, a unit, a webhook) take an
/// `Idempotency-Key` like the transitions: a retry replays the first response, the same key
/// with another body is `422 idempotency_key_reused`, and copies sent at once make one change.
@Suite("Idempotency-Key on the other writes", .timeLimit(.minutes(2)))
struct IdempotentWritesTests {
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    static func newUser(_ name: String, _ world: TestWorld, display: String? = nil) -> [String: Any] {
        ["username": name, "display_name": display ?? name, "password": "retry-pw-123",
         "roles": [["role": "grid_worker", "unit_id": world.town.grid1.id.uuidString]]]
    }

    @Test func creatingAUserTwiceWithOneKeyReplaysTheFirstAnswer() async throws {
        try await TestWorld.with { world, client in
            let admin = try await world.token("admin")
            let key = ConcurrentRetryTests.key("users-retry-1")
            let first = try await client.call(.post, "/users", token: admin, json: Self.newUser("retried", world), headers: key)
            #expect(first.status == .created, "\(first.text)")
            #expect(first.headers[Self.replayed] == nil)
            let again = try await client.call(.post, "/users", token: admin, json: Self.newUser("retried", world), headers: key)
            #expect(again.status == .created, "a retry is not a duplicate: \(again.text)")
            #expect(again.headers[Self.replayed] == "true")
            #expect(again.body == first.body)
            let other = try await client.call(.post, "/users", token: admin, json: Self.newUser("retried", world, display: "另一个"), headers: key)
            #expect(other.status == .unprocessableContent)
            #expect(other.code == "idempotency_key_reused")
            #expect(try await world.count("SELECT count(*)::int FROM users WHERE username = 'retried'") == 1)
            #expect(try await world.count("SELECT count(*)::int FROM audit_events WHERE subject_kind = 'account' AND event = 'create' AND subject_id = (SELECT id FROM users WHERE username = 'retried')") == 1)
            // Without a key a second request is a new one, and the name is taken.
            let bare = try await client.call(.post, "/users", token: admin, json: Self.newUser("retried", world))
            #expect(bare.code == "duplicate")
        }
    }

    @Test func tenCopiesOfOneUserAtOnceCreateItOnce() async throws {
        try await TestWorld.with { world, client in
            let replies = try await ConcurrentRetryTests.burst(client, "/users", token: try await world.token("admin"),
                                                               json: Self.newUser("burst", world), key: "users-burst")
            ConcurrentRetryTests.expectOneResponse(replies, status: .created)
            #expect(try await world.count("SELECT count(*)::int FROM users WHERE username = 'burst'") == 1)
        }
    }

    @Test func aRoleGrantAUnitAndAWebhookReplayAlike() async throws {
        try await TestWorld.with(notificationSettings: .init(allowPrivateWebhookAddresses: true)) { world, client in
            let admin = try await world.token("admin")
            let user = try #require(world.town.users["gw1"])
            let grant = ["role": "grid_worker", "unit_id": world.town.grid2.id.uuidString]
            let writes: [(String, HTTPRequest.Method, [String: Any], HTTPResponse.Status)] = [
                ("/users/\(user)/roles", .post, grant, .created),
                ("/units", .post, ["kind": "grid", "code": "v1g1w9", "name": "第9网格", "parent_id": world.town.group1.id.uuidString], .created),
                ("/admin/webhooks", .post, ["unit_id": world.town.grid1.id.uuidString, "url": "http://127.0.0.1:9/hook",
                                            "secret": String(repeating: "s", count: 20)], .created),
            ]
            for (index, (path, method, body, status)) in writes.enumerated() {
                let key = ConcurrentRetryTests.key("other-write-\(index)")
                let first = try await client.call(method, path, token: admin, json: body, headers: key)
                #expect(first.status == status, "\(path): \(first.text)")
                let again = try await client.call(method, path, token: admin, json: body, headers: key)
                #expect(again.status == status, "\(path) retried: \(again.text)")
                #expect(again.headers[Self.replayed] == "true", "\(path)")
                #expect(again.body == first.body, "\(path)")
            }
            #expect(try await world.count("SELECT count(*)::int FROM role_assignments WHERE user_id = '\(user)' AND unit_id = '\(world.town.grid2.id)'") == 1)
            #expect(try await world.count("SELECT count(*)::int FROM units WHERE code = 'v1g1w9'") == 1)
            #expect(try await world.count("SELECT count(*)::int FROM webhooks") == 1)

            // Stopping the webhook twice with one key: 204 both times (without the key the second is 404).
            let hook = try await client.call(.get, "/admin/webhooks", token: admin)
            let id = try #require(((hook.json["webhooks"] as? [[String: Any]])?.first?["id"]) as? String)
            let key = ConcurrentRetryTests.key("stop-hook")
            #expect(try await client.call(.delete, "/admin/webhooks/\(id)", token: admin, headers: key).status == .noContent)
            let again = try await client.call(.delete, "/admin/webhooks/\(id)", token: admin, headers: key)
            #expect(again.status == .noContent)
            #expect(again.headers[Self.replayed] == "true")
            #expect(try await client.call(.delete, "/admin/webhooks/\(id)", token: admin).status == .notFound)
        }
    }
}
