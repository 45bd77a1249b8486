import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SignoffCore
@testable import SignoffHTTP
import SignoffStore
import Synchronization
import Testing

/// What a loopback receiver saw: each request's headers and body.
final class Received: Sendable {
    struct Hit: Sendable {
        var delivery: String?
        var timestamp: String?
        var signature: String?
        var body: String
    }

    private let hits = Mutex<[Hit]>([])
    /// The first `failing` requests are answered 500.
    let failing: Int

    init(failing: Int) { self.failing = failing }

    func add(_ hit: Hit) -> Int { self.hits.withLock { $0.append(hit); return $0.count } }
    var all: [Hit] { self.hits.withLock { $0 } }
}

@Suite("Webhooks: signed deliveries, retries with the same id, dead letters, refused addresses", .timeLimit(.minutes(3)))
struct WebhookTests {
    static let secret = "s3cret-for-the-grid-robot"

    /// Runs `body` with a receiver on 127.0.0.1 whose port is passed in.
    static func withReceiver(failing: Int, _ body: @Sendable (Int, Received) async throws -> Void) async throws {
        let received = Received(failing: failing)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let count = received.add(.init(
                delivery: request.headers[HTTPField.Name(WebhookSignature.deliveryHeader)!],
                timestamp: request.headers[HTTPField.Name(WebhookSignature.timestampHeader)!],
                signature: request.headers[HTTPField.Name(WebhookSignature.signatureHeader)!],
                body: String(buffer: buffer)))
            return Response(status: count <= received.failing ? .internalServerError : .ok)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(port, received)
        }
    }

    static func createHook(_ client: some TestClientProtocol, _ world: TestWorld, url: String) async throws -> Reply {
        try await client.call(.post, "/admin/webhooks", token: try await world.token("admin"), json: [
            "unit_id": world.town.grid1.id.uuidString, "url": url, "secret": Self.secret, "events": ["timer.clearance_due"],
        ])
    }

    @Test func aReceiverThatFailsTwiceGetsTheThirdTryWithTheSameDeliveryIdAndAValidSignature() async throws {
        try await TestWorld.with(notificationSettings: .init(allowPrivateWebhookAddresses: true)) { world, client in
            try await Self.withReceiver(failing: 2) { port, received in
                let hook = try await Self.createHook(client, world, url: "http://127.0.0.1:\(port)/hook")
                #expect(hook.status == .created, "\(hook.text)")
                #expect(hook.json["secret"] == nil)
                _ = try await client.registerVehicle(world, plate: "川Q 12345", grid: world.town.grid1, by: "gw1")
                world.clock.advance(days: 14)
                let first = try await world.services.notificationWorker.runOnce()
                #expect(first.webhooks.failed == 1)
                // Not tried again before its backoff.
                #expect(try await world.services.notificationWorker.runOnce().webhooks.failed == 0)
                world.clock.advance(by: 3_600)
                #expect(try await world.services.notificationWorker.runOnce().webhooks.failed == 1)
                world.clock.advance(by: 3_600)
                #expect(try await world.services.notificationWorker.runOnce().webhooks.delivered == 1)
                world.clock.advance(by: 3_600)
                try await world.services.notificationWorker.runOnce()

                let hits = received.all
                #expect(hits.count == 3)
                let ids = Set(hits.map(\.delivery))
                #expect(ids.count == 1)
                let last = try #require(hits.last)
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(last.body.utf8)) as? [String: Any])
                #expect(payload["delivery_id"] as? String == last.delivery)
                #expect(payload["event"] as? String == "timer.clearance_due")
                #expect(payload["body"] as? String == "川Q12345 停放已满14天, 可申请通行证。")
                // The receiver's check: HMAC-SHA256 of "<timestamp>.<body>" with the shared secret.
                let timestamp = try #require(last.timestamp)
                let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(last.body)".utf8),
                                                          using: SymmetricKey(data: Data(Self.secret.utf8)))
                #expect(last.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
                #expect(last.signature != WebhookSignature.sign(body: last.body, timestamp: timestamp, secret: "another secret 123"))

                let delivered = try await client.call(.get, "/admin/webhook-deliveries?status=delivered", token: try await world.token("admin"))
                let rows = try #require(delivered.json["deliveries"] as? [[String: Any]])
                #expect(rows.count == 1)
                #expect(rows.first?["attempts"] as? Int == 3)
                #expect(rows.first?["id"] as? String == last.delivery?.uppercased() || rows.first?["id"] as? String == last.delivery)
            }
        }
    }

    @Test func aDeliveryThatKeepsFailingIsDeadLetteredAndCanBeReplayed() async throws {
        try await TestWorld.with(notificationSettings: .init(allowPrivateWebhookAddresses: true)) { world, client in
            try await Self.withReceiver(failing: 5) { port, received in
                #expect(try await Self.createHook(client, world, url: "http://127.0.0.1:\(port)/hook").status == .created)
                _ = try await client.registerVehicle(world, plate: "川Q 12345", grid: world.town.grid1, by: "gw1")
                world.clock.advance(days: 14)
                var dead = 0
                for _ in 0..<6 {
                    dead += try await world.services.notificationWorker.runOnce().webhooks.deadLettered
                    world.clock.advance(by: 3_600)
                }
                #expect(dead == 1)
                #expect(received.all.count == 5)
                let admin = try await world.token("admin")
                let list = try await client.call(.get, "/admin/webhook-deliveries?status=dead", token: admin)
                let rows = try #require(list.json["deliveries"] as? [[String: Any]])
                #expect(rows.count == 1)
                let id = try #require(rows.first?["id"] as? String)
                #expect(try await client.call(.get, "/admin/webhook-deliveries", token: try await world.token("gw1")).code == "forbidden_role")
                let replay = try await client.call(.post, "/admin/webhook-deliveries/\(id)/replay", token: admin)
                #expect(replay.status == .accepted, "\(replay.text)")
                #expect(try await world.services.notificationWorker.runOnce().webhooks.delivered == 1)
                #expect(received.all.count == 6)
                #expect(Set(received.all.map(\.delivery)).count == 1)
                let again = try await client.call(.post, "/admin/webhook-deliveries/\(id)/replay", token: admin)
                #expect(again.code == "invalid_transition")
            }
        }
    }

    @Test func privateAndLoopbackAddressesAndOtherSchemesAreRefused() async throws {
        try await TestWorld.with { world, client in
            for url in ["http://10.1.2.3/hook", "http://127.0.0.1:9/hook", "http://192.168.1.10/x", "http://[::1]/x",
                        "http://169.254.169.254/latest/meta-data", "http://localhost/x", "ftp://example.org/x", "not a url"] {
                let reply = try await Self.createHook(client, world, url: url)
                #expect(reply.status == .unprocessableContent, "\(url): \(reply.text)")
                #expect(reply.code == "address_refused", "\(url)")
            }
            #expect(try await world.count("SELECT count(*)::int FROM webhooks") == 0)
            let byGridWorker = try await client.call(.post, "/admin/webhooks", token: try await world.token("gw1"), json: [
                "unit_id": world.town.grid1.id.uuidString, "url": "https://example.org/hook", "secret": Self.secret,
            ])
            #expect(byGridWorker.code == "forbidden_role")
        }
    }
}
