import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffStore

@Suite("Returnee isolation by points, over HTTP and PostgreSQL", .timeLimit(.minutes(2)))
struct ReturneeIsolationAPITests {
    /// Registers a returnee of `person` through the API and returns the response.
    static func register(
        _ client: some TestClientProtocol, token: String, person: UUID, province: String, city: String? = nil,
        arrivedAt: Date
    ) async throws -> Reply {
        var body: [String: Any] = [
            "person_id": person.uuidString, "from_province": province,
            "arrived_at": arrivedAt.formatted(.iso8601),
        ]
        if let city { body["from_city"] = city }
        return try await client.call(.post, "/returnees", token: token, json: body)
    }

    @Test func aReturneeFromAKeyAreaGoesToCompulsoryCentralIsolation() async throws {
        try await TestWorld.with { world, client in
            let gw1 = world.town.tokens["gw1"]!
            let (_, wuhan) = try await world.household(in: world.town.grid1, code: "H1", member: "李四")
            let (_, chengdu) = try await world.household(in: world.town.grid1, code: "H2", member: "王五")

            let fromWuhan = try await Self.register(client, token: gw1, person: wuhan.id, province: "Hubei Province",
                                                    city: "武汉市", arrivedAt: world.clock.now())
            #expect(fromWuhan.status == .created)
            #expect(fromWuhan.json["state"] as? String == "central_compulsory")
            #expect(fromWuhan.json["designated_site"] as? Bool == true)
            #expect(fromWuhan.json["self_paid"] as? Bool == false)
            let explanation = try #require(fromWuhan.json["explanation"] as? [String: Any])
            #expect(explanation["rule"] as? String == "key_area")
            #expect(explanation["key_area"] as? String == "湖北")
            #expect(fromWuhan.json["policy_version"] as? String == "2020-02-v1")

            let fromChengdu = try await Self.register(client, token: gw1, person: chengdu.id, province: "四川",
                                                      city: "成都", arrivedAt: world.clock.now())
            #expect(fromChengdu.json["state"] as? String == "home")
            #expect((fromChengdu.json["explanation"] as? [String: Any])?["rule"] as? String == "points")

            // Registering the same person twice while isolating is refused.
            let again = try await Self.register(client, token: gw1, person: wuhan.id, province: "湖北", arrivedAt: world.clock.now())
            #expect(again.status == .conflict)
            #expect(again.code == "duplicate")
            // Either a registered person or a new member of a household, not both.
            let both = try await client.call(.post, "/returnees", token: gw1, json: [
                "person_id": chengdu.id.uuidString, "name": "王五", "from_province": "四川",
                "arrived_at": world.clock.now().formatted(.iso8601),
            ])
            #expect(both.code == "invalid_value")
            let nobody = try await Self.register(client, token: gw1, person: UUID(), province: "四川", arrivedAt: world.clock.now())
            #expect(nobody.code == "not_found")
            // A grid worker of another village cannot register in grid 1.
            let (_, other) = try await world.household(in: world.town.grid1, code: "H3")
            let outside = try await Self.register(client, token: world.town.tokens["gw3"]!, person: other.id,
                                                  province: "四川", arrivedAt: world.clock.now())
            #expect(outside.code == "out_of_jurisdiction")
            #expect(try await world.auditIsIntact())
        }
    }

