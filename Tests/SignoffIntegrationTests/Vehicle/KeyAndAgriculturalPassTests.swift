import Foundation
import Testing
import SignoffCore
import SignoffStore

@Suite("Key custody 钥匙代管 and agricultural passes 农用车通行证明", .timeLimit(.minutes(2)))
struct KeyAndAgriculturalPassTests {
    @Test func declineIsPublishedThenDepositTransferAndTheKeyList() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q66666", grid: world.town.grid1, by: "gw1")
            let (other, _) = try await client.registerVehicle(world, plate: "川Q77777", grid: world.town.gridOther, by: "gw3")
            let declined = try await client.call(.post, "/vehicles/\(vehicle)/key/decline", token: try await world.token("gw1"),
                                                 json: ["note": "车主不愿交钥匙"])
            #expect(declined.json["status"] as? String == "declined", "\(declined.text)")
            let events = try await world.outbox(named: "vehicle.key_declined")
            #expect(events.count == 1)
            #expect(events.first?["vehicle_id"] as? String == vehicle.uuidString)
            let twice = try await client.call(.post, "/vehicles/\(vehicle)/key/decline", token: try await world.token("gw1"), json: [:])
            #expect(twice.code == "invalid_transition")

            let deposited = try await client.call(.post, "/vehicles/\(vehicle)/key/deposit", token: try await world.token("gw1"),
                                                  json: ["receipt_number": "收-002", "storage_place": "村委会保险柜"])
            #expect(deposited.json["status"] as? String == "held", "\(deposited.text)")
            let secretary = world.town.users["v1secretary"]!
            let moved = try await client.call(.post, "/vehicles/\(vehicle)/key/transfer", token: try await world.token("v1g1leader"),
                                              json: ["custodian_user_id": secretary.uuidString, "storage_place": "村支部办公室"])
            #expect(moved.status == .ok, "\(moved.text)")
            let last = (moved.json["history"] as? [[String: Any]])?.last
            #expect((last?["from"] as? [String: Any])?["name"] as? String == "网格员 gw1")
            #expect((last?["to"] as? [String: Any])?["name"] as? String == "支部书记 v1secretary")
            _ = try await client.call(.post, "/vehicles/\(other)/key/deposit", token: try await world.token("gw3"),
                                      json: ["receipt_number": "收-101", "storage_place": "民主村村委会"])

            // The township sees both keys; village 1 sees only its own, with whom and where.
            let all = try await client.call(.get, "/keys", token: try await world.token("admin"))
            #expect((all.json["keys"] as? [[String: Any]])?.count == 2)
            let v1 = try await client.call(.get, "/keys", token: try await world.token("v1stationed"))
            let keys = try #require(v1.json["keys"] as? [[String: Any]])
            #expect(keys.count == 1)
            #expect(keys.first?["plate"] as? String == "川Q66666")
            #expect((keys.first?["custodian"] as? [String: Any])?["user_id"] as? String == secretary.uuidString)
            #expect(keys.first?["storage_place"] as? String == "村支部办公室")
        }
    }

    @Test func issueWithSerialsPerYearRevokeAndExpiry() async throws {
        try await TestWorld.with { world, client in
            let (household, _) = try await world.household(in: world.town.grid1, code: "farm1")
            func request() async throws -> UUID {
                let reply = try await client.call(.post, "/agricultural-passes", token: try await world.token("gw1"), json: [
                    "household_id": household.id.uuidString, "vehicle": "三轮农用车", "purpose": "春耕运输化肥", "route": "联合村—乡农资站",
                ])
                #expect(reply.status == .created, "\(reply.text)")
                return try #require(UUID(uuidString: reply.json["id"] as? String ?? ""))
            }
            let first = try await request()
            let second = try await request()
            let wrong = try await client.call(.post, "/agricultural-passes/\(first)/issue", token: try await world.token("v2secretary"), json: [:])
            #expect(wrong.code == "out_of_jurisdiction")
            let issued = try await client.call(.post, "/agricultural-passes/\(first)/issue", token: try await world.token("v1secretary"), json: [:])
            #expect(issued.json["serial_number"] as? String == "农通-2020-0001", "\(issued.text)")
            let next = try await client.call(.post, "/agricultural-passes/\(second)/issue", token: try await world.token("v1secretary"), json: [:])
            #expect(next.json["serial_number"] as? String == "农通-2020-0002")

            let noReason = try await client.call(.post, "/agricultural-passes/\(first)/revoke", token: try await world.token("v1secretary"), json: [:])
            #expect(noReason.code == "reason_required")
            let revoked = try await client.call(.post, "/agricultural-passes/\(first)/revoke", token: try await world.token("v1secretary"),
                                                json: ["reason": "车辆用于载客 (carried passengers)"])
            #expect(revoked.json["status"] as? String == "revoked")

            world.clock.advance(days: 31)
            let expired = try await client.call(.get, "/agricultural-passes/\(second)", token: try await world.token("v1secretary"))
            #expect(expired.json["status"] as? String == "expired")

            // A new year starts again at 0001.
            world.clock.advance(days: 365)
            let third = try await request()
            let nextYear = try await client.call(.post, "/agricultural-passes/\(third)/issue", token: try await world.token("v1secretary"), json: [:])
            #expect(nextYear.json["serial_number"] as? String == "农通-2021-0001")
        }
    }
}
