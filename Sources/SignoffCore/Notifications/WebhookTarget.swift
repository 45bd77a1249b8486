import Foundation

/// The checks on a webhook URL that keep the service from being an SSRF tool: only http(s),
/// a host, and (unless a setting allows them) no loopback, private, link-local or other
/// special-purpose address. The host's addresses are resolved by the caller and checked here.
public struct WebhookTarget: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int

    /// Parses `text`; `address_refused` for anything but an absolute http(s) URL with a host.
    public static func parse(_ text: String) throws(SignoffError) -> WebhookTarget {
        guard text.count <= 2_000, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https"
        else { throw Self.refused("Only http:// and https:// webhook addresses are allowed.") }
        guard let host = url.host, !host.isEmpty, url.user == nil, url.password == nil else {
            throw Self.refused("A webhook address names a host, without a user name or password.")
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return WebhookTarget(scheme: scheme, host: bare, port: url.port ?? (scheme == "https" ? 443 : 80))
    }

    /// Refuses the target when any of its resolved addresses is not public and private ones are not allowed.
    public static func check(addresses: [[UInt8]], allowPrivate: Bool) throws(SignoffError) {
        guard !addresses.isEmpty else { throw Self.refused("The webhook host has no address.") }
        guard !allowPrivate else { return }
        if addresses.contains(where: { !Self.isPublic($0) }) {
            throw Self.refused("The webhook address is loopback, private or reserved; such addresses are refused.")
        }
    }

    /// True for a routable public IPv4 (4 bytes) or IPv6 (16 bytes) address.
    public static func isPublic(_ bytes: [UInt8]) -> Bool {
        switch bytes.count {
        case 4: return Self.isPublicIPv4(bytes)
        case 16:
            // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses are their IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && ((bytes[10] == 0xff && bytes[11] == 0xff) || (bytes[10] == 0 && bytes[11] == 0)) {
                return Self.isPublicIPv4(Array(bytes[12..<16]))
            }
            if bytes[0] & 0xfe == 0xfc { return false }  // fc00::/7 unique local
            if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return false }  // fe80::/10 link-local
            if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0xc0 { return false }  // fec0::/10 site-local
            if bytes[0] == 0xff { return false }  // multicast
            if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8 { return false }  // documentation
            if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b { return false }  // NAT64
            return true
        default:
            return false
        }
    }

    static func isPublicIPv4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): false
        case (100, let x) where x & 0xc0 == 64: false  // 100.64.0.0/10 carrier-grade NAT
        case (169, 254): false
        case (172, let x) where x & 0xf0 == 16: false
        case (192, 168): false
        case (192, 0) where b[2] == 0 || b[2] == 2: false
        case (198, let x) where x == 18 || x == 19: false
        case (198, 51) where b[2] == 100: false
        case (203, 0) where b[2] == 113: false
        case (let first, _) where first >= 224: false  // multicast, reserved, broadcast
        default: true
        }
    }

    static func refused(_ detail: String) -> SignoffError {
        SignoffError(.addressRefused, detail, extra: ["field": "url"])
    }
}
