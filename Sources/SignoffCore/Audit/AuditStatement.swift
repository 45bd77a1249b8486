import Crypto
import Foundation

/// A signed, dated statement of the audit trail at one moment (审计签名链头): how many audit
/// rows there were, every subject's chain head, a Merkle root over those heads (`MerkleTree`),
/// and the township key's Ed25519 signature over the date, the counts and the root.
///
/// Kept outside the database, it proves later that no history that existed at that moment was
/// cut or rewritten, even by someone able to disable the audit triggers: each subject's chain,
/// recomputed up to the seq the statement names, must end in the head the statement lists, and
/// the heads must give the signed root.
///
/// The file is text, one field a line:
///
///     signoff-audit-checkpoint 1
///     created-at 2020-02-20T16:00:00Z
///     records 1234
///     subjects 120
///     merkle-root <64 hex digits>
///     key-id <the township key's id>
///     signature <base64url of the 64-byte Ed25519 signature>
///     heads
///     <subject id> <seq> <head hash, 64 hex digits> <kind>
///     …
///     end
///
/// Lines starting with `#` are comments. The signature covers the first six lines exactly as
/// `signedText` writes them; the heads are bound by the root.
public struct AuditStatement: Sendable, Equatable {
    public struct Head: Sendable, Hashable {
        public var subjectID: UUID
        public var subjectKind: String
        /// The seq of the chain's last row at the statement's moment.
        public var seq: Int
        /// That row's hash (32 bytes).
        public var hash: [UInt8]

        public init(subjectID: UUID, subjectKind: String, seq: Int, hash: [UInt8]) {
            self.subjectID = subjectID
            self.subjectKind = subjectKind
            self.seq = seq
            self.hash = hash
        }

        var leaf: MerkleTree.Leaf { MerkleTree.Leaf(subjectID: self.subjectID, headHash: self.hash) }
    }

    public static let formatVersion = 1
    static let firstLine = "signoff-audit-checkpoint \(formatVersion)"

    /// Whole seconds, as written.
    public let createdAt: Date
    /// Audit rows in the trail at `createdAt`: the sum of the heads' seqs.
    public let records: Int
    /// Sorted by subject id as the Merkle tree orders leaves.
    public let heads: [Head]
    public let merkleRoot: [UInt8]
    public let keyID: String
    public let signature: [UInt8]

    public var subjects: Int { self.heads.count }
    public var merkleRootHex: String { Self.hex(self.merkleRoot) }

    /// The statement's signed part.
    public static func signedText(createdAt: Date, records: Int, subjects: Int, root: [UInt8], keyID: String) -> String {
        [
            Self.firstLine,
            "created-at \(Self.stamp(createdAt))",
            "records \(records)",
            "subjects \(subjects)",
            "merkle-root \(Self.hex(root))",
            "key-id \(keyID)",
        ].map { $0 + "\n" }.joined()
    }

    public var signedText: String {
        Self.signedText(createdAt: self.createdAt, records: self.records, subjects: self.subjects, root: self.merkleRoot, keyID: self.keyID)
    }

    /// Signs the heads as of `createdAt` with `key` (whose id is `keyID`).
    public static func sign(createdAt: Date, heads: [Head], keyID: String,
                            with key: Curve25519.Signing.PrivateKey) throws -> AuditStatement {
        let created = Date(timeIntervalSince1970: createdAt.timeIntervalSince1970.rounded(.down))
        let sorted = Self.sorted(heads)
        let root = MerkleTree.root(sorted.map(\.leaf))
        let records = sorted.reduce(0) { $0 + $1.seq }
        let text = Self.signedText(createdAt: created, records: records, subjects: sorted.count, root: root, keyID: keyID)
        let signature = try key.signature(for: Data(text.utf8))
        return AuditStatement(createdAt: created, records: records, heads: sorted, merkleRoot: root, keyID: keyID,
                              signature: Array(signature))
    }

    static func sorted(_ heads: [Head]) -> [Head] {
        heads.sorted { $0.leaf.data.lexicographicallyPrecedes($1.leaf.data) }
    }

    /// The file.
    public var text: String {
        var lines = [
            "# Signoff 审计签名链头 (signed audit checkpoint). Keep it outside the service.",
            "# Check it with: signoff audit verify --against <this file>",
        ]
        lines.append(contentsOf: self.signedText.split(separator: "\n").map(String.init))
        lines.append("signature \(Base64URL.encode(self.signature))")
        lines.append("heads")
        for head in self.heads {
            lines.append("\(head.subjectID.uuidString.lowercased()) \(head.seq) \(Self.hex(head.hash)) \(head.subjectKind)")
        }
        lines.append("end")
        return lines.map { $0 + "\n" }.joined()
    }

    // MARK: Reading

    /// Why a statement file is refused.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        /// Not a statement: `line` names where it goes wrong (1-based, 0 for the whole file).
        case malformed(line: Int, String)
        /// No published key has this id.
        case unknownKey(String)
        /// The key was not current at the statement's date.
        case keyNotCurrent(String)
        /// The signature does not match the signed lines: the date, counts, root or key id were changed.
        case badSignature
        /// The heads listed do not give the signed root (or count): a head was changed, added or dropped.
        case headsDoNotMatchRoot

