import Foundation
import HummingbirdTesting
import Testing
import SignoffCore
import SignoffStore

@Suite("Approval inboxes 待签 and the administrators' pending queries", .timeLimit(.minutes(2)))
struct ApprovalInboxTests {
    /// Applications waiting at every level: in village 1 one at each level 1…5, in village 2 one at levels 1 and 4.
    /// Returns pass id → (village chain, pending level).
    static func populate(_ world: TestWorld, _ client: any TestClientProtocol) async throws -> [(id: UUID, chain: [String], level: Int)] {
        var plans: [(grid: OrgUnit, chain: [String], level: Int, plate: String)] = []
        for level in 1...5 { plans.append((world.town.grid1, Chain.village1, level, "川Q1000\(level)")) }
        plans.append((world.town.gridOther, Chain.village2, 1, "川Q20001"))
        plans.append((world.town.gridOther, Chain.village2, 4, "川Q20004"))
        var vehicles: [UUID] = []
        for plan in plans {
            vehicles.append(try await client.registerVehicle(world, plate: plan.plate, grid: plan.grid, by: plan.chain[0]).vehicle)
        }
        world.clock.advance(days: 14)
        var passes: [(id: UUID, chain: [String], level: Int)] = []
        for (plan, vehicle) in zip(plans, vehicles) {
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: plan.chain[0])
            for signer in plan.chain.prefix(plan.level - 1) {
                #expect(try await client.sign(world, pass: pass, by: signer).status == .ok)
            }
            passes.append((pass, plan.chain, plan.level))
            world.clock.advance(by: 60)
        }
        return passes
    }

    static func ids(_ reply: Reply) -> [String] {
        (reply.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test func eachSignerSeesExactlyTheirLevelInTheirJurisdictionOldestFirst() async throws {
        try await TestWorld.with { world, client in
            let passes = try await Self.populate(world, client)
            let signers = Set(Chain.village1 + Chain.village2 + ["gw2"])
            for signer in signers.sorted() {
                let expected = passes.filter { $0.chain[$0.level - 1] == signer }.map(\.id.uuidString)
                let reply = try await client.call(.get, "/approvals/pending", token: try await world.token(signer))
                #expect(reply.status == .ok)
                #expect(Self.ids(reply) == expected, "inbox of \(signer)")
            }
            // The chief sees level 5 of village 1 only; gw2 (another grid of village 1) sees nothing.
            let chief = try await client.call(.get, "/approvals/pending", token: try await world.token("chief"))
            #expect(Self.ids(chief).count == 1)
            #expect((chief.json["items"] as? [[String: Any]])?.first?["pending_level"] as? Int == 5)
            // Someone holding no signer role is refused.
            let health = try await client.call(.get, "/approvals/pending", token: try await world.token("health"))
            #expect(health.code == "forbidden_role")
        }
    }

    @Test func cursorPagesWalkTheInboxOnceInOrder() async throws {
        try await TestWorld.with { world, client in
            let (first, _) = try await client.registerVehicle(world, plate: "川Q30001", grid: world.town.grid1, by: "gw1")
            let (second, _) = try await client.registerVehicle(world, plate: "川Q30002", grid: world.town.grid2, by: "gw2")
            let (third, _) = try await client.registerVehicle(world, plate: "川Q30003", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            var expected: [String] = []
            for (vehicle, worker) in [(first, "gw1"), (second, "gw2"), (third, "gw1")] {
                let pass = try await client.applyForPass(world, vehicle: vehicle, by: worker)
                #expect(try await client.sign(world, pass: pass, by: worker).status == .ok)
                expected.append(pass.uuidString)
                world.clock.advance(by: 60)
            }
            let token = try await world.token("v1g1leader")
            var seen: [String] = []
            var cursor: String?
            repeat {
                let reply = try await client.call(.get, "/approvals/pending?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
                seen += Self.ids(reply)
                cursor = reply.json["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == expected)
            let bad = try await client.call(.get, "/approvals/pending?cursor=not-a-cursor", token: token)
            #expect(bad.code == "invalid_value")
        }
    }

    @Test func overdueFollowsEachLevelsLimitUnderAMovedClock() async throws {
        try await TestWorld.with { world, client in
            let passes = try await Self.populate(world, client)
            let none = try await client.call(.get, "/admin/pending?overdue=true", token: try await world.token("admin"))
            #expect(Self.ids(none).isEmpty)
            // 30 hours later: levels 1–3 (24 h) are overdue, levels 4–5 (48 h) are not.
            world.clock.advance(by: 30 * 3_600)
            let overdue = try await client.call(.get, "/admin/pending?overdue=true", token: try await world.token("admin"))
            #expect(Set(Self.ids(overdue)) == Set(passes.filter { $0.level <= 3 }.map(\.id.uuidString)))
            #expect((overdue.json["items"] as? [[String: Any]] ?? []).allSatisfy { $0["overdue"] as? Bool == true })
            // 20 more hours: every level is overdue.
            world.clock.advance(by: 20 * 3_600)
            let all = try await client.call(.get, "/admin/pending?overdue=true", token: try await world.token("admin"))
            #expect(Set(Self.ids(all)) == Set(passes.map(\.id.uuidString)))

            // Filters: level, role, unit subtree, minimum age.
            let level4 = try await client.call(.get, "/admin/pending?level=4", token: try await world.token("admin"))
            #expect(Set(Self.ids(level4)) == Set(passes.filter { $0.level == 4 }.map(\.id.uuidString)))
            let secretaries = try await client.call(.get, "/admin/pending?role=branch_secretary", token: try await world.token("admin"))
            #expect(Self.ids(secretaries) == passes.filter { $0.level == 3 }.map(\.id.uuidString))
            let village2 = try await client.call(.get, "/admin/pending?unit=\(world.town.village2.id)", token: try await world.token("admin"))
            #expect(Self.ids(village2) == passes.filter { $0.chain == Chain.village2 }.map(\.id.uuidString))
            let old = try await client.call(.get, "/admin/pending?min_age_hours=1000", token: try await world.token("admin"))
            #expect(Self.ids(old).isEmpty)

            // A village administrator sees only their village, and may not ask about another.
            let v1admin = try await world.token("v1admin")
            let own = try await client.call(.get, "/admin/pending", token: v1admin)
            #expect(Set(Self.ids(own)) == Set(passes.filter { $0.chain == Chain.village1 }.map(\.id.uuidString)))
            let other = try await client.call(.get, "/admin/pending?unit=\(world.town.village2.id)", token: v1admin)
            #expect(other.code == "out_of_jurisdiction")
            let signer = try await client.call(.get, "/admin/pending", token: try await world.token("chief"))
            #expect(signer.code == "forbidden_role")

            let summary = try await client.call(.get, "/admin/pending/summary", token: try await world.token("admin"))
            #expect(summary.json["total"] as? Int == passes.count)
            let levels = summary.json["levels"] as? [[String: Any]] ?? []
            #expect(levels.map { $0["level"] as? Int } == [1, 2, 3, 4, 5])
            #expect(levels.map { $0["pending"] as? Int } == [2, 1, 1, 2, 1])
            let villages = summary.json["villages"] as? [[String: Any]] ?? []
            #expect(villages.map { $0["name"] as? String } == ["联合村", "民主村"])
            #expect(villages.map { $0["pending"] as? Int } == [5, 2])
        }
    }
}
