import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffHTTP
@testable import SignoffStore

#if canImport(Glibc)
import Glibc
#endif

/// While PostgreSQL is unreachable every request gets a bounded `503 database_unavailable`
/// with `Retry-After`: never a hang, never a 500. (The real restart is in `ops/faults/run`.)
@Suite("Database outages answer 503 within a bound", .timeLimit(.minutes(1)))
struct DatabaseOutageTests {
    /// A loopback port that accepts connections and never answers, like a server that froze or
    /// a network that drops packets; closed when the test ends.
    final class BlackHole: Sendable {
        let port: Int
        private let fd: Int32

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            try #require(ok)
            self.fd = fd
            self.port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(self.fd) }
    }

    /// The router on a database at `port`, with short bounds so the test is quick.
    static func withUnreachableDatabase(port: Int, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let endpoint = DatabaseEndpoint(host: "127.0.0.1", port: port, username: "signoff", password: "x", database: "signoff")
        let limits = DatabaseLimits(connectionWait: .milliseconds(500), unreachableWait: .milliseconds(100), operation: .seconds(2))
        let database = Database(endpoint: endpoint, maxConnections: 4, limits: limits, logger: TestCluster.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            let services = SignoffServices(database: database, clock: SignoffCore.SystemWallClock())
            let app = Application(router: buildRouter(services), logger: TestCluster.logger)
            try await app.test(.router) { client in try await body(client) }
        }
    }

    static func expectUnavailable(_ reply: Reply, _ what: String) {
        #expect(reply.status == .serviceUnavailable, "\(what): \(reply.text)")
        #expect(reply.code == "database_unavailable", "\(what)")
        #expect(reply.headers[.retryAfter] != nil, "\(what)")
    }

    static func exercise(_ client: any TestClientProtocol) async throws {
        expectUnavailable(try await client.call(.get, "/ready"), "ready")
        expectUnavailable(try await client.call(.post, "/auth/login", json: ["login": "admin", "password": "x"]), "login")
        expectUnavailable(try await client.call(.get, "/me", headers: [.authorization: "Bearer abc"]), "me")
        // Several at once, and again: the pool recovers from each failure and stays bounded.
        try await withThrowingTaskGroup(of: Reply.self) { group in
            for _ in 0..<8 { group.addTask { try await client.call(.get, "/ready") } }
            for try await reply in group { expectUnavailable(reply, "ready burst") }
        }
    }

    @Test func aRefusedConnectionIs503WithRetryAfter() async throws {
        // Bound and closed at once: nothing listens there.
        let port = try BlackHole().port
        try await Self.withUnreachableDatabase(port: port) { client in try await Self.exercise(client) }
    }

    @Test func aServerThatNeverAnswersIs503NotAHang() async throws {
        let hole = try BlackHole()
        try await Self.withUnreachableDatabase(port: hole.port) { client in try await Self.exercise(client) }
        withExtendedLifetime(hole) {}
    }
}
