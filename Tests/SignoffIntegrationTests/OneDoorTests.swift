import Foundation
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffStore

/// Every write of a machine's state and of the audit trail goes through `TransitionStore`.
@Suite("One door", .timeLimit(.minutes(2)))
struct OneDoorTests {
    static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Statements that only the transition path may run.
    static let guarded = ["INSERT INTO audit_events", "INSERT INTO instances", "UPDATE instances"]

    /// The door's file: the transition path, with its prepared version-checked `UPDATE instances`
    /// (private there, so the compiler keeps it in; the scan below checks no copy exists elsewhere).
    static let door: Set<String> = ["TransitionStore.swift"]

    /// Prepared statements that write an instance, which only the transition path may use.
    static let doorStatements = ["UpdateInstanceStatement("]

    /// Scans every file under Sources. `schema/` (migrations that backfill columns) is outside
    /// Sources and not scanned; the bench seed (`BenchSeed.swift`) goes through the door too.
    @Test func onlyTheTransitionStoreWritesInstancesAndTheAudit() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        var scanned = 0
        var offenders: [String] = []
        for case let url as URL in files where ["swift", "sql", "mustache", "js"].contains(url.pathExtension) {
            scanned += 1
            let raw = try String(contentsOf: url, encoding: .utf8)
            let name = url.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            if url.lastPathComponent != "TransitionStore.swift" {
                for statement in Self.doorStatements where raw.contains(statement) { offenders.append("\(name): \(statement)") }
            }
            guard !Self.door.contains(url.lastPathComponent) else { continue }
            // Whitespace folded, so a statement split over lines is still found.
            let text = raw.components(separatedBy: .whitespacesAndNewlines).filter { !$0.isEmpty }.joined(separator: " ").uppercased()
            for statement in Self.guarded where text.contains(statement) { offenders.append("\(name): \(statement)") }
        }
        #expect(scanned > 100, "the scan found the sources")
        #expect(offenders.isEmpty, "written outside TransitionStore.swift: \(offenders)")
        // The door itself holds them, so the scan would see a copy elsewhere.
        let door = try Self.door.map { try String(contentsOf: sources.appendingPathComponent("SignoffStore/\($0)"), encoding: .utf8) }
            .joined(separator: "\n")
        for statement in Self.guarded + Self.doorStatements { #expect(door.contains(statement)) }
    }

    /// Published events against their consumers: each is taken in the transition's own
    /// transaction (a reaction), by an outbox consumer, or both; none is queued for nobody.
    @Test func everyPublishedEventHasAConsumer() {
        let published: [String] = [
            ParkingPledge.violationEvent, KeyCustody.declinedEvent,
            PassApplication.effectiveEvent, PassApplication.revokedEvent, "vehicle_pass.rejected",
            AgriculturalPass.issuedEvent, AgriculturalPass.revokedEvent,
            CertificateRequest.certifiedEvent, CertificateRequest.revokedEvent, "certificate.issued",
            "transport_trip.approved", "isolation.fever", "visit.fever",
            AccountLifecycle.roleGrantedEvent, AccountLifecycle.roleRevokedEvent, AccountLifecycle.passwordSetEvent,
            HouseholdLedger.infractionRecordedEvent, HouseholdLedger.creditRecordedEvent,
        ] + DueMoment.Name.allCases.map { "timer.\($0.rawValue)" }
        let reacted = TransitionStore.inTransactionEvents
        for name in published {
            #expect(reacted.contains(name) || OutboxRoutes.isQueued(name), "\(name) has no consumer")
        }
        // Every consumer's names are published by someone.
        for name in reacted.union(OutboxRoutes.vehicleEvents).union(OutboxRoutes.notifications) {
            #expect(published.contains(name), "\(name) is consumed but never published")
        }
        // The password hash never leaves the transaction.
        #expect(!OutboxRoutes.isQueued(AccountLifecycle.passwordSetEvent))
    }

    @Test func grantsRevokesAndPasswordsAreTransitionsOfTheAccount() async throws {
        try await TestWorld.with { world, client in
            let admin = try await world.actor("admin")
            let accounts = world.services.accounts
            let gw1 = world.town.users["gw1"]!
            let before = try await world.services.transitions.load(AccountLifecycle.self, id: gw1).version
            _ = try await accounts.grantRole(userID: gw1, role: .groupLeader, unitID: world.town.group1.id, by: admin,
                                             requestID: "req-grant", reason: "兼任组长")
            #expect(try await accounts.user(id: gw1).roles.map(\.role).sorted { $0.rawValue < $1.rawValue } == [.gridWorker, .groupLeader])
            _ = try await accounts.revokeRole(userID: gw1, role: .groupLeader, unitID: world.town.group1.id, reason: "调岗",
                                              by: admin, requestID: "req-revoke")
            #expect(try await accounts.user(id: gw1).roles.map(\.role) == [.gridWorker])
            try await accounts.setPassword(userID: gw1, password: "a new password 1", by: admin, requestID: "req-password")
            _ = try await accounts.login(identifier: "gw1", password: "a new password 1")

            let after = try await world.services.transitions.load(AccountLifecycle.self, id: gw1)
            #expect(after.version == before + 3)
            let trail = try await world.database.withConnection {
                try await AuditLog.history(subjectID: gw1, on: $0, logger: world.database.logger)
            }
            #expect(trail.map(\.event) == ["create", "grant_role", "revoke_role", "set_password"])
            #expect(trail.map(\.actorName).suffix(3).allSatisfy { $0 == admin.displayName })
            #expect(trail.map(\.requestID).suffix(3) == ["req-grant", "req-revoke", "req-password"])
            #expect(trail[3].payload == .object(["by_holder": .bool(false)]))
            // The hash is nowhere but in users.
            let hash = try await world.database.withConnection { connection in
                let rows = try await connection.query("SELECT password_hash FROM users WHERE id = \(gw1)", logger: world.database.logger)
                for try await hash in rows.decode(String.self) { return hash }
                return ""
            }
            #expect(hash.hasPrefix("$2"))
            #expect(try await world.count("SELECT count(*)::int FROM audit_events WHERE payload::text LIKE '%\(hash)%'") == 0)
            #expect(try await world.count("SELECT count(*)::int FROM instances WHERE state::text LIKE '%\(hash)%'") == 0)
            #expect(try await world.count("SELECT count(*)::int FROM outbox WHERE name LIKE 'account.%'") == 0)
            #expect(try await world.auditIsIntact())
            _ = client
        }
    }

