import Foundation
import HTTPTypes
import Testing
import SignoffCore
import SignoffStore

@Suite("Travel pass 通行证 over HTTP: the whole path, races and retries", .timeLimit(.minutes(2)))
struct VehiclePassFlowTests {
    @Test func registerParkDepositWaitApplySignFiveTimesAndGetTheKeyBack() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, pledge) = try await client.registerVehicle(world, plate: "川Q 12345", grid: world.town.grid1, by: "gw1")
            let deposit = try await client.call(.post, "/vehicles/\(vehicle)/key/deposit", token: try await world.token("gw1"),
                                                json: ["receipt_number": "收-001", "storage_place": "村委会保险柜"])
            #expect(deposit.status == .ok, "\(deposit.text)")
            #expect(deposit.json["status"] as? String == "held")
            // The key may not go back before the pass is effective.
            let early = try await client.call(.post, "/vehicles/\(vehicle)/key/return", token: try await world.token("gw1"), json: [:])
            #expect(early.status == .conflict)
            #expect(early.code == "invalid_transition")

            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            for (index, signer) in Chain.village1.enumerated() {
                let signed = try await client.sign(world, pass: pass, by: signer, json: ["level": index + 1])
                #expect(signed.status == .ok, "\(signer): \(signed.text)")
                world.clock.advance(by: 3_600)
            }
            let shown = try await client.call(.get, "/passes/\(pass)", token: try await world.token("admin"))
            #expect(shown.json["status"] as? String == "effective")
            let number = try #require(shown.json["pass_number"] as? String)
            #expect(number.hasPrefix("通行证-2020-"))
            #expect(shown.json["effective_until"] as? String != nil)
            let rounds = try #require(shown.json["rounds"] as? [[String: Any]])
            #expect(rounds.count == 1)
            let signatures = try #require(rounds[0]["signatures"] as? [[String: Any]])
            #expect(signatures.map { $0["role"] as? String } == ["grid_worker", "group_leader", "branch_secretary", "village_leader", "chief_leader"])
            #expect(signatures.map { $0["user_id"] as? String } == Chain.village1.map { world.town.users[$0]!.uuidString })
            #expect(signatures.allSatisfy { $0["at"] as? String != nil && $0["unit_path"] as? String != nil })

            // The service released the pledge in the same transaction as the last signature.
            let released = try await world.snapshot(pledge)
            #expect(released.stateName == "released")
            let history = try await client.call(.get, "/audit?subject=\(pledge)", token: try await world.token("admin"))
            let events = (history.json["events"] as? [[String: Any]] ?? []).map { $0["event"] as? String }
            #expect(events == ["register", "release"])

            let returned = try await client.call(.post, "/vehicles/\(vehicle)/key/return", token: try await world.token("gw1"), json: [:])
            #expect(returned.status == .ok, "\(returned.text)")
            #expect(returned.json["status"] as? String == "returned")

            let keys = try await client.call(.get, "/keys", token: try await world.token("v1secretary"))
            #expect((keys.json["keys"] as? [[String: Any]])?.isEmpty == true)

            let verification = try await world.database.withConnection { try await AuditLog.verify(on: $0, logger: world.database.logger) }
            #expect(verification.isIntact)
            #expect(verification.rowsChecked > 10)
        }
    }

    @Test func twoSignersOfTheSameLevelAtOnceOneWinsTheOtherGets409() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q54321", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            // A second grid worker of the same grid, so two people hold level 1 there.
            let second = try await world.services.accounts.createUser(
                .init(username: "gw1b", displayName: "网格员 gw1b", password: nil,
                      roles: [(.gridWorker, world.town.grid1.id)], passwordHash: try await world.services.accounts.hashPassword(TestTownship.password)),
                by: .bootstrap(world.town.township))
            let secondToken = try await world.services.accounts.issueToken(userID: second.id).token
            let before = try await world.snapshot(pass)

            async let first = client.call(.post, "/passes/\(pass)/sign", token: try await world.token("gw1"), json: ["version": before.version])
            async let other = client.call(.post, "/passes/\(pass)/sign", token: secondToken, json: ["version": before.version])
            let replies = try await [first, other]
            #expect(replies.filter { $0.status == .ok }.count == 1)
            let loser = try #require(replies.first { $0.status != .ok })
            #expect(loser.status == .conflict)
            #expect(loser.code == "version_conflict")
            let after = try await world.snapshot(pass)
            #expect(after.version == before.version + 1)
            #expect(after.auditRows == before.auditRows + 1)
        }
    }

    @Test func aLostResponseRetriedWithTheSameKeyIsReplayedNotSignedAgain() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川QD12345", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "sign-\(pass)-1"]
            let first = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("gw1"), json: [:], headers: key)
            #expect(first.status == .ok)
            let afterFirst = try await world.snapshot(pass)
            world.clock.advance(by: 60)
            let retry = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("gw1"), json: [:], headers: key)
            #expect(retry.status == first.status)
            #expect(retry.body == first.body)
            #expect(retry.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try await world.snapshot(pass) == afterFirst)
            // The same key with another request is refused.
            let reused = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("gw1"), json: ["level": 2], headers: key)
            #expect(reused.code == "idempotency_key_reused")
        }
    }

    /// A keyed sign reads its pass with the key's claim (`ClaimAndLoadStatement`): a pass that
    /// does not exist is still 404 and keeps nothing, a stale version is still a conflict that
    /// reports the version as it stands, and each keyed sign reads the pass anew.
    @Test func aKeyedSignReadsThePassWithItsClaim() async throws {
        try await TestWorld.with { world, client in
            let gw1 = try await world.token("gw1")
            let missing = UUID()
            let absent = try await client.call(.post, "/passes/\(missing)/sign", token: gw1, json: [:],
                                               headers: ConcurrentRetryTests.key("sign-missing"))
            #expect(absent.status == .notFound, "\(absent.text)")
            #expect(try await world.count("SELECT count(*)::int FROM idempotency_keys WHERE key = 'sign-missing'") == 0)

            let (vehicle, _) = try await client.registerVehicle(world, plate: "川QD54321", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let before = try await world.snapshot(pass)
            let first = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("gw1"), json: ["version": before.version],
                                              headers: ConcurrentRetryTests.key("sign-first"))
            #expect(first.status == .ok, "\(first.text)")
            let stale = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1g1leader"),
                                              json: ["version": before.version], headers: ConcurrentRetryTests.key("sign-stale"))
            #expect(stale.code == "version_conflict", "\(stale.text)")
            #expect(stale.json["current_version"] as? Int == before.version + 1)
            let second = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1g1leader"),
                                               json: ["version": before.version + 1], headers: ConcurrentRetryTests.key("sign-second"))
            #expect(second.status == .ok, "\(second.text)")
            #expect(try await world.snapshot(pass).version == before.version + 2)
        }
    }

    @Test func rejectThenResubmitStartsANewRoundAndKeepsTheOld() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q11111", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            try await client.sign(world, pass: pass, by: "gw1")
            let rejected = try await client.call(.post, "/passes/\(pass)/reject", token: try await world.token("v1g1leader"),
                                                 json: ["reason": "行驶证照片不清 (licence photo unreadable)"])
            #expect(rejected.status == .ok, "\(rejected.text)")
            #expect(rejected.json["status"] as? String == "rejected")
            let resubmitted = try await client.call(.post, "/passes/\(pass)/resubmit", token: try await world.token("gw1"), json: ["note": "已补照片"])
            #expect(resubmitted.status == .ok, "\(resubmitted.text)")
            let rounds = try #require(resubmitted.json["rounds"] as? [[String: Any]])
            #expect(rounds.count == 2)
            #expect((rounds[0]["rejection"] as? [String: Any])?["reason"] as? String == "行驶证照片不清 (licence photo unreadable)")
            #expect(resubmitted.json["pending_level"] as? Int == 1)
            let withdrawn = try await client.call(.post, "/passes/\(pass)/withdraw", token: try await world.token("gw1"), json: [:])
            #expect(withdrawn.json["status"] as? String == "withdrawn")
        }
    }
}
