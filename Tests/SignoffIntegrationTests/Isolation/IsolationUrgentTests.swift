import Foundation
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffStore

@Suite("Fevers and missed readings on the administrators' urgent list", .timeLimit(.minutes(2)))
struct IsolationUrgentTests {
    static func urgent(_ client: some TestClientProtocol, _ world: TestWorld, as user: String = "admin") async throws -> [[String: Any]] {
        let reply = try await client.call(.get, "/admin/isolation/urgent", token: try await world.token(user))
        #expect(reply.status == .ok, "\(reply.text)")
        return reply.json["items"] as? [[String: Any]] ?? []
    }

    @Test func aFeverIsUrgentUntilTheHealthCentreHandlesIt() async throws {
        try await TestWorld.with { world, client in
            var gw1 = world.town.tokens["gw1"]!
            let (_, person) = try await world.household(in: world.town.grid1, code: "H1", member: "赵六")
            let registered = try await ReturneeIsolationAPITests.register(client, token: gw1, person: person.id, province: "四川",
                                                                       arrivedAt: world.clock.now())
            let id = try #require(registered.json["id"] as? String)
            #expect(try await Self.urgent(client, world).isEmpty)

            let fever = try await client.call(.post, "/returnees/\(id)/temperatures", token: gw1, json: ["celsius": 37.3])
            #expect(fever.status == .ok)
            #expect(fever.json["open_fever"] is [String: Any])
            let items = try await Self.urgent(client, world)
            #expect(items.count == 1)
            #expect(items.first?["kind"] as? String == "fever")
            #expect(items.first?["returnee_id"] as? String == id)
            #expect(items.first?["person_name"] as? String == "赵六")
            #expect((items.first?["summary"] as? String)?.contains("发热") == true)
            #expect(try await Self.urgent(client, world, as: "health").count == 1)
            // The administrator of village 1 sees the fever of its grid.
            #expect(try await Self.urgent(client, world, as: "v1admin").count == 1)
            let gridWorker = try await client.call(.get, "/admin/isolation/urgent", token: gw1)
            #expect(gridWorker.code == "forbidden_role")

            let byGridWorker = try await client.call(.post, "/returnees/\(id)/handle-fever", token: gw1, json: ["note": "已报告"])
            #expect(byGridWorker.code == "forbidden_role")
            let noNote = try await client.call(.post, "/returnees/\(id)/handle-fever", token: world.town.tokens["health"]!, json: [:])
            #expect(noNote.code == "missing_field")
            // Release waits for the fever to be handled, whatever the date.
            world.clock.advance(days: 15)
            gw1 = try await world.token("gw1")
            let health = try await world.token("health")
            let blocked = try await client.call(.post, "/returnees/\(id)/release", token: gw1, json: [:])
            #expect(blocked.code == "invalid_transition")
            let handled = try await client.call(.post, "/returnees/\(id)/handle-fever", token: health,
                                                json: ["note": "已转县医院发热门诊, 核酸阴性"])
            #expect(handled.status == .ok)
            #expect(handled.json["open_fever"] == nil || handled.json["open_fever"] is NSNull)
            let after = try await Self.urgent(client, world)
            #expect(!after.contains { $0["kind"] as? String == "fever" })
            #expect(try await world.auditIsIntact())
        }
    }

    @Test func aMissedDailyReadingIsOverdueUnderAMovedClockAndFeversComeFirst() async throws {
        try await TestWorld.with { world, client in
            var gw1 = world.town.tokens["gw1"]!
            let (_, late) = try await world.household(in: world.town.grid1, code: "H1", member: "迟到")
            let (_, fevered) = try await world.household(in: world.town.grid1, code: "H2", member: "发热")
            let lateID = try #require(try await ReturneeIsolationAPITests.register(
                client, token: gw1, person: late.id, province: "四川", arrivedAt: world.clock.now()).json["id"] as? String)
            let feverID = try #require(try await ReturneeIsolationAPITests.register(
                client, token: gw1, person: fevered.id, province: "四川", arrivedAt: world.clock.now()).json["id"] as? String)

            world.clock.advance(by: 23 * 3_600)
            gw1 = try await world.token("gw1")
            #expect(try await Self.urgent(client, world).isEmpty)
            let normal = try await client.call(.post, "/returnees/\(feverID)/temperatures", token: gw1, json: ["celsius": 36.5])
            #expect(normal.json["reading_overdue"] as? Bool == false)

            world.clock.advance(by: 2 * 3_600)
            let overdue = try await Self.urgent(client, world)
            #expect(overdue.map { $0["returnee_id"] as? String } == [lateID])
            #expect(overdue.first?["kind"] as? String == "overdue_reading")
            #expect(overdue.first?["waiting_hours"] as? Int == 1)
            let shown = try await client.call(.get, "/returnees/\(lateID)", token: gw1)
            #expect(shown.json["reading_overdue"] as? Bool == true)

            _ = try await client.call(.post, "/returnees/\(feverID)/temperatures", token: try await world.token("health"),
                                      json: ["celsius": 38.4])
            let both = try await Self.urgent(client, world)
            #expect(both.map { $0["kind"] as? String } == ["fever", "overdue_reading"])
            #expect(both.map { $0["returnee_id"] as? String } == [feverID, lateID])

            // The missed reading comes in: the returnee leaves the list.
            _ = try await client.call(.post, "/returnees/\(lateID)/temperatures", token: gw1, json: ["celsius": 36.8])
            #expect(try await Self.urgent(client, world).map { $0["returnee_id"] as? String } == [feverID])
        }
    }
}
