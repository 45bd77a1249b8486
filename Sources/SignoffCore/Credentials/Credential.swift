import Crypto
import Foundation

/// A signed credential a checkpoint can check offline: a 通行证, a 健康证 or a 农用车通行证明,
/// as the EU Digital COVID Certificate did (a signed payload in the QR code, checked against a
/// published key list).
///
/// It carries only what the person at the road needs: the kind, the number, the plate or the
/// masked holder name, the scope and the validity, and which township key signed it.
public struct Credential: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// 通行证: a vehicle pass.
        case vehiclePass = "vehicle_pass"
        /// 健康证: a worker's health certificate.
        case healthCertificate = "health_certificate"
        /// 农用车通行证明: a farm vehicle's pass.
        case agriculturalPass = "agricultural_pass"

        /// The tag in the binary encoding; never renumbered.
        var tag: UInt8 {
            switch self {
            case .vehiclePass: 1
            case .healthCertificate: 2
            case .agriculturalPass: 3
            }
        }

        init?(tag: UInt8) {
            guard let kind = Self.allCases.first(where: { $0.tag == tag }) else { return nil }
            self = kind
        }

        public var chineseName: String {
            switch self {
            case .vehiclePass: "通行证"
            case .healthCertificate: "健康证"
            case .agriculturalPass: "农用车通行证明"
            }
        }
    }

    public var kind: Kind
    /// The number printed on the paper, e.g. `通行证-2020-1A2B3C4D`.
    public var number: String
    /// The plate of a vehicle, or the holder's name masked with `Credential.maskName` (张*三).
    public var subject: String
    /// Where it holds, e.g. `联合苗族乡—成都`.
    public var scope: String
    /// When it was signed; the signing key must have been current then.
    public var issuedAt: Date
    public var validFrom: Date
    public var validUntil: Date
    /// The id of the township key that signed it (`SigningKeys` in the store).
    public var keyID: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind
        case number
        case subject
        case scope
        case issuedAt = "issued_at"
        case validFrom = "valid_from"
        case validUntil = "valid_until"
        case keyID = "key_id"
    }

    /// Times are kept to the second, as the encoding does, so a decoded credential equals the signed one.
    public init(kind: Kind, number: String, subject: String, scope: String, issuedAt: Date,
                validFrom: Date, validUntil: Date, keyID: String) {
        self.kind = kind
        self.number = number
        self.subject = subject
        self.scope = scope
        self.issuedAt = Self.wholeSeconds(issuedAt)
        self.validFrom = Self.wholeSeconds(validFrom)
        self.validUntil = Self.wholeSeconds(validUntil)
        self.keyID = keyID
    }

    static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    /// A holder's name as a credential shows it: the family name, then one `*` for each hidden
    /// character, then the last character when the name has three or more.
    ///
    /// 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明, 李 → *. Spaces around the name are dropped.
    public static func maskName(_ name: String) -> String {
        let characters = Array(name.trimmingCharacters(in: .whitespacesAndNewlines))
        switch characters.count {
        case 0: return ""
        case 1: return "*"
        case 2: return String(characters[0]) + "*"
        default:
            return String(characters[0]) + String(repeating: "*", count: characters.count - 2) + String(characters[characters.count - 1])
        }
    }
}

/// Why a credential could not be encoded.
public enum CredentialEncodingError: Error, Equatable, Sendable {
    /// A text field longer than the encoding holds (255 bytes of UTF-8).
    case fieldTooLong(String)
    /// `valid_until` before `valid_from`.
    case emptyValidity
}

/// The compact canonical form: fixed-order binary fields, so the same credential always gives
/// the same bytes and the same signature input.
///
/// Version 1, all integers big-endian:
///
///     version  u8   = 1
///     kind     u8   (1 通行证, 2 健康证, 3 农用车通行证明)
///     key_id   u8 length + UTF-8
///     number   u8 length + UTF-8
///     subject  u8 length + UTF-8
///     scope    u8 length + UTF-8
///     issued_at, valid_from, valid_until   i64 seconds since 1970-01-01T00:00:00Z each
///
/// The signed form is the payload followed by its 64-byte Ed25519 signature; its text form is
/// `SO1.` and the base64url (no padding) of those bytes, short enough for a QR code.
public enum CredentialEncoding {
    public static let version: UInt8 = 1
    public static let textPrefix = "SO1."
    public static let signatureLength = 64
    static let maximumFieldBytes = 255
    /// Longer texts are refused before decoding (a credential is about 200 characters).
    static let maximumTextLength = 2048

