import Crypto
import Foundation

/// A Merkle root over every audit subject's chain head, for a signed audit checkpoint: the
/// hashing of RFC 6962 (Certificate Transparency) §2.1.
///
/// - A leaf is one subject: its 16-byte id followed by its chain's head hash (`audit_chain_heads`).
/// - Leaves are sorted by subject id (bytewise, as PostgreSQL orders `uuid`), so the root does not
///   depend on the order they were read in.
/// - `leaf = SHA-256(0x00 ‖ data)`, `node = SHA-256(0x01 ‖ left ‖ right)`; a list of n > 1 leaves
///   splits at the largest power of two below n; the root of no leaves is SHA-256 of nothing.
public enum MerkleTree {
    public struct Leaf: Hashable, Sendable {
        public var subjectID: UUID
        /// The head hash as stored; empty for a chain without a head yet.
        public var headHash: [UInt8]

        public init(subjectID: UUID, headHash: [UInt8]) {
            self.subjectID = subjectID
            self.headHash = headHash
        }

        var subjectBytes: [UInt8] {
            withUnsafeBytes(of: self.subjectID.uuid) { Array($0) }
        }

        /// The bytes the leaf hash covers: the id is fixed-length, so no two leaves share them.
        public var data: [UInt8] { self.subjectBytes + self.headHash }
    }

    public static func root(_ leaves: [Leaf]) -> [UInt8] {
        let sorted = leaves.sorted { $0.data.lexicographicallyPrecedes($1.data) }
        return self.root(ofSorted: sorted.map { Self.leafHash($0.data) }[...])
    }

    public static func rootHex(_ leaves: [Leaf]) -> String {
        Hex.encode(self.root(leaves))
    }

    public static func leafHash(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: [0x00] + data))
    }

    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: [0x01] + left + right))
    }

    private static func root(ofSorted hashes: ArraySlice<[UInt8]>) -> [UInt8] {
        switch hashes.count {
        case 0: return Array(SHA256.hash(data: [UInt8]()))
        case 1: return hashes[hashes.startIndex]
        default:
            var split = 1
            while split * 2 < hashes.count { split *= 2 }
            let middle = hashes.startIndex + split
            return Self.nodeHash(Self.root(ofSorted: hashes[..<middle]), Self.root(ofSorted: hashes[middle...]))
        }
    }
}
