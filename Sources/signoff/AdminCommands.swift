import ArgumentParser
import Foundation
import SignoffCore
import SignoffStore

struct UnitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unit", abstract: "Manage the jurisdiction tree.", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a township from CSV. Either every row is written or none.",
            discussion: "Columns: \(TownshipImport.header.joined(separator: ",")). record is township, village, group, grid, household or person; parent is the parent's code."
        )
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The CSV file.") var file: String

        func run() async throws {
            let csv: String
            do {
                csv = try String(contentsOfFile: self.file, encoding: .utf8)
            } catch {
                throw ValidationError("Cannot read \(self.file) as UTF-8 text.")
            }
            do {
                let summary = try await self.database.withDatabase { database, _ in
                    try await TownshipImport(organisation: OrganisationStore(database: database)).run(csv: csv)
                }
                print("Imported \(summary.units) units, \(summary.households) households, \(summary.persons) persons.")
            } catch let error as SignoffError where error.code == .importInvalid {
                var message = "Nothing was imported from \(self.file):"
                if case .array(let rows) = error.extra["errors"] {
                    for case .object(let row) in rows {
                        let line = if case .int(let number) = row["line"] { String(number) } else { "?" }
                        message += "\n  line \(line): \(row["message"]?.stringValue ?? "")"
                    }
                }
                throw CLIError(message)
            }
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage accounts.", subcommands: [Add.self, Token.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account with a role at a unit (the first administrator, for example).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Login name.") var username: String
        @Option(help: "Name shown to others.") var name: String
        @Option(help: "Role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "Code of the unit where the role is held.") var unit: String
        @Option(help: "Mobile number, usable as login.") var phone: String?
        @Option(help: "Password; read from SIGNOFF_PASSWORD when not given.") var password: String?

        func run() async throws {
            guard let role = Role(rawValue: self.role) else {
                throw ValidationError("Unknown role ‘\(self.role)’. Roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            guard let password = self.password ?? ProcessInfo.processInfo.environment["SIGNOFF_PASSWORD"] else {
                throw ValidationError("Give --password or set SIGNOFF_PASSWORD.")
            }
            let user = try await self.database.withDatabase { database, _ in
                let organisation = OrganisationStore(database: database)
                let (unit, township) = try await database.withConnection { connection in
                    (try await organisation.unit(code: self.unit, on: connection),
                     try await organisation.units(under: nil, kind: .township).first)
                }
                guard let unit, let township else { throw CLIError("No unit with code ‘\(self.unit)’. Import the township first.") }
                let accounts = AccountStore(transitions: TransitionStore(database: database, clock: SystemWallClock()))
                return try await accounts.createUser(
                    .init(username: self.username, displayName: self.name, phone: self.phone, password: password, roles: [(role, unit.id)]),
                    by: .bootstrap(township)
                )
            }
            print("Created \(user.username) (\(user.id)) as \(role.rawValue) \(role.chineseName) at \(self.unit).")
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a bearer token for an account, for scripts.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Username or phone.") var login: String

        func run() async throws {
            let issued = try await self.database.withDatabase { database, _ in
                let accounts = AccountStore(transitions: TransitionStore(database: database, clock: SystemWallClock()))
                let user = try await accounts.user(username: self.login)
                return try await accounts.issueToken(userID: user.id)
            }
            print(issued.token)
            FileHandle.standardError.write(Data("expires \(issued.expiresAt.formatted(.iso8601))\n".utf8))
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Check the audit trail.", subcommands: [Verify.self, Checkpoint.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash chain; name the first broken row and any subject whose state or head disagrees with its history."
        )
        @OptionGroup var database: DatabaseOptions
        @Option(name: .customLong("against"), help: "A signed checkpoint file (`signoff audit checkpoint`): prove that no history that existed then was cut or rewritten.")
        var statement: String?
        @Option(help: "The published keys to check the checkpoint's signature with (the JSON of GET /.well-known/signoff-keys); default: the data folder's list.")
        var keys: String?

        func run() async throws {
            if let statement = self.statement {
                try await self.verifyAgainst(statement)
                return
            }
            let result = try await self.database.withDatabase { database, _ in
                try await database.withConnection { try await AuditLog.verify(on: $0, logger: database.logger) }
            }
            if result.isIntact {
                print("Audit trail intact: \(result.rowsChecked) rows in \(result.subjectsChecked) chains verified.")
                return
            }
            var lines = ["Audit trail BROKEN (\(result.rowsChecked) rows in \(result.subjectsChecked) chains checked):"]
            if let row = result.firstBrokenRow { lines.append("  first broken row: \(row)") }
            for problem in result.subjectProblems.prefix(20) { lines.append("  \(problem)") }
            throw CLIError(lines.joined(separator: "\n"))
        }

        private func verifyAgainst(_ file: String) async throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CLIError("Cannot read \(file) as UTF-8 text.")
            }
            let published = try self.keys.map { try SigningKeys.publishedKeys(file: URL(fileURLWithPath: $0)) }
                ?? SigningKeys.publishedKeys(dataFolder: URL(fileURLWithPath: self.database.dataDir))
            let result: AuditCheckpointVerification
            do {
                result = try await self.database.withDatabase { database, _ in
                    try await Database.$unboundedOperations.withValue(true) {
                        try await AuditCheckpointStore.verify(statementText: text, keys: published, database: database)
                    }
                }
            } catch let refusal as AuditStatement.Refusal {
                throw CLIError("Checkpoint \(file) REFUSED: \(refusal). It proves nothing; check it against the copy you kept.")
            }
            let statement = result.statement
            let at = "the checkpoint of \(AuditStatement.stamp(statement.createdAt)) (key \(statement.keyID), \(statement.records) rows in \(statement.subjects) chains, root \(statement.merkleRootHex.prefix(16))…)"
            if result.isIntact {
                print("Audit trail matches \(at): every chain recomputed up to its signed head; nothing that existed then was cut or rewritten.")
                return
            }
            var lines = ["Audit trail does NOT match \(at):"]
            for problem in result.problems.prefix(50) { lines.append("  \(problem)") }
            if result.problems.count > 50 { lines.append("  … and \(result.problems.count - 50) more subjects") }
            if !result.rootMatches { lines.append("  the heads found now do not give the signed Merkle root") }
            throw CLIError(lines.joined(separator: "\n"))
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a signed, dated statement of the audit trail: the number of rows, a Merkle root over every chain head, signed by the township key.",
            discussion: "The statement is also kept in the database (the admin audit page lists it). Keep the file elsewhere; `signoff audit verify --against FILE` checks the trail against it later."
        )
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Where to write the statement (default: signoff-audit-checkpoint-<time>.txt in the working directory).")
        var out: String?

        func run() async throws {
            let keys = try SigningKeys.load(dataFolder: URL(fileURLWithPath: self.database.dataDir))
            let checkpoint = try await self.database.withDatabase { database, _ in
                try await Database.$unboundedOperations.withValue(true) {
                    try await AuditCheckpointStore(database: database, clock: SystemWallClock(), keys: keys).write()
                }
            }
            let file = self.out ?? checkpoint.filename
            do {
                try Data(checkpoint.statement.utf8).write(to: URL(fileURLWithPath: file), options: .withoutOverwriting)
            } catch {
                throw CLIError("Cannot write \(file) (it may exist already): \(error.localizedDescription)")
            }
            print("Wrote \(file): \(checkpoint.records) rows in \(checkpoint.subjects) chains, Merkle root \(checkpoint.merkleRoot), signed with key \(checkpoint.keyID).")
        }
    }
}

/// A failure the CLI reports as a message and exit status 1, without a stack of types.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
