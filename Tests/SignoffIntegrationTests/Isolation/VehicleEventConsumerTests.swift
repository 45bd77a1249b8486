import Foundation
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffStore

@Suite("Vehicle violations and key declines score points once", .timeLimit(.minutes(2)))
struct VehicleEventConsumerTests {
    @Test func aViolationAndAKeyDeclineEachAddTheirPointsOnceEvenWhenDeliveredTwice() async throws {
        try await TestWorld.with { world, client in
            let gw1 = world.town.tokens["gw1"]!
            let (household, owner) = try await world.household(in: world.town.grid1, code: "H1", member: "车主")
            let registered = try await ReturneeIsolationAPITests.register(client, token: gw1, person: owner.id, province: "重庆",
                                                                       arrivedAt: world.clock.now())
            let id = try #require(registered.json["id"] as? String)

            // The vehicle workflows, driven through the one transition path as their API will.
            let transitions = world.services.transitions
            let worker = try await world.actor("gw1")
            let pledge = try await world.pledge(for: household, owner: owner, grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 2)
            let gw1Later = try await world.token("gw1")
            _ = try await transitions.apply(ParkingPledge.self, id: pledge, .recordViolation(note: "在乡道上行驶"), by: worker)
            _ = try await transitions.start(
                KeyCustody.self,
                .init(vehicleID: UUID(), pledgeID: pledge, ownerPersonID: owner.id, householdID: household.id,
                      gridPath: world.town.grid1.path, opening: .decline(note: "不愿交钥匙")),
                by: worker)
            #expect(try await world.outboxDeliveries(ParkingPledge.violationEvent).map(\.delivered) == [false])
            #expect(try await world.outboxDeliveries(KeyCustody.declinedEvent).map(\.delivered) == [false])

            // Two instances drain at once: each row is taken by one of them only.
            let consumer = world.services.vehicleEvents
            async let first = consumer.drain()
            async let second = consumer.drain()
            let reports = try await [first, second]
            #expect(reports.map(\.delivered).reduce(0, +) == 2)
            #expect(reports.map(\.scored).reduce(0, +) == 2)
            #expect(reports.map(\.failed).reduce(0, +) == 0)
            #expect(try await world.outboxDeliveries(ParkingPledge.violationEvent).map(\.delivered) == [true])

            let shown = try await client.call(.get, "/returnees/\(id)", token: gw1Later)
            #expect(shown.json["state"] as? String == "central_self_paid")
            let explanation = try #require(shown.json["explanation"] as? [String: Any])
            #expect(explanation["total"] as? Int == 10)
            let entries = try #require(explanation["entries"] as? [[String: Any]])
            #expect(Set(entries.compactMap { $0["kind"] as? String }) == ["vehicle_on_road_before_clearance", "key_not_handed_in"])
            #expect(entries.allSatisfy { ($0["source_key"] as? String)?.hasPrefix("vehicle.") == true })
            #expect(entries.contains { ($0["note"] as? String)?.contains("川Q12345") == true })

            // Delivered again (a consumer that died before its commit, a replayed outbox): nothing is added.
            try await world.redeliverOutbox()
            let again = try await consumer.drain()
            #expect(again.delivered == 2)
            #expect(again.duplicates == 2)
            #expect(again.scored == 0)
            let ledgers = try await client.call(.get, "/households/\(household.id)/ledgers", token: gw1Later)
            #expect((ledgers.json["infractions"] as? [String: Any])?["total"] as? Int == 10)
            let after = try await client.call(.get, "/returnees/\(id)", token: gw1Later)
            #expect(after.json["version"] as? Int == shown.json["version"] as? Int)
            #expect(try await consumer.drain() == VehicleEventConsumer.Report())

            // The audit trail of the returnee says the service recorded them.
            let history = try await client.call(.get, "/audit?subject=\(id)", token: try await world.token("admin"))
            let events = try #require(history.json["events"] as? [[String: Any]])
            #expect(events.map { $0["event"] as? String } == ["register", "record_infraction", "record_infraction"])
            #expect(events.last?["actor_user_id"] == nil || events.last?["actor_user_id"] is NSNull)
            #expect(try await world.auditIsIntact())
        }
    }

    @Test func anEventThatCannotBeDeliveredIsCountedAndSetAside() async throws {
        try await TestWorld.with { world, _ in
            try await world.database.withConnection { connection in
                // A violation naming a household that does not exist.
                let payload = #"{"household_id":"\#(UUID().uuidString)","grid_path":"twp.v1.v1g1.v1g1w1","plate":"川Q1"}"#
                try await connection.query("""
                    INSERT INTO outbox (name, key, subject_kind, subject_id, payload, created_at)
                    VALUES ('vehicle.violation', 'vehicle.violation:broken:1', 'parking_pledge', \(UUID()), \(payload)::jsonb, now())
                    """, logger: world.database.logger)
            }
            let consumer = VehicleEventConsumer(isolation: world.services.isolation, maxAttempts: 2)
            #expect(try await consumer.drain().failed == 1)
            #expect(try await consumer.drain().failed == 1)
            // Set aside after two attempts: later drains leave it for an operator.
            #expect(try await consumer.drain() == VehicleEventConsumer.Report())
            let (attempts, error) = try await world.database.withConnection { connection in
                let rows = try await connection.query("SELECT attempts, last_error FROM outbox", logger: world.database.logger)
                var found: (Int, String?) = (0, nil)
                for try await row in rows.decode((Int, String?).self) { found = row }
                return found
            }
            #expect(attempts == 2)
            #expect(error?.contains("not_found") == true)
            #expect(try await world.outboxDeliveries(ParkingPledge.violationEvent).map(\.delivered) == [false])
        }
    }

    @Test func eachReturneeKeepsThePolicyItWasRegisteredUnder() async throws {
        try await TestWorld.with { world, _ in
            let v1 = try world.services.isolation.policy()
            var stricter = v1
            stricter.version = "2020-03-v2"
            stricter.threshold = 20
            let later = IsolationStore(transitions: world.services.transitions, policy: stricter)
            let worker = try await world.actor("gw1")
            let (first, one) = try await world.household(in: world.town.grid1, code: "H1")
            let (second, two) = try await world.household(in: world.town.grid1, code: "H2")
            let registration = { (person: UUID) in
                IsolationStore.Registration(returnee: .person(person), fromProvince: "四川", fromCity: nil, arrivedAt: world.clock.now())
            }
            _ = try await world.services.isolation.register(registration(one.id), by: worker)
            _ = try await later.register(registration(two.id), by: worker)

            for household in [first.id, second.id] {
                let recorded = try await world.services.isolation.recordInfraction(
                    .init(householdID: household, personID: nil, kind: .visitedOtherHousehold, note: "串门"), by: worker)
                guard case .applied(let result, _) = recorded else { Issue.record("not applied"); return }
                let machine = try #require(result.returnees.first?.stored.machine)
                // 10 points: central under the first rules, still home under the stricter ones.
                #expect(machine.state == (household == first.id ? .centralSelfPaid : .home))
                #expect(machine.policyVersion == (household == first.id ? "2020-02-v1" : "2020-03-v2"))
            }
        }
    }
}
