import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffStore

@Suite("Migrant workers: accounts, health certificates, directed transport", .timeLimit(.minutes(2)))
struct WorkerPathTests {
    /// Creates a worker account for `person` and activates it; returns the worker's token.
    static func workerToken(_ world: TestWorld, _ client: any TestClientProtocol, person: UUID, phone: String, gridWorker: String = "gw1") async throws -> String {
        let created = try await client.call(.post, "/worker-accounts", token: try await world.token(gridWorker), json: ["person_id": person.uuidString, "phone": phone])
        #expect(created.status == .created, "\(created.text)")
        let code = try #require(created.json["activation_code"] as? String)
        let activated = try await client.call(.post, "/auth/activate", json: ["login": phone, "activation_code": code, "password": "my own password"])
        #expect(activated.status == .noContent, "\(activated.text)")
        let login = try await client.call(.post, "/auth/login", json: ["login": phone, "password": "my own password"])
        return try #require(login.json["token"] as? String)
    }

    @Test func theWorkersWholePath() async throws {
        try await TestWorld.with { world, client in
            let person = try await world.addPerson("杨明", in: world.town.grid1, poor: true)
            // Activation: a wrong code fails, the right one sets the password, and it works once.
            let created = try await client.call(.post, "/worker-accounts", token: try await world.token("gw1"),
                                                json: ["person_id": person.uuidString, "phone": "13800000001"])
            #expect(created.status == .created)
            let code = try #require(created.json["activation_code"] as? String)
            let before = try await client.call(.post, "/auth/login", json: ["login": "13800000001", "password": "my own password"])
            #expect(before.code == "invalid_credentials")
            let wrong = try await client.call(.post, "/auth/activate", json: ["login": "13800000001", "activation_code": "00000000" == code ? "11111111" : "00000000", "password": "my own password"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.code == "invalid_credentials")
            #expect(try await client.call(.post, "/auth/activate", json: ["login": "13800000001", "activation_code": code, "password": "my own password"]).status == .noContent)
            // A retry of the same activation (the answer was lost) succeeds and changes nothing;
            // the used code with another password is refused.
            #expect(try await client.call(.post, "/auth/activate", json: ["login": "13800000001", "activation_code": code, "password": "my own password"]).status == .noContent)
            let again = try await client.call(.post, "/auth/activate", json: ["login": "13800000001", "activation_code": code, "password": "another password"])
            #expect(again.code == "invalid_credentials")
            let login = try await client.call(.post, "/auth/login", json: ["login": "13800000001", "password": "my own password"])
            let token = try #require(login.json["token"] as? String)
            let me = try await client.call(.get, "/me", token: token)
            #expect(me.json["person_id"] as? String == person.uuidString)

            // The worker files their own request; the village verifies; the health centre passes it.
            let filed = try await client.call(.post, "/certificate-requests", token: token,
                                              json: ["destination_province": "广东", "destination_city": "东莞", "employer": "电子厂"])
            #expect(filed.status == .created, "\(filed.text)")
            #expect(filed.json["state"] as? String == "filed")
            #expect(filed.json["scope"] as? String == "out_of_province")
            let id = try #require(filed.json["id"] as? String)
            let duplicate = try await client.call(.post, "/certificate-requests", token: token,
                                                  json: ["destination_province": "四川", "destination_city": "成都"])
            #expect(duplicate.code == "duplicate")
            #expect(try await client.call(.post, "/certificate-requests/\(id)/verify", token: token, json: [:]).code == "forbidden_role")
            #expect(try await client.call(.post, "/certificate-requests/\(id)/verify", token: try await world.token("v1secretary"), json: [:]).status == .ok)
            let passed = try await client.call(.post, "/certificate-requests/\(id)/exam", token: try await world.token("health"), json: ["result": "pass"])
            #expect(passed.status == .ok, "\(passed.text)")
            let number = try #require(passed.json["certificate_number"] as? String)
            #expect(number.hasPrefix("LH-JK-2020-"))
            let mine = try await client.call(.get, "/certificate-requests", token: token)
            let listed = try #require(mine.json["requests"] as? [[String: Any]])
            #expect(listed.map { $0["id"] as? String } == [id])
            #expect(listed.first?["state"] as? String == "certified")

            // A trip carries them: filed by the branch secretary, approved, departed, arrived.
            let trip = try await client.call(.post, "/transport-trips", token: try await world.token("v1secretary"), json: world.tripBody([person]))
            #expect(trip.status == .created, "\(trip.text)")
            #expect(trip.json["poor_household_workers"] as? Int == 1)
            let tripID = try #require(trip.json["id"] as? String)
            #expect(try await client.call(.post, "/transport-trips/\(tripID)/approve", token: try await world.token("v1secretary"), json: [:]).code == "forbidden_role")
            #expect(try await client.call(.post, "/transport-trips/\(tripID)/approve", token: try await world.token("chief"), json: [:]).status == .ok)
            let departed = try await client.call(.post, "/transport-trips/\(tripID)/depart", token: try await world.token("v1secretary"), json: ["boarded": 1])
            #expect(departed.json["state"] as? String == "departed")
            #expect(try await client.call(.post, "/transport-trips/\(tripID)/arrive", token: try await world.token("v1secretary"), json: [:]).status == .ok)
            let seen = try await client.call(.get, "/transport-trips/\(tripID)", token: token)
            #expect(seen.json["state"] as? String == "arrived")

            let report = try await client.call(.get, "/reports/township", token: try await world.token("admin"))
            #expect(report.json["exams"] as? Int == 1)
            #expect(report.json["certificates_out_of_province"] as? Int == 1)
            #expect(report.json["trips"] as? Int == 1)
            #expect(report.json["workers_carried"] as? Int == 1)
            #expect(report.json["poor_household_workers"] as? Int == 1)
        }
    }

    @Test func anotherWorkersRecordsAnswer404Everywhere() async throws {
        try await TestWorld.with { world, client in
            let alice = try await world.addPerson("龙华", in: world.town.grid1)
            let bob = try await world.addPerson("石芳", in: world.town.grid2)
            let aliceToken = try await Self.workerToken(world, client, person: alice, phone: "13800000002")
            let bobToken = try await Self.workerToken(world, client, person: bob, phone: "13800000003", gridWorker: "gw2")
            // Alice holds a certificate and has a second request open.
            let certified = try await world.certify(alice, client: client)
            let open = try await client.call(.post, "/certificate-requests", token: aliceToken, json: ["destination_province": "广东", "destination_city": "东莞"])
            let openID = try #require(open.json["id"] as? String)
            let trip = try await client.call(.post, "/transport-trips", token: try await world.token("v1secretary"), json: world.tripBody([alice]))
            let tripID = try #require(trip.json["id"] as? String)

            let attempts: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, "/certificate-requests/\(openID)", nil),
                (.post, "/certificate-requests/\(openID)/cancel", [:]),
                (.post, "/certificate-requests/\(openID)/verify", [:]),
                (.post, "/certificate-requests/\(openID)/exam", ["result": "fail", "reason": "x"]),
                (.get, "/certificate-requests/\(certified)", nil),
                (.post, "/certificate-requests", ["person_id": alice.uuidString, "destination_province": "广东", "destination_city": "东莞"]),
                (.get, "/transport-trips/\(tripID)", nil),
                (.post, "/transport-trips/\(tripID)/approve", [:]),
                (.post, "/transport-trips/\(tripID)/reject", ["reason": "x"]),
                (.post, "/transport-trips/\(tripID)/depart", ["boarded": 1]),
                (.post, "/transport-trips/\(tripID)/arrive", [:]),
                (.post, "/transport-trips/\(tripID)/cancel", ["reason": "x"]),
            ]
            for (method, uri, body) in attempts {
                let reply = try await client.call(method, uri, token: bobToken, json: body)
                #expect(reply.status == .notFound, "\(method) \(uri): \(reply.status) \(reply.text)")
                #expect(reply.code == "not_found")
            }
            let bobsList = try await client.call(.get, "/certificate-requests", token: bobToken)
            #expect((bobsList.json["requests"] as? [Any])?.isEmpty == true)
            // Nothing changed: Alice's request is still open, and she can cancel it herself.
            let cancelled = try await client.call(.post, "/certificate-requests/\(openID)/cancel", token: aliceToken, json: ["reason": "改变计划"])
            #expect(cancelled.json["state"] as? String == "cancelled", "\(cancelled.text)")
        }
    }

    @Test func aTripNamesEveryWorkerWhoCannotGo() async throws {
        try await TestWorld.with { world, client in
            let expired = try await world.addPerson("过期", in: world.town.grid1)
            _ = try await world.certify(expired, client: client)
            world.clock.advance(days: WorkerPolicy.builtIn.certificateValidityDays + 1)
            let uncertified = try await world.addPerson("无证", in: world.town.grid1)
            let wrongScope = try await world.addPerson("省内", in: world.town.grid1)
            _ = try await world.certify(wrongScope, province: "四川", client: client)
            let booked = try await world.addPerson("已排", in: world.town.grid2)
            _ = try await world.certify(booked, gridWorker: "gw2", client: client)
            let fine = try await world.addPerson("合格", in: world.town.grid1)
            _ = try await world.certify(fine, client: client)
            let first = try await client.call(.post, "/transport-trips", token: try await world.token("v1secretary"), json: world.tripBody([booked]))
            #expect(first.status == .created, "\(first.text)")
            let tripsBefore = try await world.count(kind: TransportTrip.kind)

            let refused = try await client.call(.post, "/transport-trips", token: try await world.token("v1secretary"),
                                                json: world.tripBody([uncertified, expired, wrongScope, booked, fine]))
            #expect(refused.status == .unprocessableContent)
            #expect(refused.code == "invalid_value")
            let named = try #require(refused.json["workers"] as? [[String: Any]])
            var reasons: [String: String] = [:]
            for entry in named { reasons[entry["person_id"] as? String ?? ""] = entry["reason"] as? String }
            #expect(reasons == [
                uncertified.uuidString.lowercased(): "no_certificate", expired.uuidString.lowercased(): "certificate_expired",
                wrongScope.uuidString.lowercased(): "wrong_scope", booked.uuidString.lowercased(): "on_another_trip",
            ])
            let detail = try #require(refused.json["detail"] as? String)
            for name in ["无证", "过期", "省内", "已排"] { #expect(detail.contains(name)) }
            #expect(!detail.contains("合格"))
            #expect(try await world.count(kind: TransportTrip.kind) == tripsBefore)

            // Once the first trip is cancelled, the booked worker is free again.
            let firstID = try #require(first.json["id"] as? String)
            #expect(try await client.call(.post, "/transport-trips/\(firstID)/cancel", token: try await world.token("v1secretary"), json: ["reason": "改期"]).status == .ok)
            #expect(try await client.call(.post, "/transport-trips", token: try await world.token("v1secretary"), json: world.tripBody([booked, fine])).status == .created)
        }
    }

    @Test func aBranchSecretarySeesTheirVillageAndAdministratorsTheTownship() async throws {
        try await TestWorld.with { world, client in
            _ = try await world.certify(try await world.addPerson("一村", in: world.town.grid1), client: client)
            _ = try await world.certify(try await world.addPerson("二村", in: world.town.gridOther), gridWorker: "gw3", client: client)
            let township = try await client.call(.get, "/reports/township", token: try await world.token("admin"))
            #expect(township.json["grids"] as? Int == 3)
            #expect(township.json["certificates_issued"] as? Int == 2)
            let village = try await client.call(.get, "/reports/township", token: try await world.token("v1secretary"))
            #expect(village.json["grids"] as? Int == 2)
            #expect(village.json["certificates_issued"] as? Int == 1)
            #expect(try await client.call(.get, "/reports/township", token: try await world.token("gw1")).code == "forbidden_role")
            let tomorrow = world.clock.now().addingTimeInterval(2 * 86_400).formatted(.iso8601.year().month().day())
            let later = try await client.call(.get, "/reports/township?from=\(tomorrow)", token: try await world.token("admin"))
            #expect(later.json["certificates_issued"] as? Int == 0)
            #expect(try await client.call(.get, "/reports/township?from=2020-13-01", token: try await world.token("admin")).code == "invalid_value")
        }
    }
}