    @Test func fivePlusFivePointsMoveHomeIsolationToCentralAtExactlyTen() async throws {
        try await TestWorld.with { world, client in
            let gw1 = world.town.tokens["gw1"]!
            let (household, person) = try await world.household(in: world.town.grid1, code: "H1")
            let registered = try await Self.register(client, token: gw1, person: person.id, province: "广东", city: "东莞",
                                                     arrivedAt: world.clock.now())
            let id = try #require(registered.json["id"] as? String)
            #expect(registered.json["state"] as? String == "home")

            let first = try await client.call(.post, "/households/\(household.id)/infractions", token: gw1,
                                              json: ["kind": "family_not_separated", "note": "未分餐"])
            #expect(first.status == .created)
            #expect(first.json["household_total"] as? Int == 5)
            let afterFive = try #require((first.json["returnees"] as? [[String: Any]])?.first)
            #expect(afterFive["placement"] as? String == "home")

            let second = try await client.call(.post, "/households/\(household.id)/infractions", token: gw1,
                                               json: ["kind": "refused_prevention_staff", "person_id": person.id.uuidString])
            #expect(second.json["household_total"] as? Int == 10)
            let afterTen = try #require((second.json["returnees"] as? [[String: Any]])?.first)
            #expect(afterTen["placement"] as? String == "central_self_paid")

            // The explanation names the rule, every entry and the total.
            let shown = try await client.call(.get, "/returnees/\(id)", token: world.town.tokens["admin"]!)
            #expect(shown.json["state"] as? String == "central_self_paid")
            #expect(shown.json["self_paid"] as? Bool == true)
            let explanation = try #require(shown.json["explanation"] as? [String: Any])
            #expect(explanation["rule"] as? String == "points")
            #expect(explanation["total"] as? Int == 10)
            #expect(explanation["threshold"] as? Int == 10)
            let entries = try #require(explanation["entries"] as? [[String: Any]])
            #expect(entries.map { $0["kind"] as? String } == ["family_not_separated", "refused_prevention_staff"])
            #expect(entries.map { $0["points"] as? Int } == [5, 5])
            #expect(entries.first?["note"] as? String == "未分餐")
            #expect((explanation["summary"] as? String)?.contains("自费") == true)

            // The audit row of the move names the entries behind the decision.
            let history = try await client.call(.get, "/audit?subject=\(id)", token: world.town.tokens["admin"]!)
            let events = try #require(history.json["events"] as? [[String: Any]])
            let move = try #require(events.last)
            #expect(move["event"] as? String == "record_infraction")
            #expect(move["to_state"] as? String == "central_self_paid")
            let decision = try #require((move["payload"] as? [String: Any])?["decision"] as? [String: Any])
            #expect((decision["entries"] as? [Any])?.count == 2)

            // A household already at 10 points sends a new member who returns straight to central isolation.
            let late = try await client.call(.post, "/returnees", token: gw1, json: [
                "household_id": household.id.uuidString, "name": "张小三", "from_province": "广东",
                "arrived_at": world.clock.now().formatted(.iso8601),
            ])
            #expect(late.status == .created, "\(late.text)")
            #expect(late.json["state"] as? String == "central_self_paid")
            #expect(((late.json["explanation"] as? [String: Any])?["entries"] as? [Any])?.count == 2)
            #expect(try await world.auditIsIntact())
        }
    }

    @Test func handRecordedInfractionsAreCheckedAndReplayedByIdempotencyKey() async throws {
        try await TestWorld.with { world, client in
            let gw1 = world.town.tokens["gw1"]!
            let (household, _) = try await world.household(in: world.town.grid1, code: "H1")
            let (_, stranger) = try await world.household(in: world.town.grid2, code: "H2")
            let path = "/households/\(household.id)/infractions"

            let vehicle = try await client.call(.post, path, token: gw1, json: ["kind": "key_not_handed_in"])
            #expect(vehicle.status == .unprocessableContent)
            #expect(vehicle.code == "invalid_value")
            let unknown = try await client.call(.post, path, token: gw1, json: ["kind": "spitting"])
            #expect(unknown.code == "invalid_value")
            let notMember = try await client.call(.post, path, token: gw1,
                                                  json: ["kind": "no_isolation_barrier", "person_id": stranger.id.uuidString])
            #expect(notMember.code == "invalid_value")
            let otherGrid = try await client.call(.post, path, token: world.town.tokens["gw2"]!, json: ["kind": "no_isolation_barrier"])
            #expect(otherGrid.code == "out_of_jurisdiction")
            let health = try await client.call(.post, path, token: world.town.tokens["health"]!, json: ["kind": "no_isolation_barrier"])
            #expect(health.code == "forbidden_role")

            let key: HTTPFields = [.init("Idempotency-Key")!: "barrier-1"]
            let once = try await client.call(.post, path, token: gw1, json: ["kind": "no_isolation_barrier"], headers: key)
            let twice = try await client.call(.post, path, token: gw1, json: ["kind": "no_isolation_barrier"], headers: key)
            #expect(once.status == .created)
            #expect(twice.status == .created)
            #expect(twice.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(twice.body == once.body)

            // Credit is its own ledger: it never lowers the points.
            let credit = try await client.call(.post, "/households/\(household.id)/credits", token: gw1,
                                               json: ["note": "参与卡口值守"])
            #expect(credit.status == .created)
            #expect(credit.json["household_credit"] as? Int == 10)
            let noNote = try await client.call(.post, "/households/\(household.id)/credits", token: gw1, json: [:])
            #expect(noNote.code == "missing_field")
            let ledgers = try await client.call(.get, "/households/\(household.id)/ledgers", token: gw1)
            #expect((ledgers.json["infractions"] as? [String: Any])?["total"] as? Int == 5)
            #expect(((ledgers.json["infractions"] as? [String: Any])?["entries"] as? [Any])?.count == 1)
            #expect((ledgers.json["autonomy_credit"] as? [String: Any])?["total"] as? Int == 10)
            let hidden = try await client.call(.get, "/households/\(household.id)/ledgers", token: world.town.tokens["gw3"]!)
            #expect(hidden.code == "out_of_jurisdiction")
        }
    }

