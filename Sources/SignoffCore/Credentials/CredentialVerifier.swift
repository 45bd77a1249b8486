import Crypto
import Foundation

/// One published township key: what `GET /.well-known/signoff-keys` lists, and what a
/// checkpoint caches.
///
/// A key signs from `notBefore` until it is rotated out (`notAfter`); what it signed in that
/// window stays valid after the rotation, so old keys are kept in the list.
public struct CredentialKey: Codable, Hashable, Sendable {
    public var keyID: String
    /// The 32-byte Ed25519 public key, base64url without padding.
    public var publicKey: String
    public var notBefore: Date
    public var notAfter: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case keyID = "kid"
        case publicKey = "public_key"
        case notBefore = "not_before"
        case notAfter = "not_after"
    }

    /// Times are kept to the second, as credentials' are, so a key and what it signed at once agree.
    public init(keyID: String, publicKey: String, notBefore: Date, notAfter: Date? = nil) {
        self.keyID = keyID
        self.publicKey = publicKey
        self.notBefore = Credential.wholeSeconds(notBefore)
        self.notAfter = notAfter.map(Credential.wholeSeconds)
    }

    public init(publicKey: Curve25519.Signing.PublicKey, notBefore: Date, notAfter: Date? = nil) {
        self.init(keyID: Self.keyID(of: publicKey), publicKey: Base64URL.encode(publicKey.rawRepresentation),
                  notBefore: notBefore, notAfter: notAfter)
    }

    /// A key's id: the first 8 hex digits of the SHA-256 of its raw public key.
    public static func keyID(of publicKey: Curve25519.Signing.PublicKey) -> String {
        Hex.encode(SHA256.hash(data: publicKey.rawRepresentation).prefix(4))
    }

    /// Whether the key was current at `date`.
    public func covers(_ date: Date) -> Bool {
        self.notBefore <= date && (self.notAfter.map { date <= $0 } ?? true)
    }
}

/// What a check of a credential found. Only `.valid` lets a vehicle or person through; the
/// contents are given with the outcomes whose signature held, never with the others.
public enum CredentialVerification: Equatable, Sendable {
    /// 有效.
    case valid(Credential)
    /// 已过期: past `valid_until`.
    case expired(Credential)
    /// Not valid yet: before `valid_from`.
    case notYetValid(Credential)
    /// 已撤销: the number is on the revocation list.
    case revoked(Credential)
    /// The signing key was not current when the credential says it was issued.
    case keyNotCurrent(Credential)
    /// 签名无效: the signature does not match the contents.
    case badSignature
    /// No key with this id in the list (a forgery, or a list too old).
    case unknownKey(String)
    /// Not a credential at all: empty, garbage, truncated, or an unknown version.
    case malformed

    public var isValid: Bool {
        if case .valid = self { return true }
        return false
    }
}

/// Checks a credential's text form offline against a key list, a revocation list and a time.
/// Any input gives a result; none throws or traps.
public struct CredentialVerifier: Sendable {
    public let keys: [CredentialKey]
    /// Numbers of passes revoked and certificates cancelled.
    public let revoked: Set<String>

    public init(keys: [CredentialKey], revoked: Set<String> = []) {
        self.keys = keys
        self.revoked = revoked
    }

    public func verify(_ text: String, at now: Date) -> CredentialVerification {
        guard let signed = SignedCredential.parse(text) else { return .malformed }
        return self.verify(signed, at: now)
    }

    public func verify(_ signed: SignedCredential, at now: Date) -> CredentialVerification {
        let credential = signed.credential
        guard let key = self.keys.first(where: { $0.keyID == credential.keyID }) else { return .unknownKey(credential.keyID) }
        guard let raw = Base64URL.decode(key.publicKey),
              let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
              publicKey.isValidSignature(signed.signature, for: signed.payload)
        else { return .badSignature }
        guard key.covers(credential.issuedAt) else { return .keyNotCurrent(credential) }
        if self.revoked.contains(credential.number) { return .revoked(credential) }
        if now < credential.validFrom { return .notYetValid(credential) }
        if now > credential.validUntil { return .expired(credential) }
        return .valid(credential)
    }
}