    public static func payload(_ credential: Credential) throws(CredentialEncodingError) -> [UInt8] {
        guard credential.validUntil >= credential.validFrom else { throw .emptyValidity }
        var bytes: [UInt8] = [Self.version, credential.kind.tag]
        for (name, field) in [("key_id", credential.keyID), ("number", credential.number),
                              ("subject", credential.subject), ("scope", credential.scope)] {
            let utf8 = Array(field.utf8)
            guard utf8.count <= Self.maximumFieldBytes else { throw .fieldTooLong(name) }
            bytes.append(UInt8(utf8.count))
            bytes.append(contentsOf: utf8)
        }
        for date in [credential.issuedAt, credential.validFrom, credential.validUntil] {
            let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
            withUnsafeBytes(of: seconds.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Reads a payload; nil when it is not exactly one well-formed version-1 payload.
    public static func credential(fromPayload bytes: [UInt8]) -> Credential? {
        var reader = ByteReader(bytes)
        guard reader.byte() == Self.version, let tag = reader.byte(), let kind = Credential.Kind(tag: tag),
              let keyID = reader.text(), let number = reader.text(), let subject = reader.text(), let scope = reader.text(),
              let issued = reader.int64(), let from = reader.int64(), let until = reader.int64(),
              reader.isAtEnd, until >= from, !keyID.isEmpty, !number.isEmpty
        else { return nil }
        return Credential(kind: kind, number: number, subject: subject, scope: scope,
                          issuedAt: Date(timeIntervalSince1970: TimeInterval(issued)),
                          validFrom: Date(timeIntervalSince1970: TimeInterval(from)),
                          validUntil: Date(timeIntervalSince1970: TimeInterval(until)), keyID: keyID)
    }

    private struct ByteReader {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { self.index == self.bytes.count }

        mutating func byte() -> UInt8? {
            guard self.index < self.bytes.count else { return nil }
            defer { self.index += 1 }
            return self.bytes[self.index]
        }

        mutating func text() -> String? {
            guard let length = self.byte().map(Int.init), self.bytes.count - self.index >= length else { return nil }
            let slice = self.bytes[self.index ..< self.index + length]
            self.index += length
            // Strict: invalid UTF-8 is refused, not repaired.
            let text = String(decoding: slice, as: UTF8.self)
            return Array(text.utf8) == Array(slice) ? text : nil
        }

        mutating func int64() -> Int64? {
            guard self.bytes.count - self.index >= 8 else { return nil }
            var value: Int64 = 0
            for byte in self.bytes[self.index ..< self.index + 8] { value = value << 8 | Int64(byte) }
            self.index += 8
            // Times outside years 0001–9999 are not times a township signs.
            guard (-62_135_596_800 ... 253_402_300_799).contains(value) else { return nil }
            return value
        }
    }
}

/// A credential with its signature: what goes into the QR code.
public struct SignedCredential: Hashable, Sendable {
    public let credential: Credential
    /// The canonical payload, exactly as signed.
    public let payload: [UInt8]
    public let signature: [UInt8]

    /// Signs `credential` with `key`; `credential.keyID` must be the key's id (the caller's duty).
    public static func sign(_ credential: Credential, with key: Curve25519.Signing.PrivateKey) throws -> SignedCredential {
        let payload = try CredentialEncoding.payload(credential)
        let signature = try key.signature(for: payload)
        return SignedCredential(credential: credential, payload: payload, signature: Array(signature))
    }

    init(credential: Credential, payload: [UInt8], signature: [UInt8]) {
        self.credential = credential
        self.payload = payload
        self.signature = signature
    }

    /// The text in the QR code: `SO1.` + base64url(payload ‖ signature).
    public var text: String {
        CredentialEncoding.textPrefix + Base64URL.encode(self.payload + self.signature)
    }

    /// A short code to read out over the phone: the first 8 base32 characters of the SHA-256 of
    /// the signed bytes, in two groups of four (`K7QX-M2PA`). It names this signed credential; it
    /// proves nothing by itself.
    public var checkCode: String {
        let digest = Array(SHA256.hash(data: self.payload + self.signature))
        let code = Base32.encode(digest).prefix(8)
        return String(code.prefix(4)) + "-" + String(code.suffix(4))
    }

    /// Splits a text form into its parts; nil when it is not one (no check of the signature).
    public static func parse(_ text: String) -> SignedCredential? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count <= CredentialEncoding.maximumTextLength, trimmed.hasPrefix(CredentialEncoding.textPrefix),
              let bytes = Base64URL.decode(String(trimmed.dropFirst(CredentialEncoding.textPrefix.count))),
              bytes.count > CredentialEncoding.signatureLength
        else { return nil }
        let payload = Array(bytes.dropLast(CredentialEncoding.signatureLength))
        let signature = Array(bytes.suffix(CredentialEncoding.signatureLength))
        guard let credential = CredentialEncoding.credential(fromPayload: payload) else { return nil }
        return SignedCredential(credential: credential, payload: payload, signature: signature)
    }
}

/// base64url without padding (RFC 4648 §5), strict on input.
public enum Base64URL {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Nil for anything but unpadded base64url.
    public static func decode(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.count % 4 != 1,
              text.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
        else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        guard let data = Data(base64Encoded: standard) else { return nil }
        // Only the canonical spelling: unused trailing bits must be zero.
        guard Self.encode(data) == text else { return nil }
        return Array(data)
    }
}

/// RFC 4648 base32 (A–Z, 2–7), without padding.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    public static func encode(_ bytes: [UInt8]) -> String {
        var result = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                result.append(Self.alphabet[Int(buffer >> UInt32(bits - 5) & 0x1F)])
                bits -= 5
            }
        }
        if bits > 0 { result.append(Self.alphabet[Int(buffer << UInt32(5 - bits) & 0x1F)]) }
        return result
    }
}
