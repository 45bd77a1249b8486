import Crypto
import Foundation
import Testing

@testable import SignoffCore

/// Signed credentials: the compact encoding, Ed25519 signing, and every outcome of a check.
@Suite struct CredentialTests {
    static let t0 = Date(timeIntervalSince1970: 1_580_515_200)  // 2020-02-01T00:00:00Z
    static let oldKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
    static let newKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: 32))
    static var oldID: String { CredentialKey.keyID(of: Self.oldKey.publicKey) }
    static var newID: String { CredentialKey.keyID(of: Self.newKey.publicKey) }

    static func pass(keyID: String = Self.oldID, issuedAt: Date = Self.t0, number: String = "通行证-2020-1A2B3C4D") -> Credential {
        Credential(kind: .vehiclePass, number: number, subject: "川T·A1234", scope: "联合苗族乡—西昌市",
                   issuedAt: issuedAt, validFrom: issuedAt, validUntil: issuedAt.addingTimeInterval(7 * 86400), keyID: keyID)
    }

    static func sign(_ credential: Credential = Self.pass(), with key: Curve25519.Signing.PrivateKey = Self.oldKey) throws -> SignedCredential {
        try SignedCredential.sign(credential, with: key)
    }

    static let oneKey = CredentialVerifier(keys: [CredentialKey(publicKey: Self.oldKey.publicKey, notBefore: Self.t0.addingTimeInterval(-86400))])

    // MARK: Masking

    @Test(arguments: [
        ("张三", "张*"), ("张小三", "张*三"), ("欧阳小明", "欧**明"), ("李", "*"), ("", ""), ("  王五 ", "王*"),
        ("阿卜杜热合曼", "阿****曼"),
    ])
    func aHolderNameIsMasked(_ name: String, _ masked: String) {
        #expect(Credential.maskName(name) == masked)
    }

    // MARK: Encoding

    @Test(arguments: Credential.Kind.allCases)
    func theTextFormRoundTrips(_ kind: Credential.Kind) throws {
        var credential = Self.pass()
        credential.kind = kind
        credential.subject = kind == .healthCertificate ? Credential.maskName("张小三") : "川T·A1234"
        let signed = try Self.sign(credential)
        let parsed = try #require(SignedCredential.parse(signed.text))
        #expect(parsed == signed)
        #expect(parsed.credential == credential)
        #expect(signed.text.hasPrefix("SO1."))
        // Short enough for a QR code at a readable size (version 10 holds 271 bytes at level M).
        #expect(signed.text.utf8.count < 271)
    }

    @Test func theEncodingIsDeterministicAndVersioned() throws {
        let a = try CredentialEncoding.payload(Self.pass())
        let b = try CredentialEncoding.payload(Self.pass())
        #expect(a == b)
        #expect(a.first == 1)
        #expect(a[1] == 1)  // 通行证
        // Three times of 8 bytes end it: valid_until is the last.
        let until = a.suffix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
        #expect(until == Int64(Self.t0.timeIntervalSince1970) + 7 * 86400)
        // Sub-second parts are dropped, as they cannot be encoded.
        let fractional = Self.pass(issuedAt: Self.t0.addingTimeInterval(0.75))
        #expect(fractional.issuedAt == Self.t0)
        #expect(try CredentialEncoding.payload(fractional) == a)
    }

    @Test func aFieldTooLongOrAnEmptyValidityIsRefused() throws {
        var long = Self.pass()
        long.scope = String(repeating: "乡", count: 86)  // 258 bytes
        #expect(throws: CredentialEncodingError.fieldTooLong("scope")) { try CredentialEncoding.payload(long) }
        var backwards = Self.pass()
        backwards.validUntil = backwards.validFrom.addingTimeInterval(-1)
        #expect(throws: CredentialEncodingError.emptyValidity) { try CredentialEncoding.payload(backwards) }
    }

    @Test func theCheckCodeIsEightBase32CharactersOfTheSignedBytes() throws {
        let signed = try Self.sign()
        let digest = Array(SHA256.hash(data: signed.payload + signed.signature))
        // The first 40 bits, five at a time, by hand.
        let bits = digest.prefix(5).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let expected = (0 ..< 8).map { alphabet[Int(bits >> UInt64(35 - 5 * $0) & 0x1F)] }
        #expect(signed.checkCode == String(expected.prefix(4)) + "-" + String(expected.suffix(4)))
        #expect(try Self.sign(Self.pass(number: "通行证-2020-FFFFFFFF")).checkCode != signed.checkCode)
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")  // RFC 4648 §10, unpadded
    }

    // MARK: Verification

    @Test func aSignedCredentialIsValidInItsWindow() throws {
        let signed = try Self.sign()
        #expect(Self.oneKey.verify(signed.text, at: Self.t0.addingTimeInterval(3600)) == .valid(signed.credential))
        #expect(Self.oneKey.verify(signed.text, at: signed.credential.validUntil) == .valid(signed.credential))
        #expect(Self.oneKey.verify(signed.text, at: signed.credential.validFrom) == .valid(signed.credential))
    }

    @Test func anExpiredOrNotYetValidCredentialIsSaidSo() throws {
        let signed = try Self.sign()
        #expect(Self.oneKey.verify(signed.text, at: signed.credential.validUntil.addingTimeInterval(1)) == .expired(signed.credential))
        #expect(Self.oneKey.verify(signed.text, at: signed.credential.validFrom.addingTimeInterval(-1)) == .notYetValid(signed.credential))
    }

    @Test func aRevokedNumberIsRevokedWhateverTheTime() throws {
        let signed = try Self.sign()
        let verifier = CredentialVerifier(keys: Self.oneKey.keys, revoked: ["通行证-2020-1A2B3C4D"])
        #expect(verifier.verify(signed.text, at: Self.t0.addingTimeInterval(3600)) == .revoked(signed.credential))
        let other = try Self.sign(Self.pass(number: "通行证-2020-99999999"))
        #expect(verifier.verify(other.text, at: Self.t0.addingTimeInterval(3600)).isValid)
    }

    @Test func aRotatedKeyKeepsWhatItSignedValid() throws {
        let rotation = Self.t0.addingTimeInterval(2 * 86400)
        let keys = [
            CredentialKey(publicKey: Self.oldKey.publicKey, notBefore: Self.t0.addingTimeInterval(-86400), notAfter: rotation),
            CredentialKey(publicKey: Self.newKey.publicKey, notBefore: rotation),
        ]
        let verifier = CredentialVerifier(keys: keys)
        let old = try Self.sign(Self.pass(keyID: Self.oldID, issuedAt: Self.t0))
        let new = try Self.sign(Self.pass(keyID: Self.newID, issuedAt: rotation.addingTimeInterval(60)), with: Self.newKey)
        let later = rotation.addingTimeInterval(3600)
        #expect(verifier.verify(old.text, at: later) == .valid(old.credential))
        #expect(verifier.verify(new.text, at: later) == .valid(new.credential))
        // The retired key may not sign after its window; an old list does not know the new key.
        let afterRetirement = try Self.sign(Self.pass(keyID: Self.oldID, issuedAt: rotation.addingTimeInterval(60)))
        #expect(verifier.verify(afterRetirement.text, at: later) == .keyNotCurrent(afterRetirement.credential))
        #expect(Self.oneKey.verify(new.text, at: later) == .unknownKey(Self.newID))
        // A credential naming the old key but signed by the new one.
        let mislabelled = try Self.sign(Self.pass(keyID: Self.oldID), with: Self.newKey)
        #expect(verifier.verify(mislabelled.text, at: later) == .badSignature)
    }

    @Test func everyFlippedByteIsRefused() throws {
        let signed = try Self.sign()
        let bytes = signed.payload + signed.signature
        let now = Self.t0.addingTimeInterval(3600)
        for index in bytes.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var tampered = bytes
                tampered[index] ^= mask
                let text = CredentialEncoding.textPrefix + Base64URL.encode(tampered)
                let result = Self.oneKey.verify(text, at: now)
                #expect(!result.isValid, "byte \(index) ^ \(mask) was accepted")
                switch result {
                case .badSignature, .malformed, .unknownKey: break
                default: Issue.record("byte \(index) ^ \(mask) gave \(result)")
                }
            }
        }
    }

    @Test(arguments: ["", " ", "SO1.", "SO1", "SO2.AAAA", "hello", "SO1.!!!!", "SO1.AAAA", "SO1.AAAAA",
                      "SO1.AAAA=", "https://example.org/?q=1", String(repeating: "SO1.", count: 1000)])
    func garbageIsMalformed(_ text: String) {
        #expect(Self.oneKey.verify(text, at: Self.t0) == .malformed)
    }

    @Test func everyTruncationIsMalformed() throws {
        let signed = try Self.sign()
        let bytes = signed.payload + signed.signature
        for length in 0 ..< bytes.count {
            let text = CredentialEncoding.textPrefix + Base64URL.encode(bytes.prefix(length))
            let result = Self.oneKey.verify(text, at: Self.t0)
            #expect(result == .malformed || result == .badSignature, "truncated to \(length): \(result)")
            #expect(!result.isValid)
        }
        // The text cut short, as a bad scan does.
        for length in 0 ..< signed.text.count {
            #expect(!Self.oneKey.verify(String(signed.text.prefix(length)), at: Self.t0).isValid)
        }
        // A byte too many is not ignored.
        #expect(Self.oneKey.verify(CredentialEncoding.textPrefix + Base64URL.encode(bytes + [0]), at: Self.t0) == .malformed)
    }

    @Test func aKeyListEntryThatIsNotAKeyGivesBadSignature() throws {
        let signed = try Self.sign()
        let broken = CredentialVerifier(keys: [CredentialKey(keyID: Self.oldID, publicKey: "not-a-key", notBefore: Self.t0)])
        #expect(broken.verify(signed.text, at: Self.t0) == .badSignature)
    }

    @Test func base64urlIsStrict() {
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xfb, 0xff])
        #expect(Base64URL.decode("-_9") == nil)  // non-zero unused bits
        #expect(Base64URL.decode("+/8") == nil)
        #expect(Base64URL.decode("-_8=") == nil)
        #expect(Base64URL.decode("") == nil)
    }
}
