import ArgumentParser
import Foundation
import SignoffCore
import SignoffStore

/// `signoff keys`: the township signing key that signs passes and certificates.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "The township signing key (Ed25519) and its published public keys.",
        subcommands: [List.self, Rotate.self, Generate.self, Sample.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the public keys, as GET /.well-known/signoff-keys publishes them (creates the key on first use).")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let keys = try SigningKeys.load(dataFolder: URL(fileURLWithPath: self.database.dataDir))
            for key in keys.published { print(KeysCommand.line(key, current: key.keyID == keys.keyID)) }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace the data folder's signing key; old public keys stay published, so what they signed stays valid. Restart the service afterwards.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let keys = try SigningKeys.rotate(dataFolder: URL(fileURLWithPath: self.database.dataDir))
            print("New signing key \(keys.keyID). Restart `signoff serve` to sign with it.")
            for key in keys.published { print(KeysCommand.line(key, current: key.keyID == keys.keyID)) }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new key file (mode 0600) for \(SigningKeys.environmentVariable).")
        @Argument(help: "The file to create; it must not exist.") var file: String

        func run() throws {
            let keyID = try SigningKeys.generateKeyFile(at: URL(fileURLWithPath: self.file))
            print("Wrote signing key \(keyID) to \(self.file). Start the service with \(SigningKeys.environmentVariable)=\(self.file).")
        }
    }

    /// A sample credential for training checkpoint staff and testing their phones: signed with the
    /// data folder's key like a real one, recorded nowhere, and numbered `样例-…`, so it can never
    /// stand for a real pass or certificate (the checkpoint page marks it 样例).
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a signed sample credential (number 样例-…, recorded nowhere) for training and testing checkpoints.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "vehicle_pass, health_certificate or agricultural_pass.") var kind: String = "vehicle_pass"
        @Option(help: "The number after the 样例- prefix.") var number: String = "0001"
        @Option(help: "The plate, or a masked name such as 张*三.") var subject: String = "川Q·样例"
        @Option(help: "The scope.") var scope: String = "车辆上路通行"
        @Option(help: "Start of validity (RFC 3339, e.g. 2020-02-01T00:00:00Z); default now.") var validFrom: String?
        @Option(help: "End of validity (RFC 3339); default 7 days after the start.") var validUntil: String?

        func run() throws {
            guard let kind = Credential.Kind(rawValue: self.kind) else {
                throw ValidationError("--kind is one of \(Credential.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            func date(_ text: String?, _ option: String) throws -> Date? {
                guard let text else { return nil }
                guard let date = try? Date(text, strategy: .iso8601) else { throw ValidationError("--\(option) is a time such as 2020-02-01T00:00:00Z.") }
                return date
            }
            let now = Date()
            let from = try date(self.validFrom, "valid-from") ?? now
            let until = try date(self.validUntil, "valid-until") ?? from.addingTimeInterval(7 * 86_400)
            guard until >= from else { throw ValidationError("--valid-until is before --valid-from.") }
            let keys = try SigningKeys.load(dataFolder: URL(fileURLWithPath: self.database.dataDir))
            // Issued when its validity starts (or now), so the key's window covers it as a real one's would.
            let issued = max(min(from, now), keys.published.last?.notBefore ?? from)
            let signed = try keys.sign(kind: kind, number: KeysCommand.samplePrefix + self.number, subject: self.subject,
                                       scope: self.scope, issuedAt: issued, validFrom: from, validUntil: until)
            print(signed.text)
        }
    }

    static let samplePrefix = "样例-"

    static func line(_ key: CredentialKey, current: Bool) -> String {
        "\(key.keyID)  \(key.notBefore.formatted(.iso8601)) – \(key.notAfter?.formatted(.iso8601) ?? "")\(current ? "  (signs now)" : "")"
    }
}
