import ArgumentParser
import Foundation
import SignoffCore
import SignoffStore

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The township's figures (grids, pledges, keys, passes, health certificates, trips, returnees), computed from the data."
    )
    @OptionGroup var database: DatabaseOptions
    @Option(help: "First day counted, YYYY-MM-DD (China time).") var from: String?
    @Option(help: "Last day counted, YYYY-MM-DD (China time).") var to: String?
    @Option(help: "Code of a unit (a village) to report on instead of the whole township.") var unit: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (section,figure,value).") var csv = false

    func validate() throws {
        if self.json && self.csv { throw ValidationError("Choose one of --json and --csv.") }
    }

    func run() async throws {
        let period = try TownshipReport.Period.parse(from: self.from, to: self.to)
        let unitCode = self.unit
        let report = try await self.database.withDatabase { database, _ in
            let organisation = OrganisationStore(database: database)
            let path: UnitPath? = try await database.withConnection { connection in
                if let unitCode { return try await organisation.unit(code: unitCode, on: connection)?.path }
                return try await organisation.units(under: nil, kind: .township).first?.path
            }
            guard let path else { throw CLIError(unitCode.map { "No unit with code ‘\($0)’." } ?? "No township yet. Import one, or run `signoff demo seed`.") }
            return try await ReportStore(database: database).township(under: path, period: period)
        }
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else if self.csv {
            print(report.csv(), terminator: "")
        } else {
            print(report.table(), terminator: "")
        }
    }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "The demo township 联合苗族乡.", subcommands: [Seed.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the demo township with its people and processes in an empty database, then print the logins."
        )
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Password of the demo accounts (default: SIGNOFF_DEMO_PASSWORD).") var password: String?

        func run() async throws {
            guard let password = self.password ?? ProcessInfo.processInfo.environment["SIGNOFF_DEMO_PASSWORD"] else {
                throw ValidationError("Give --password or set SIGNOFF_DEMO_PASSWORD.")
            }
            let policies = try PolicyCatalog.load(from: PolicyCatalog.defaultFolder())
            let started = Date()
            let result = try await self.database.withDatabase { database, _ in
                let transitions = TransitionStore(database: database, clock: SystemWallClock())
                let accounts = AccountStore(transitions: transitions)
                return try await DemoTownship(accounts: accounts, workers: WorkersStore(transitions: transitions, policies: policies)).seed(password: password)
            }
            print(result.created
                  ? String(format: "Demo township 联合苗族乡 created in %.1f s.", Date().timeIntervalSince(started))
                  : "Demo township already present; nothing changed.")
            print("Demo logins (password as given):")
            for login in result.logins {
                print("  \(login.username.padding(toLength: 18, withPad: " ", startingAt: 0)) \(login.role.rawValue) \(login.role.chineseName) at \(login.unit)")
            }
            print("  gw01 … gw84 are the grid workers of the 84 grids. See the figures with: signoff report")
        }
    }
}
