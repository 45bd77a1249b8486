import Foundation
import HummingbirdTesting
import Testing
import SignoffCore
import SignoffStore

@Suite("Travel pass 通行证: every refusal has its own code and changes nothing", .timeLimit(.minutes(2)))
struct PassChainRefusalTests {
    /// Sends a request that must be refused, and checks the code and that the application did not move.
    static func refused(
        _ world: TestWorld, _ client: any TestClientProtocol, pass: UUID, _ path: String, by username: String,
        json: [String: Any], code: String, status: Int
    ) async throws {
        let before = try await world.snapshot(pass)
        let totalBefore = try await world.totalAuditRows()
        let reply = try await client.call(.post, "/passes/\(pass)/\(path)", token: try await world.token(username), json: json)
        #expect(reply.code == code, "\(username) \(path): \(reply.text)")
        #expect(Int(reply.status.code) == status)
        #expect(try await world.snapshot(pass) == before)
        #expect(try await world.totalAuditRows() == totalBefore)
    }

    @Test func outOfOrderWrongRoleWrongJurisdictionRepeatedSignerMissingReason() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q22222", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")

            // Level 3 before level 1: the branch secretary holds a chain role here, so it is a matter of turn.
            try await Self.refused(world, client, pass: pass, "sign", by: "v1secretary", json: [:], code: "out_of_order", status: 409)
            // A stated level that is not the pending one.
            try await Self.refused(world, client, pass: pass, "sign", by: "gw1", json: ["level": 2], code: "out_of_order", status: 409)
            // The health officer holds no chain role.
            try await Self.refused(world, client, pass: pass, "sign", by: "health", json: [:], code: "forbidden_role", status: 403)
            // gw3 is a grid worker, but of village 2.
            try await Self.refused(world, client, pass: pass, "sign", by: "gw3", json: [:], code: "out_of_jurisdiction", status: 403)
            // A reject needs a reason: missing, and blank.
            try await Self.refused(world, client, pass: pass, "reject", by: "gw1", json: [:], code: "reason_required", status: 422)
            try await Self.refused(world, client, pass: pass, "reject", by: "gw1", json: ["reason": "  "], code: "reason_required", status: 422)
            // Unknown fields and wrong types.
            try await Self.refused(world, client, pass: pass, "sign", by: "gw1", json: ["levle": 1], code: "unknown_field", status: 400)
            try await Self.refused(world, client, pass: pass, "sign", by: "gw1", json: ["level": "one"], code: "invalid_type", status: 400)
            // A stale version.
            let current = try await world.snapshot(pass)
            try await Self.refused(world, client, pass: pass, "sign", by: "gw1", json: ["version": current.version - 1],
                                   code: "version_conflict", status: 409)

            // gw1 signs level 1, then is given the group leader's role: still may not sign level 2.
            #expect(try await client.sign(world, pass: pass, by: "gw1").status == .ok)
            _ = try await world.services.accounts.grantRole(userID: world.town.users["gw1"]!, role: .groupLeader,
                                                            unitID: world.town.group1.id, by: .bootstrap(world.town.township), requestID: nil)
            try await Self.refused(world, client, pass: pass, "sign", by: "gw1", json: [:], code: "repeated_signer", status: 422)
            // Resubmitting a pending application is not possible.
            try await Self.refused(world, client, pass: pass, "resubmit", by: "gw1", json: [:], code: "invalid_transition", status: 409)
        }
    }

    @Test func applyingBeforeClearanceGivesTheDueDateAndWritesNothing() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, pledge) = try await client.registerVehicle(world, plate: "川Q33333", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 13)
            let totalBefore = try await world.totalAuditRows()
            let early = try await client.call(.post, "/passes", token: try await world.token("gw1"), json: ["vehicle_id": vehicle.uuidString])
            #expect(early.status == .unprocessableContent)
            #expect(early.code == "clearance_not_reached")
            let due = try #require(early.json["due_at"] as? String)
            #expect(due == TestWorld.start.addingTimeInterval(14 * 86_400).formatted(.iso8601))
            #expect(try await world.totalAuditRows() == totalBefore)

            // A violation restarts the clock: 14 more days from now.
            let violation = try await client.call(.post, "/vehicles/\(vehicle)/violations", token: try await world.token("gw2"),
                                                  json: ["note": "上路行驶"])
            #expect(violation.code == "out_of_jurisdiction")
            let recorded = try await client.call(.post, "/vehicles/\(vehicle)/violations", token: try await world.token("gw1"),
                                                 json: ["note": "在乡道上看到该车行驶 (seen driving on the township road)"])
            #expect(recorded.status == .created, "\(recorded.text)")
            let events = try await world.outbox(named: "vehicle.violation")
            #expect(events.count == 1)
            #expect(events.first?["vehicle_id"] as? String == vehicle.uuidString)
            world.clock.advance(days: 2)
            let stillEarly = try await client.call(.post, "/passes", token: try await world.token("gw1"), json: ["vehicle_id": vehicle.uuidString])
            #expect(stillEarly.code == "clearance_not_reached")
            #expect(try await world.snapshot(pledge).version == 2)
        }
    }

    @Test func aVehicleHasOneActivePledgeAndAPlateIsRegisteredOnce() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q44444", grid: world.town.grid1, by: "gw1")
            let again = try await client.call(.post, "/vehicles/\(vehicle)/pledges", token: try await world.token("gw1"), json: [:])
            #expect(again.status == .conflict)
            #expect(again.code == "duplicate")
            let owner = try await world.household(in: world.town.grid1, code: "dup")
            let samePlate = try await client.call(.post, "/vehicles", token: try await world.token("gw1"),
                                                  json: ["plate": "川q-44444", "owner_person_id": owner.person.id.uuidString, "parking_place": "家门口"])
            #expect(samePlate.code == "duplicate")
            let badPlate = try await client.call(.post, "/vehicles", token: try await world.token("gw1"),
                                                 json: ["plate": "ABC123", "owner_person_id": owner.person.id.uuidString, "parking_place": "家门口"])
            #expect(badPlate.code == "invalid_value")
        }
    }
}
