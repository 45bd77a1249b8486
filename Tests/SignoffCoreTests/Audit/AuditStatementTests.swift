import Crypto
import Foundation
import Testing

@testable import SignoffCore

@Suite struct AuditStatementTests {
    static let key = Curve25519.Signing.PrivateKey()
    static var published: [CredentialKey] { [CredentialKey(publicKey: Self.key.publicKey, notBefore: Fixture.t0.plus(days: -1))] }
    static var keyID: String { CredentialKey.keyID(of: Self.key.publicKey) }

    static func head(_ n: Int, seq: Int) -> AuditStatement.Head {
        AuditStatement.Head(subjectID: UUID(uuidString: String(format: "70000000-0000-0000-0000-%012d", n))!, subjectKind: "account",
                            seq: seq, hash: Array(SHA256.hash(data: Data("row \(n)/\(seq)".utf8))))
    }

    static func statement() throws -> AuditStatement {
        try AuditStatement.sign(createdAt: Fixture.t0.addingTimeInterval(0.75), heads: [head(3, seq: 2), head(1, seq: 5), head(2, seq: 1)],
                                keyID: Self.keyID, with: Self.key)
    }

    @Test func aSignedStatementReadsBackAndVerifies() throws {
        let statement = try Self.statement()
        #expect(statement.records == 8)
        #expect(statement.subjects == 3)
        #expect(statement.createdAt == Fixture.t0, "times are whole seconds, as written")
        #expect(statement.heads.map(\.seq) == [5, 1, 2], "sorted by subject id, as the Merkle tree orders leaves")
        #expect(statement.merkleRoot == MerkleTree.root(statement.heads.map { .init(subjectID: $0.subjectID, headHash: $0.hash) }))
        let text = statement.text
        #expect(text.contains("created-at 2020-02-10T00:00:00Z\n"))
        #expect(text.contains("records 8\nsubjects 3\n"))
        let read = try AuditStatement.parse(text)
        #expect(read == statement)
        try read.verify(keys: Self.published)
        // Comments and CRLF line ends do not matter.
        try AuditStatement.parse("# kept on a USB stick\r\n" + text.replacingOccurrences(of: "\n", with: "\r\n")).verify(keys: Self.published)
    }

    @Test func anyChangedValueIsRefused() throws {
        let text = try Self.statement().text
        func refusal(_ forged: String) -> AuditStatement.Refusal? {
            do {
                try AuditStatement.parse(forged).verify(keys: Self.published)
                return nil
            } catch {
                return error
            }
        }
        let head1 = Self.head(1, seq: 5)
        let line1 = "\(head1.subjectID.uuidString.lowercased()) 5 \(AuditStatement.hex(head1.hash)) account"
        #expect(text.contains(line1))
        #expect(refusal(text.replacingOccurrences(of: "records 8", with: "records 7")) == .badSignature)
        #expect(refusal(text.replacingOccurrences(of: "2020-02-10T00:00:00Z", with: "2020-02-11T00:00:00Z")) == .badSignature)
        #expect(refusal(text.replacingOccurrences(of: line1, with: line1.replacingOccurrences(of: " 5 ", with: " 4 "))) == .headsDoNotMatchRoot)
        let hashHex = AuditStatement.hex(head1.hash)
        let flipped = (hashHex.first == "0" ? "1" : "0") + hashHex.dropFirst()
        #expect(refusal(text.replacingOccurrences(of: hashHex, with: flipped)) == .headsDoNotMatchRoot)
        // A flipped signature byte.
        let signature = try #require(text.split(separator: "\n").first { $0.hasPrefix("signature ") })
        var bytes = try #require(Base64URL.decode(String(signature.dropFirst("signature ".count))))
        bytes[10] ^= 0x01
        #expect(refusal(text.replacingOccurrences(of: String(signature), with: "signature " + Base64URL.encode(bytes))) == .badSignature)
        // Malformed: cut short, a head twice, trailing text.
        if case .malformed = refusal(String(text.dropLast(5))) {} else { Issue.record("a cut file must be malformed") }
        if case .malformed = refusal(text.replacingOccurrences(of: line1, with: line1 + "\n" + line1)) {} else { Issue.record("twice") }
        if case .malformed = refusal(text + "extra\n") {} else { Issue.record("trailing") }
        if case .malformed = refusal("") {} else { Issue.record("empty") }
    }

    @Test func theKeyMustBePublishedAndCurrentAtTheStatementsDate() throws {
        let statement = try Self.statement()
        let other = Curve25519.Signing.PrivateKey()
        #expect(throws: AuditStatement.Refusal.unknownKey(Self.keyID)) {
            try statement.verify(keys: [CredentialKey(publicKey: other.publicKey, notBefore: Fixture.t0)])
        }
        // A rotated key stays valid for what it signed while it was current.
        let rotated = [CredentialKey(publicKey: Self.key.publicKey, notBefore: Fixture.t0.plus(days: -1), notAfter: Fixture.t0.plus(days: 1)),
                       CredentialKey(publicKey: other.publicKey, notBefore: Fixture.t0.plus(days: 1))]
        try statement.verify(keys: rotated)
        let retiredBefore = [CredentialKey(publicKey: Self.key.publicKey, notBefore: Fixture.t0.plus(days: -2), notAfter: Fixture.t0.plus(days: -1))]
        #expect(throws: AuditStatement.Refusal.keyNotCurrent(Self.keyID)) { try statement.verify(keys: retiredBefore) }
        // Same contents under another key id: the signature does not hold for that key.
        let forgedID = CredentialKey(keyID: Self.keyID, publicKey: Base64URL.encode(other.publicKey.rawRepresentation), notBefore: Fixture.t0)
        #expect(throws: AuditStatement.Refusal.badSignature) { try statement.verify(keys: [forgedID]) }
    }

    @Test func anEmptyTrailHasTheRootOfNothing() throws {
        let statement = try AuditStatement.sign(createdAt: Fixture.t0, heads: [], keyID: Self.keyID, with: Self.key)
        #expect(statement.merkleRootHex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        try AuditStatement.parse(statement.text).verify(keys: Self.published)
    }
}