    @Test func badReadingsAreRefusedWithAClearErrorAndChangeNothing() async throws {
        try await TestWorld.with { world, client in
            let gw1 = world.town.tokens["gw1"]!
            let (_, person) = try await world.household(in: world.town.grid1, code: "H1")
            let registered = try await Self.register(client, token: gw1, person: person.id, province: "四川", arrivedAt: world.clock.now())
            let id = try #require(registered.json["id"] as? String)
            let path = "/returnees/\(id)/temperatures"

            for (value, words) in [(29.9 as Any, "30.0"), (45.1 as Any, "45.0"), ("abc" as Any, "数字"), (true as Any, "数字")] {
                let refused = try await client.call(.post, path, token: gw1, json: ["celsius": value])
                #expect(refused.status == .unprocessableContent, "\(value)")
                #expect(refused.code == "invalid_value", "\(value)")
                #expect((refused.json["detail"] as? String)?.contains(words) == true, "\(value): \(refused.text)")
            }
            let missing = try await client.call(.post, path, token: gw1, json: [:])
            #expect(missing.code == "missing_field")
            let unchanged = try await client.call(.get, "/returnees/\(id)", token: gw1)
            #expect(unchanged.json["version"] as? Int == 1)
            #expect((unchanged.json["readings"] as? [Any])?.isEmpty == true)

            // A number typed as text is a reading like any other.
            let typed = try await client.call(.post, path, token: gw1, json: ["celsius": "36,6"])
            #expect(typed.status == .ok)
            #expect((typed.json["readings"] as? [[String: Any]])?.first?["celsius"] as? Double == 36.6)
            let outsider = try await client.call(.post, path, token: world.town.tokens["v1secretary"]!, json: ["celsius": 36.6])
            #expect(outsider.code == "forbidden_role")
        }
    }

    @Test func releaseComesAfterTheIsolationPeriodAndNotBefore() async throws {
        try await TestWorld.with { world, client in
            let gw1 = world.town.tokens["gw1"]!
            let (_, person) = try await world.household(in: world.town.grid1, code: "H1")
            let arrived = world.clock.now().addingTimeInterval(-10 * 86_400)
            let registered = try await Self.register(client, token: gw1, person: person.id, province: "四川", arrivedAt: arrived)
            let id = try #require(registered.json["id"] as? String)
            #expect(registered.json["releasable"] as? Bool == false)

            let early = try await client.call(.post, "/returnees/\(id)/release", token: gw1, json: [:])
            #expect(early.status == .unprocessableContent)
            #expect(early.code == "clearance_not_reached")
            #expect(early.json["ends_at"] != nil)

            world.clock.advance(days: 4)
            let later = try await world.token("gw1")
            let shown = try await client.call(.get, "/returnees/\(id)", token: later)
            #expect(shown.json["releasable"] as? Bool == true)
            let released = try await client.call(.post, "/returnees/\(id)/release", token: try await world.token("health"),
                                                 json: ["note": "14天期满, 体温正常"])
            #expect(released.status == .ok)
            #expect(released.json["state"] as? String == "released")
            #expect(released.json["released_at"] != nil)
            let twice = try await client.call(.post, "/returnees/\(id)/release", token: later, json: [:])
            #expect(twice.code == "invalid_transition")
            // A released returnee is no longer overdue for readings.
            world.clock.advance(days: 3)
            let urgent = try await client.call(.get, "/admin/isolation/urgent", token: try await world.token("admin"))
            #expect((urgent.json["items"] as? [Any])?.isEmpty == true)
            #expect(try await world.auditIsIntact())
        }
    }
}
