import ArgumentParser
import Foundation
import SignoffCore
import SignoffStore

/// `signoff keys`: the township signing key that signs passes and certificates.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "The township signing key (Ed25519) and its published public keys.",
        subcommands: [List.self, Rotate.self, Generate.self]
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

    static func line(_ key: CredentialKey, current: Bool) -> String {
        "\(key.keyID)  \(key.notBefore.formatted(.iso8601)) – \(key.notAfter?.formatted(.iso8601) ?? "")\(current ? "  (signs now)" : "")"
    }
}
