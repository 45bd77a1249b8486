import Crypto
import Foundation
import SignoffCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The township's Ed25519 signing key, and every public key it has had.
///
/// - The private key is a file of one line, the base64url of the 32-byte raw key: by default
///   `signing-key.ed25519` in the data folder, created on first start with mode 0600 (and
///   refused later if others may read it); or the file `SIGNOFF_SIGNING_KEY_FILE` names, for a
///   deployment that keeps its secrets elsewhere.
/// - The public keys are listed in `signing-keys.json` in the data folder, oldest first, each
///   with its window (`CredentialKey`). A rotation closes the current key's window and adds the
///   new one; old public keys stay listed, so what they signed stays verifiable.
///
/// The list is a file, not a table: it belongs with the private key, it is read before the
/// database is reachable, and it is configuration rather than a record of the township's work
/// (writes to the database go through the transition pipeline, which has no place for it).
/// Its history is in the list itself: each key's `not_before` and `not_after`.
public struct SigningKeys: Sendable {
    public static let keyFileName = "signing-key.ed25519"
    public static let listFileName = "signing-keys.json"
    public static let environmentVariable = "SIGNOFF_SIGNING_KEY_FILE"

    /// The key that signs now.
    public let current: Curve25519.Signing.PrivateKey
    public var keyID: String { CredentialKey.keyID(of: self.current.publicKey) }
    /// Every public key, oldest first; the current one is last and open-ended.
    public let published: [CredentialKey]

    public init(current: Curve25519.Signing.PrivateKey, published: [CredentialKey]) {
        self.current = current
        self.published = published
    }

    /// A key held only in memory, for tests and for a router built without a data folder.
    public static func ephemeral(now: Date = Date()) -> SigningKeys {
        let key = Curve25519.Signing.PrivateKey()
        return SigningKeys(current: key, published: [CredentialKey(publicKey: key.publicKey, notBefore: now)])
    }

    /// Signs a credential with the current key (its `key_id` is set here).
    public func sign(kind: Credential.Kind, number: String, subject: String, scope: String,
                     issuedAt: Date, validFrom: Date, validUntil: Date) throws -> SignedCredential {
        let credential = Credential(kind: kind, number: number, subject: subject, scope: scope, issuedAt: issuedAt,
                                    validFrom: validFrom, validUntil: validUntil, keyID: self.keyID)
        return try SignedCredential.sign(credential, with: self.current)
    }

    /// A verifier over the published keys.
    public func verifier(revoked: Set<String> = []) -> CredentialVerifier {
        CredentialVerifier(keys: self.published, revoked: revoked)
    }

    // MARK: Files

    /// Reads the key (creating it in `dataFolder` on first start unless `SIGNOFF_SIGNING_KEY_FILE`
    /// names one) and the list, adding the key to the list when it is new there.
    public static func load(dataFolder: URL, environment: [String: String] = ProcessInfo.processInfo.environment,
                            now: Date = Date()) throws -> SigningKeys {
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
        let key: Curve25519.Signing.PrivateKey
        let keyFile: URL
        if let path = environment[Self.environmentVariable], !path.isEmpty {
            keyFile = URL(fileURLWithPath: path)
            key = try Self.readKey(at: keyFile, requirePrivate: false)
        } else {
            keyFile = dataFolder.appendingPathComponent(Self.keyFileName)
            if !FileManager.default.fileExists(atPath: keyFile.path) {
                // Exclusive create: two processes starting at once cannot both write a key.
                _ = try? Self.writeNewKey(Curve25519.Signing.PrivateKey(), to: keyFile)
            }
            key = try Self.readKey(at: keyFile, requirePrivate: true)
        }
        // A key older than its list (the list lost, or a key made before its first use) has
        // signed since the file was written: its window opens then, not now.
        let written = (try? FileManager.default.attributesOfItem(atPath: keyFile.path)[.modificationDate]) as? Date
        return try Self.adopt(key, dataFolder: dataFolder, now: now, firstSigned: min(now, written ?? now))
    }

