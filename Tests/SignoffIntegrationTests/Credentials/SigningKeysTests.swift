import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffStore

/// The township signing key in the data folder, its rotation, and the published key list.
@Suite("The township signing key", .timeLimit(.minutes(3)))
struct SigningKeysTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("signoff-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func mode(_ url: URL) throws -> Int {
        try #require((FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue)
    }

    static let t0 = TestWorld.start

    @Test func theKeyIsCreatedPrivateOnFirstStartAndKeptAfter() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try SigningKeys.load(dataFolder: folder, environment: [:], now: Self.t0)
        let keyFile = folder.appendingPathComponent(SigningKeys.keyFileName)
        #expect(try Self.mode(keyFile) == 0o600)
        #expect(first.keyID.range(of: "^[0-9a-f]{8}$", options: .regularExpression) != nil)
        #expect(first.published.map(\.keyID) == [first.keyID])
        #expect(first.published[0].notAfter == nil)

        let again = try SigningKeys.load(dataFolder: folder, environment: [:], now: Self.t0.addingTimeInterval(3600))
        #expect(again.keyID == first.keyID)
        #expect(again.published == first.published)
        // The key id is the SHA-256 of the public key, as the list says.
        let raw = try #require(Base64URL.decode(again.published[0].publicKey))
        #expect(CredentialKey.keyID(of: try Curve25519.Signing.PublicKey(rawRepresentation: raw)) == first.keyID)
    }

    @Test func aLostKeyListIsRebuiltWithoutInvalidatingWhatTheKeySigned() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let keys = try SigningKeys.load(dataFolder: folder, environment: [:], now: Date())
        let issued = Date()
        let signed = try keys.sign(kind: .vehiclePass, number: "通行证-2020-0000000B", subject: "川W22222", scope: "联合苗族乡",
                                   issuedAt: issued, validFrom: issued, validUntil: issued.addingTimeInterval(86400))
        try FileManager.default.removeItem(at: folder.appendingPathComponent(SigningKeys.listFileName))
        let later = issued.addingTimeInterval(3600)
        let rebuilt = try SigningKeys.load(dataFolder: folder, environment: [:], now: later)
        #expect(rebuilt.keyID == keys.keyID)
        // The window opens when the key file was written, not at the rebuild.
        #expect(try #require(rebuilt.published.first).notBefore <= signed.credential.issuedAt)
        #expect(rebuilt.verifier().verify(signed.text, at: later) == .valid(signed.credential))
    }

    @Test func aKeyFileOthersMayReadIsRefused() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try SigningKeys.load(dataFolder: folder, environment: [:], now: Self.t0)
        let keyFile = folder.appendingPathComponent(SigningKeys.keyFileName)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile.path)
        let error = try #require(throws: SignoffError.self) { try SigningKeys.load(dataFolder: folder, environment: [:], now: Self.t0) }
        #expect(error.detail.contains("chmod 600"))
    }

    @Test func aKeyFileThatHoldsNoKeyIsRefusedWithASentence() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let given = folder.appendingPathComponent("given.key")
        try Data("not a key\n".utf8).write(to: given)
        let error = try #require(throws: SignoffError.self) {
            try SigningKeys.load(dataFolder: folder, environment: [SigningKeys.environmentVariable: given.path], now: Self.t0)
        }
        #expect(error.detail.contains("does not hold an Ed25519 key"))
        let missing = try #require(throws: SignoffError.self) {
            try SigningKeys.load(dataFolder: folder, environment: [SigningKeys.environmentVariable: folder.appendingPathComponent("nope").path], now: Self.t0)
        }
        #expect(missing.detail.contains("cannot be read"))
    }

    @Test func aKeyGivenByTheEnvironmentSignsAndRotatesByANewFile() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fileA = folder.appendingPathComponent("a.key")
        let fileB = folder.appendingPathComponent("b.key")
        let idA = try SigningKeys.generateKeyFile(at: fileA)
        let idB = try SigningKeys.generateKeyFile(at: fileB)
        #expect(try Self.mode(fileA) == 0o600)
        #expect(throws: SignoffError.self) { try SigningKeys.generateKeyFile(at: fileA) }  // never overwritten

        let a = try SigningKeys.load(dataFolder: folder, environment: [SigningKeys.environmentVariable: fileA.path], now: Self.t0)
        #expect(a.keyID == idA)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(SigningKeys.keyFileName).path))
        let signedByA = try a.sign(kind: .vehiclePass, number: "通行证-2020-0000000A", subject: "川W12345", scope: "联合苗族乡",
                                   issuedAt: Self.t0, validFrom: Self.t0, validUntil: Self.t0.addingTimeInterval(86400))
        let later = Self.t0.addingTimeInterval(600)
        let b = try SigningKeys.load(dataFolder: folder, environment: [SigningKeys.environmentVariable: fileB.path], now: later)
        #expect(b.keyID == idB)
        #expect(b.published.map(\.keyID) == [idA, idB])
        #expect(b.published[0].notAfter == later)
        #expect(b.verifier().verify(signedByA.text, at: later) == .valid(signedByA.credential))
        // Rotation by command is the data folder's; here the operator gives a new file.
        #expect(throws: SignoffError.self) {
            try SigningKeys.rotate(dataFolder: folder, environment: [SigningKeys.environmentVariable: fileB.path], now: later)
        }
        // Going back to the retired key is refused: it may not sign again.
        let back = try #require(throws: SignoffError.self) {
            try SigningKeys.load(dataFolder: folder, environment: [SigningKeys.environmentVariable: fileA.path], now: later)
        }
        #expect(back.detail.contains("retired"))
    }

    @Test func rotationKeepsTheOldPublicKeyAndWhatItSigned() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let old = try SigningKeys.load(dataFolder: folder, environment: [:], now: Self.t0)
        let before = try old.sign(kind: .healthCertificate, number: "健康证-2020-00000001", subject: Credential.maskName("张小三"),
                                  scope: "成都", issuedAt: Self.t0, validFrom: Self.t0, validUntil: Self.t0.addingTimeInterval(14 * 86400))
        let rotatedAt = Self.t0.addingTimeInterval(3600)
        let new = try SigningKeys.rotate(dataFolder: folder, environment: [:], now: rotatedAt)
        #expect(new.keyID != old.keyID)
        #expect(try Self.mode(folder.appendingPathComponent(SigningKeys.keyFileName)) == 0o600)
        #expect(new.published.map(\.keyID) == [old.keyID, new.keyID])
        #expect(try SigningKeys.load(dataFolder: folder, environment: [:], now: rotatedAt).keyID == new.keyID)
        let after = try new.sign(kind: .agriculturalPass, number: "农用车通行证明-2020-00000002", subject: "川W农12345", scope: "联合苗族乡",
                                 issuedAt: rotatedAt, validFrom: rotatedAt, validUntil: rotatedAt.addingTimeInterval(86400))

        // Through the real router: the list the service publishes verifies both.
        try await TestWorld.with(seed: false, signingKeys: new) { world, client in
            let reply = try await client.call(.get, "/.well-known/signoff-keys")
            #expect(reply.status == .ok)
            let keys = try Self.decodeKeys(reply.body)
            #expect(keys.map(\.keyID) == [old.keyID, new.keyID])
            #expect(keys[0].notAfter == rotatedAt)
            #expect(keys[1].notAfter == nil)
            let verifier = CredentialVerifier(keys: keys)
            let now = rotatedAt.addingTimeInterval(60)
            #expect(verifier.verify(before.text, at: now) == .valid(before.credential))
            #expect(verifier.verify(after.text, at: now) == .valid(after.credential))
        }
    }

    @Test func theServiceKeyListVerifiesWhatTheServiceSigns() async throws {
        try await TestWorld.with { world, client in
            let reply = try await client.call(.get, "/.well-known/signoff-keys")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(reply.headers[.cacheControl] == "public, max-age=300")
            let entries = try #require(reply.json["keys"] as? [[String: Any]])
            #expect(entries.count == 1)
            #expect(entries[0]["alg"] as? String == "Ed25519")
            #expect(Set(entries[0].keys) == ["kid", "alg", "public_key", "not_before"])

            let now = world.clock.now()
            let keys = world.services.signingKeys
            let signed = try keys.sign(kind: .vehiclePass, number: "通行证-2020-ABCDEF12", subject: "川W·C5678", scope: "联合苗族乡—西昌市",
                                       issuedAt: now, validFrom: now, validUntil: now.addingTimeInterval(7 * 86400))
            let verifier = CredentialVerifier(keys: try Self.decodeKeys(reply.body))
            #expect(verifier.verify(signed.text, at: now.addingTimeInterval(60)) == .valid(signed.credential))
            #expect(verifier.verify(signed.text, at: now.addingTimeInterval(8 * 86400)) == .expired(signed.credential))

            // A forger with another key and the service's key id is refused.
            let forged = try SignedCredential.sign(signed.credential, with: Curve25519.Signing.PrivateKey())
            #expect(verifier.verify(forged.text, at: now) == .badSignature)
        }
    }

    @Test func theKeysCommandsListRotateAndGenerate() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var environment = ProcessInfo.processInfo.environment
        environment[SigningKeys.environmentVariable] = nil
        func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try ChildProcess.run([CommandLineTests.binary] + arguments, environment: environment)
        }
        let listed = try run(["keys", "list", "--data-dir", folder.path])
        #expect(listed.status == 0, "\(listed.output)")
        let first = try SigningKeys.load(dataFolder: folder, environment: [:])
        #expect(listed.output.contains("\(first.keyID)  "))
        #expect(listed.output.contains("(signs now)"))

        let rotated = try run(["keys", "rotate", "--data-dir", folder.path])
        #expect(rotated.status == 0, "\(rotated.output)")
        let second = try SigningKeys.load(dataFolder: folder, environment: [:])
        #expect(second.keyID != first.keyID)
        #expect(second.published.map(\.keyID) == [first.keyID, second.keyID])
        #expect(rotated.output.contains("New signing key \(second.keyID)."))

        let file = folder.appendingPathComponent("given.key")
        let generated = try run(["keys", "generate", file.path])
        #expect(generated.status == 0, "\(generated.output)")
        #expect(try Self.mode(file) == 0o600)
        let given = try SigningKeys.load(dataFolder: folder, environment: [SigningKeys.environmentVariable: file.path])
        #expect(generated.output.contains("Wrote signing key \(given.keyID) "))
        // A second run does not overwrite the key.
        #expect(try run(["keys", "generate", file.path]).status != 0)
        #expect(try SigningKeys.load(dataFolder: folder, environment: [SigningKeys.environmentVariable: file.path]).keyID == given.keyID)
    }

    /// The published list, read as a checkpoint reads it.
    static func decodeKeys(_ body: Data) throws -> [CredentialKey] {
        struct List: Decodable {
            var keys: [CredentialKey]
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(List.self, from: body).keys
    }
}