        public var description: String {
            switch self {
            case .malformed(let line, let why): line > 0 ? "line \(line): \(why)" : why
            case .unknownKey(let id): "no published township key has the id \(id)"
            case .keyNotCurrent(let id): "the key \(id) was not the township's signing key at the statement's date"
            case .badSignature: "the signature does not match the statement: its date, counts, root or key id were changed"
            case .headsDoNotMatchRoot: "the chain heads listed do not give the signed Merkle root: the list was changed"
            }
        }
    }

    /// Reads a statement file; checks its structure only (see `verify(keys:)`).
    public static func parse(_ text: String) throws(Refusal) -> AuditStatement {
        // "\r\n" is one Character in Swift: split on either line end.
        let all = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated()
            .map { (number: $0.offset + 1, text: String($0.element)) }
            .filter { !$0.text.hasPrefix("#") && !$0.text.isEmpty }
        var index = 0
        func next(_ name: String) throws(Refusal) -> (Int, String) {
            guard index < all.count else { throw .malformed(line: 0, "the file ends before ‘\(name)’") }
            let line = all[index]
            index += 1
            if name == Self.firstLine {
                guard line.text == name else { throw .malformed(line: line.number, "expected ‘\(name)’") }
                return (line.number, "")
            }
            guard line.text.hasPrefix(name + " ") else { throw .malformed(line: line.number, "expected ‘\(name) …’") }
            return (line.number, String(line.text.dropFirst(name.count + 1)))
        }
        func integer(_ name: String) throws(Refusal) -> Int {
            let (number, value) = try next(name)
            guard let parsed = Int(value), parsed >= 0, String(parsed) == value else {
                throw .malformed(line: number, "‘\(name)’ is not a whole number")
            }
            return parsed
        }
        _ = try next(Self.firstLine)
        let (createdLine, createdText) = try next("created-at")
        guard let createdAt = try? Date(createdText, strategy: .iso8601), Self.stamp(createdAt) == createdText else {
            throw .malformed(line: createdLine, "‘created-at’ is not a UTC time such as 2020-02-20T16:00:00Z")
        }
        let records = try integer("records")
        let subjects = try integer("subjects")
        let (rootLine, rootText) = try next("merkle-root")
        guard let root = Self.bytes(hex: rootText), root.count == 32 else {
            throw .malformed(line: rootLine, "‘merkle-root’ is not 64 hex digits")
        }
        let (keyLine, keyID) = try next("key-id")
        guard !keyID.isEmpty, !keyID.contains(" ") else { throw .malformed(line: keyLine, "‘key-id’ is empty") }
        let (signatureLine, signatureText) = try next("signature")
        guard let signature = Base64URL.decode(signatureText), signature.count == 64 else {
            throw .malformed(line: signatureLine, "‘signature’ is not a base64url Ed25519 signature")
        }
        guard index < all.count, all[index].text == "heads" else {
            throw .malformed(line: index < all.count ? all[index].number : 0, "expected ‘heads’")
        }
        index += 1
        var heads: [Head] = []
        var seen = Set<UUID>()
        while index < all.count, all[index].text != "end" {
            let line = all[index]
            index += 1
            let parts = line.text.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 4, let subject = UUID(uuidString: String(parts[0])),
                  let seq = Int(parts[1]), seq > 0, let hash = Self.bytes(hex: String(parts[2])), hash.count == 32, !parts[3].isEmpty
            else { throw .malformed(line: line.number, "a head is ‘<subject id> <seq> <64 hex digits> <kind>’") }
            guard seen.insert(subject).inserted else { throw .malformed(line: line.number, "subject \(subject) is listed twice") }
            heads.append(Head(subjectID: subject, subjectKind: String(parts[3]), seq: seq, hash: hash))
        }
        guard index < all.count else { throw .malformed(line: 0, "the file ends before ‘end’: it was cut short") }
        guard index == all.count - 1 else { throw .malformed(line: all[index + 1].number, "nothing may follow ‘end’") }
        guard heads.count == subjects else {
            throw .malformed(line: 0, "‘subjects’ says \(subjects) but \(heads.count) heads are listed")
        }
        return AuditStatement(createdAt: createdAt, records: records, heads: heads, merkleRoot: root, keyID: keyID, signature: signature)
    }

    /// Checks the signature against the published keys, and that the heads give the signed root
    /// and record count. A statement that passes says truly what the trail held at `createdAt`.
    public func verify(keys: [CredentialKey]) throws(Refusal) {
        guard let key = keys.first(where: { $0.keyID == self.keyID }) else { throw .unknownKey(self.keyID) }
        guard let raw = Base64URL.decode(key.publicKey),
              let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
              publicKey.isValidSignature(self.signature, for: Data(self.signedText.utf8))
        else { throw .badSignature }
        guard key.covers(self.createdAt) else { throw .keyNotCurrent(self.keyID) }
        let heads = Self.sorted(self.heads)
        guard MerkleTree.root(heads.map(\.leaf)) == self.merkleRoot,
              heads.reduce(0, { $0 + $1.seq }) == self.records
        else { throw .headsDoNotMatchRoot }
    }

    /// The root of heads as found now (each subject's hash at the statement's seq), to compare
    /// with the signed one.
    public static func root(of heads: [Head]) -> [UInt8] {
        MerkleTree.root(Self.sorted(heads).map(\.leaf))
    }

    // MARK: Text helpers

    public static func stamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 0)!))  // UTC always exists
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }

    public static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