    /// Replaces the data folder's key by a new one; the old public key stays in the list, its
    /// window closed at `now`. Refused when the key comes from `SIGNOFF_SIGNING_KEY_FILE`:
    /// there the operator rotates by giving a new file.
    public static func rotate(dataFolder: URL, environment: [String: String] = ProcessInfo.processInfo.environment,
                              now: Date = Date()) throws -> SigningKeys {
        if let path = environment[Self.environmentVariable], !path.isEmpty {
            throw SignoffError(.invalidValue, "The signing key comes from \(Self.environmentVariable) (\(path)); rotate it by giving a new key file there.")
        }
        _ = try Self.load(dataFolder: dataFolder, environment: environment, now: now)
        let file = dataFolder.appendingPathComponent(Self.keyFileName)
        let fresh = file.appendingPathExtension("new")
        try? FileManager.default.removeItem(at: fresh)
        let key = Curve25519.Signing.PrivateKey()
        try Self.writeNewKey(key, to: fresh)
        // The new key first, the list after: a crash in between is healed by the next `load`.
        guard rename(fresh.path, file.path) == 0 else {
            throw SignoffError(.internalError, "Could not put the new signing key in place at \(file.path): \(String(cString: strerror(errno))).")
        }
        return try Self.adopt(key, dataFolder: dataFolder, now: now, firstSigned: now)
    }

    /// Generates a key file for `SIGNOFF_SIGNING_KEY_FILE` (mode 0600); fails if the file exists.
    public static func generateKeyFile(at file: URL) throws -> String {
        let key = Curve25519.Signing.PrivateKey()
        try Self.writeNewKey(key, to: file)
        return CredentialKey.keyID(of: key.publicKey)
    }

    /// The list with `key` in it as the current key. A key new to a list that has none opens
    /// its window at `firstSigned`; one that replaces another opens it at `now`, when the other's closes.
    private static func adopt(_ key: Curve25519.Signing.PrivateKey, dataFolder: URL, now: Date,
                              firstSigned: Date) throws -> SigningKeys {
        let listFile = dataFolder.appendingPathComponent(Self.listFileName)
        var list = try Self.readList(at: listFile)
        let keyID = CredentialKey.keyID(of: key.publicKey)
        if let entry = list.first(where: { $0.keyID == keyID }) {
            if let retired = entry.notAfter {
                throw SignoffError(.invalidValue, "The signing key \(keyID) was retired at \(retired.formatted(.iso8601)); it may not sign again. Give the current key, or rotate.")
            }
        } else {
            for index in list.indices where list[index].notAfter == nil {
                list[index].notAfter = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
            }
            list.append(CredentialKey(publicKey: key.publicKey, notBefore: list.isEmpty ? firstSigned : now))
            try Self.writeList(list, to: listFile)
        }
        return SigningKeys(current: key, published: list)
    }

    static func readKey(at file: URL, requirePrivate: Bool) throws -> Curve25519.Signing.PrivateKey {
        let attributes: [FileAttributeKey: Any]
        let text: String
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw SignoffError(.invalidValue, "The signing key file \(file.path) cannot be read: \(error.localizedDescription)")
        }
        if requirePrivate, let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw SignoffError(.invalidValue, "The signing key file \(file.path) may be read by others (mode \(String(mode, radix: 8))); make it private with chmod 600.")
        }
        guard let raw = Base64URL.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw SignoffError(.invalidValue, "The signing key file \(file.path) does not hold an Ed25519 key (one line: the base64url of its 32 bytes).")
        }
        return key
    }

    /// Creates `file` with mode 0600 from the start (never readable by others, not even briefly).
    @discardableResult
    static func writeNewKey(_ key: Curve25519.Signing.PrivateKey, to file: URL) throws -> URL {
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw SignoffError(.internalError, "Could not create the signing key file \(file.path): \(String(cString: strerror(errno))).")
        }
        defer { close(descriptor) }
        let bytes = Array((Base64URL.encode(key.rawRepresentation) + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw SignoffError(.internalError, "Could not write the signing key file \(file.path).")
        }
        return file
    }

    struct KeyList: Codable {
        var keys: [CredentialKey]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case keys
        }
    }

    static func readList(at file: URL) throws -> [CredentialKey] {
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        do {
            return try StoredForm.decoder().decode(KeyList.self, from: Data(contentsOf: file)).keys
        } catch {
            throw SignoffError(.invalidValue, "The key list \(file.path) cannot be read: \(error)")
        }
    }

    static func writeList(_ keys: [CredentialKey], to file: URL) throws {
        let encoder = StoredForm.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        try (encoder.encode(KeyList(keys: keys)) + Data("\n".utf8)).write(to: file, options: .atomic)
    }
}
