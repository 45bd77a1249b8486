import ArgumentParser
import Foundation
import SignoffCore
import SignoffStore

/// The sign-path benchmark's seeding step; `ops/bench/sign` drives the rest (the load over
/// HTTP, pgbench on the same cluster, and the figures per sign).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Seed a throwaway database for the sign-path benchmark (ops/bench/sign).",
        subcommands: [Seed.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the demo township and N travel pass applications ready to sign; print their ids as JSON.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "How many applications to create.") var applications: Int = 2_000
        @Option(help: "Password of the demo accounts (default: SIGNOFF_DEMO_PASSWORD).") var password: String?
        @Option(help: "File to write the JSON to (default: standard output).") var output: String?

        func run() async throws {
            guard let password = self.password ?? ProcessInfo.processInfo.environment["SIGNOFF_DEMO_PASSWORD"] else {
                throw ValidationError("Give --password or set SIGNOFF_DEMO_PASSWORD.")
            }
            guard (1...200_000).contains(self.applications) else { throw ValidationError("--applications: 1 to 200000.") }
            let policies = try PolicyCatalog.load(from: PolicyCatalog.defaultFolder())
            let result = try await self.database.withDatabase { database, _ in
                let accounts = AccountStore(transitions: TransitionStore(database: database, clock: SystemWallClock()))
                return try await BenchSeed(accounts: accounts, policies: policies).seed(password: password, applications: self.applications)
            }
            let json = try JSONEncoder().encode(result)
            if let output = self.output {
                try json.write(to: URL(fileURLWithPath: output))
            } else {
                FileHandle.standardOutput.write(json)
            }
        }
    }
}
