import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffHTTP

/// A request that does not finish within the deadline is answered `503 request_timeout`
/// (problem+json, `Retry-After`), whether or not its handler reacts to cancellation.
@Suite("Request deadline", .timeLimit(.minutes(1)))
struct RequestDeadlineTests {
    /// Ends when cancelled.
    static func waitsForCancellation() async throws {
        try await Task.sleep(for: .seconds(600))
    }

    /// Ignores cancellation for `seconds` (a dependency that cannot be interrupted).
    static func ignoresCancellation(seconds: Double) async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { continuation.resume() }
        }
    }

    static func app(deadline: Duration) -> some ApplicationProtocol {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ProblemMiddleware(routes: RouteTable()))
        router.get("/slow") { _, _ in
            try await Self.waitsForCancellation()
            return "never"
        }
        router.get("/stuck") { _, _ in
            await Self.ignoresCancellation(seconds: 5)
            return "late"
        }
        router.get("/quick") { _, _ in "quick" }
        let responder = DeadlineResponder(inner: router.buildResponder(), deadline: deadline, grace: .milliseconds(300))
        return Application(responder: responder, logger: TestCluster.logger)
    }

    static func expectTimeout(_ reply: Reply, _ what: String) {
        #expect(reply.status == .serviceUnavailable, "\(what): \(reply.text)")
        #expect(reply.code == "request_timeout", "\(what)")
        #expect(reply.headers[.contentType] == "application/problem+json", "\(what)")
        #expect(reply.headers[.retryAfter] == "2", "\(what)")
        #expect(reply.headers[.connection] == "close", "\(what)")
    }

    @Test func aHandlerPastTheDeadlineIsCancelledAndAnswered503() async throws {
        try await Self.app(deadline: .milliseconds(300)).test(.router) { client in
            Self.expectTimeout(try await client.call(.get, "/slow"), "slow")
            #expect(try await client.call(.get, "/quick").text == "quick")
        }
    }

    @Test func aHandlerThatIgnoresCancellationIsStillAnswered() async throws {
        try await Self.app(deadline: .milliseconds(300)).test(.router) { client in
            Self.expectTimeout(try await client.call(.get, "/stuck"), "stuck")
        }
    }

    @Test func aWebPagePastTheDeadlineIsAChinesePage() async throws {
        let router = Router(context: AppRequestContext.self)
        router.get("/app/slow") { _, _ in
            try await Self.waitsForCancellation()
            return "never"
        }
        let app = Application(responder: DeadlineResponder(inner: router.buildResponder(), deadline: .milliseconds(300)),
                              logger: TestCluster.logger)
        try await app.test(.router) { client in
            let page = try await client.call(.get, "/app/slow")
            #expect(page.status == .serviceUnavailable)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("处理超时"))
        }
    }
}
