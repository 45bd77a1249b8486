import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SignoffCore
import SignoffStore
#if canImport(Glibc)
import Glibc
#endif

/// Settings of the notification worker and its webhooks.
public struct NotificationSettings: Sendable {
    /// Allow webhook URLs on loopback and private addresses (`SIGNOFF_WEBHOOK_ALLOW_PRIVATE=1`),
    /// for a robot inside the township's own network. Off by default, so the service cannot be
    /// pointed at internal hosts.
    public var allowPrivateWebhookAddresses: Bool
    /// How long one webhook request may take.
    public var requestTimeout: Duration

    public init(allowPrivateWebhookAddresses: Bool = false, requestTimeout: Duration = .seconds(10)) {
        self.allowPrivateWebhookAddresses = allowPrivateWebhookAddresses
        self.requestTimeout = requestTimeout
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> NotificationSettings {
        let allow = environment["SIGNOFF_WEBHOOK_ALLOW_PRIVATE"].map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false
        return NotificationSettings(allowPrivateWebhookAddresses: allow)
    }
}

/// The signature a receiver checks: `sha256=` and the hex HMAC-SHA256, keyed with the
/// webhook's secret, of `<timestamp>.<body>` (the `X-Signoff-Timestamp` header, a dot, the body).
public enum WebhookSignature {
    public static let deliveryHeader = "X-Signoff-Delivery"
    public static let eventHeader = "X-Signoff-Event"
    public static let timestampHeader = "X-Signoff-Timestamp"
    public static let signatureHeader = "X-Signoff-Signature"

    public static func sign(body: String, timestamp: String, secret: String) -> String {
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: key)
        return "sha256=" + Hex.encode(mac)
    }
}

/// Checks a webhook URL: its form, then every address its host resolves to.
public enum WebhookAddressCheck {
    public static func check(_ url: String, allowPrivate: Bool) throws -> WebhookTarget {
        let target = try WebhookTarget.parse(url)
        try WebhookTarget.check(addresses: Self.resolve(target.host), allowPrivate: allowPrivate)
        return target
    }

    /// The IPv4 and IPv6 addresses of `host`, as bytes; an IP literal is itself.
    static func resolve(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = info.pointee.ai_addr {
                switch info.pointee.ai_family {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}

/// Sends due webhook deliveries with AsyncHTTPClient: a JSON POST signed with HMAC-SHA256,
/// the delivery id in a header for the receiver's deduplication, no redirects followed, and
/// the host's addresses checked again before each try (a name may have been re-pointed).
public struct WebhookSender: Sendable {
    public struct Report: Sendable, Equatable {
        public var delivered = 0
        public var failed = 0
        public var deadLettered = 0

        public init() {}
    }

    public let store: WebhookStore
    public let settings: NotificationSettings
    let logger: Logger

    public init(store: WebhookStore, settings: NotificationSettings, logger: Logger) {
        self.store = store
        self.settings = settings
        self.logger = logger
    }

    /// Sends every delivery due now, once each.
    @discardableResult
    public func sendDue() async throws -> Report {
        var report = Report()
        let claimed = try await self.store.claimDue()
        guard !claimed.isEmpty else { return report }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        for delivery in claimed {
            let (succeeded, status, error) = await self.send(delivery, client: client)
            switch try await self.store.record(delivery, succeeded: succeeded, status: status, error: error) {
            case .delivered: report.delivered += 1
            case .retry: report.failed += 1
            case .dead:
                report.failed += 1
                report.deadLettered += 1
            }
        }
        try await client.shutdown()
        return report
    }

    private func send(_ delivery: ClaimedDelivery, client: HTTPClient) async -> (Bool, Int?, String?) {
        do {
            _ = try WebhookAddressCheck.check(delivery.url, allowPrivate: self.settings.allowPrivateWebhookAddresses)
        } catch {
            return (false, nil, "address refused: \(String(reflecting: error))")
        }
        let timestamp = String(Int64(self.store.clock.now().timeIntervalSince1970))
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "signoff-webhook")
        request.headers.add(name: WebhookSignature.deliveryHeader, value: delivery.id.uuidString.lowercased())
        request.headers.add(name: WebhookSignature.eventHeader, value: delivery.event)
        request.headers.add(name: WebhookSignature.timestampHeader, value: timestamp)
        request.headers.add(name: WebhookSignature.signatureHeader,
                            value: WebhookSignature.sign(body: delivery.body, timestamp: timestamp, secret: delivery.secret))
        request.body = .bytes(ByteBuffer(string: delivery.body))
        do {
            let response = try await client.execute(request, timeout: .init(self.settings.requestTimeout))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let code = Int(response.status.code)
            return ((200..<300).contains(code), code, (200..<300).contains(code) ? nil : "HTTP \(code)")
        } catch {
            self.logger.info("webhook try failed", metadata: [
                "signoff.webhook.delivery": "\(delivery.id)", "signoff.error": "\(String(reflecting: error))",
            ])
            return (false, nil, String(describing: error))
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