    @Test func aWorkerSettingTheirPasswordWithTheCodeIsAuditedAsTheirs() async throws {
        try await TestWorld.with { world, client in
            let person = try await world.addPerson("杨明", in: world.town.grid1)
            _ = try await WorkerPathTests.workerToken(world, client, person: person, phone: "13800000009")
            let worker = try await world.services.accounts.user(username: "13800000009")
            let trail = try await world.database.withConnection {
                try await AuditLog.history(subjectID: worker.id, on: $0, logger: world.database.logger)
            }
            #expect(trail.map(\.event) == ["create", "set_password"])
            #expect(trail[0].payload == .object(["username": .string("13800000009")]), "no password at creation")
            #expect(trail[1].actorUserID == worker.id)
            #expect(trail[1].payload == .object(["by_holder": .bool(true)]))
        }
    }

    @Test func aRefusedGrantWritesNothing() async throws {
        try await TestWorld.with { world, _ in
            let gw1 = world.town.users["gw1"]!
            let gridWorker = try await world.actor("gw2")
            await #expect(throws: SignoffError.self) {
                _ = try await world.services.accounts.grantRole(userID: gw1, role: .groupLeader, unitID: world.town.group1.id,
                                                                by: gridWorker, requestID: nil)
            }
            #expect(try await world.count("SELECT count(*)::int FROM role_assignments WHERE user_id = '\(gw1)'") == 1)
            #expect(try await world.count("SELECT count(*)::int FROM audit_events WHERE subject_id = '\(gw1)'") == 1)
        }
    }

    @Test func ledgerEntriesAndCreditsAreAuditedOnTheHouseholdsLedger() async throws {
        try await TestWorld.with { world, _ in
            let worker = try await world.actor("gw1")
            let (household, person) = try await world.household(in: world.town.grid1, code: "H-door")
            let isolation = world.services.isolation
            let first = try await isolation.recordInfraction(
                .init(householdID: household.id, personID: person.id, kind: .visitedOtherHousehold, note: "串门"), by: worker)
            guard case .applied(let recorded, _) = first else { Issue.record("not applied"); return }
            #expect(recorded.householdTotal == 10)
            _ = try await isolation.recordInfraction(
                .init(householdID: household.id, personID: nil, kind: .noIsolationBarrier, note: nil), by: worker)
            _ = try await isolation.recordCredit(
                .init(householdID: household.id, personID: nil, kind: .preventionWork, note: "参与消毒"), by: worker)

            let ledgers = try await isolation.ledgers(ofHousehold: household.id)
            #expect(ledgers.infractions.count == 2 && ledgers.credits.count == 1)
            let ledger = try await world.services.transitions.load(HouseholdLedger.self, id: household.id).machine
            #expect(ledger.infractionTotal == InfractionLedger.total(of: ledgers.infractions))
            #expect(ledger.creditTotal == AutonomyCreditLedger.total(of: ledgers.credits))
            #expect(ledger.entryCount == 2 && ledger.creditCount == 1)
            let trail = try await world.database.withConnection {
                try await AuditLog.history(subjectID: household.id, on: $0, logger: world.database.logger)
            }
            #expect(trail.map(\.event) == ["open", "record_infraction", "record_infraction", "record_credit"])
            #expect(trail.dropFirst().allSatisfy { $0.actorUserID == worker.userID && $0.actorRole == Role.gridWorker.rawValue })
            #expect(try await world.auditIsIntact())
        }
    }

    @Test func anEffectivePassLeavesNothingWaitingInTheOutbox() async throws {
        try await TestWorld.with { world, client in
            let pass = try await world.filedPass(client)
            for (index, signer) in Chain.village1.enumerated() {
                let signed = try await client.sign(world, pass: pass, by: signer, json: ["level": index + 1])
                #expect(signed.status == .ok, "\(signer): \(signed.text)")
            }
            #expect(try await world.count("SELECT count(*)::int FROM outbox WHERE name = 'vehicle_pass.effective'") == 1)
            // Nothing waits for the vehicle-event consumer that it would never take.
            let scored = OutboxRoutes.vehicleEvents.map { "'\($0)'" }.joined(separator: ",")
            #expect(try await world.count("SELECT count(*)::int FROM outbox WHERE delivered_at IS NULL AND name NOT IN (\(scored))") == 0)
            try await world.services.notifications.drain()
            #expect(try await world.count("SELECT count(*)::int FROM outbox WHERE delivered_at IS NULL OR notified_at IS NULL") == 0)
        }
    }
}
