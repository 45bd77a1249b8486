import Crypto
import Foundation
import Testing
import SignoffCore

@Suite("Hexadecimal text")
struct HexTests {
    @Test func bytesAreWrittenAsLowerCasePairs() {
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode([0x00, 0x0f, 0x10, 0xab, 0xff]) == "000f10abff")
    }

    /// The digest people compare with `sha256sum`: the checkpoint files and migration checksums use it.
    @Test func aDigestReadsAsSha256sumPrintsIt() {
        #expect(Hex.encode(SHA256.hash(data: Data("abc".utf8)))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
