import Crypto
import Foundation
import Testing

@testable import SignoffCore

/// The Merkle root over the audit chain heads, RFC 6962 hashing.
@Suite struct MerkleTreeTests {
    static func id(_ n: Int) -> UUID { UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", n))! }
    static func head(_ n: Int) -> [UInt8] { Array(SHA256.hash(data: Array("head-\(n)".utf8))) }
    static func leaf(_ n: Int) -> MerkleTree.Leaf { .init(subjectID: Self.id(n), headHash: Self.head(n)) }
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    static func sha(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// The 16 bytes of a UUID, in the order PostgreSQL stores and sorts them.
    static func idBytes(_ n: Int) -> [UInt8] { Array(repeating: 0, count: 15) + [UInt8(n)] }

    @Test func threeLeavesMatchTheTreeBuiltByHand() {
        // RFC 6962: three leaves split 2 + 1, so root = node(node(l1, l2), l3).
        let l1 = Self.sha([0x00] + Self.idBytes(1) + Self.head(1))
        let l2 = Self.sha([0x00] + Self.idBytes(2) + Self.head(2))
        let l3 = Self.sha([0x00] + Self.idBytes(3) + Self.head(3))
        let expected = Self.sha([0x01] + Self.sha([0x01] + l1 + l2) + l3)
        #expect(MerkleTree.root([Self.leaf(1), Self.leaf(2), Self.leaf(3)]) == expected)
        // Pinned, computed outside Swift from the same definition.
        #expect(Self.hex(expected) == "c9850e28eef0431ab5297c80e1c4da8b259502b56e40a1666bb80e5c084b433a")
    }

    @Test func fiveLeavesSplitAtFour() {
        #expect(MerkleTree.rootHex((1 ... 5).map(Self.leaf)) == "2a5116e5e0dcf464ad8cadb1b87484659674b28136afa83408080bd5a9acbf62")
    }

    @Test func noLeavesAndOneLeaf() {
        #expect(MerkleTree.rootHex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(MerkleTree.root([Self.leaf(1)]) == Self.sha([0x00] + Self.idBytes(1) + Self.head(1)))
    }

    @Test func theOrderOfTheInputDoesNotMatter() {
        let leaves = (1 ... 9).map(Self.leaf)
        let root = MerkleTree.root(leaves)
        #expect(MerkleTree.root(leaves.reversed()) == root)
        #expect(MerkleTree.root([leaves[4], leaves[0], leaves[8], leaves[2], leaves[7], leaves[1], leaves[6], leaves[3], leaves[5]]) == root)
    }

    @Test func anyChangedHeadOrMissingSubjectChangesTheRoot() {
        let leaves = (1 ... 6).map(Self.leaf)
        let root = MerkleTree.root(leaves)
        for index in leaves.indices {
            var changed = leaves
            changed[index].headHash = Self.head(100 + index)
            #expect(MerkleTree.root(changed) != root)
            var fewer = leaves
            fewer.remove(at: index)
            #expect(MerkleTree.root(fewer) != root)
        }
        // Domain separation: a leaf is never mistaken for a node over two leaves.
        let two = MerkleTree.root([Self.leaf(1), Self.leaf(2)])
        #expect(two != MerkleTree.leafHash(MerkleTree.leafHash(Self.leaf(1).data) + MerkleTree.leafHash(Self.leaf(2).data)))
    }
}
