import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SignoffCore
import SignoffStore

/// Signed credentials issued through the transition path, the revocation list, and the
/// checkpoint log over HTTP.
@Suite("Checkpoints 卡点: credentials, revocations, the log", .timeLimit(.minutes(3)))
struct CheckpointTests {
    /// A pass of `grid1` taken through the five levels; returns its id.
    static func effectivePass(_ world: TestWorld, _ client: any TestClientProtocol, plate: String) async throws -> UUID {
        let (vehicle, _) = try await client.registerVehicle(world, plate: plate, grid: world.town.grid1, by: "gw1")
        world.clock.advance(days: 14)
        let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
        for (index, signer) in Chain.village1.enumerated() {
            let signed = try await client.sign(world, pass: pass, by: signer, json: ["level": index + 1])
            #expect(signed.status == .ok, "\(signer): \(signed.text)")
        }
        return pass
    }

    static func revocations(_ client: any TestClientProtocol) async throws -> [[String: Any]] {
        let list = try await client.call(.get, "/credentials/revocations")
        #expect(list.status == .ok)
        #expect(list.json["generated_at"] as? String != nil)
        return list.json["revoked"] as? [[String: Any]] ?? []
    }

    @Test func aPassTakingEffectYieldsAVerifiableCredentialAndARevokedOneIsListed() async throws {
        try await TestWorld.with { world, client in
            let pass = try await Self.effectivePass(world, client, plate: "川Q 20001")
            let issued = try #require(try await world.services.credentials.credential(ofInstance: pass))
            let shown = try await client.call(.get, "/passes/\(pass)", token: try await world.token("admin"))
            #expect(issued.kind == .vehiclePass && issued.number == shown.json["pass_number"] as? String)
            #expect(issued.subject == "川Q20001" || issued.subject == shown.json["plate"] as? String)

            // A checkpoint with only the published key list verifies it offline.
            let published = try await client.call(.get, "/.well-known/signoff-keys")
            let keys = try (published.json["keys"] as? [[String: Any]] ?? []).map { entry in
                CredentialKey(keyID: entry["kid"] as? String ?? "", publicKey: entry["public_key"] as? String ?? "",
                              notBefore: try Date(entry["not_before"] as? String ?? "", strategy: .iso8601))
            }
            let verifier = CredentialVerifier(keys: keys)
            let now = world.clock.now()
            guard case .valid(let credential) = verifier.verify(issued.signed, at: now) else {
                Issue.record("not valid: \(verifier.verify(issued.signed, at: now))")
                return
            }
            #expect(credential.scope == PassApplication.credentialScope)
            #expect(verifier.verify(issued.signed, at: credential.validUntil.addingTimeInterval(1)) == .expired(credential))
            #expect(try await Self.revocations(client).isEmpty)

            // Revoked: the list names it, and the checkpoint's check says so.
            let noReason = try await client.call(.post, "/passes/\(pass)/revoke", token: try await world.token("chief"), json: [:])
            #expect(noReason.code == "reason_required")
            let byGridWorker = try await client.call(.post, "/passes/\(pass)/revoke", token: try await world.token("gw1"), json: ["reason": "x"])
            #expect(byGridWorker.code == "forbidden_role")
            let revoked = try await client.call(.post, "/passes/\(pass)/revoke", token: try await world.token("chief"),
                                                json: ["reason": "违规载客"])
            #expect(revoked.status == .ok, "\(revoked.text)")
            #expect(revoked.json["status"] as? String == "revoked")
            let list = try await Self.revocations(client)
            #expect(list.count == 1)
            #expect(list.first?["kind"] as? String == "vehicle_pass")
            #expect(list.first?["number"] as? String == issued.number)
            let refreshed = CredentialVerifier(keys: keys, revoked: Set(list.compactMap { $0["number"] as? String }))
            #expect(refreshed.verify(issued.signed, at: now) == .revoked(credential))
            #expect(try await world.services.checkpoints.verify(issued.signed, at: now) == .revoked(credential))
            // The revocation is part of the record's audited history.
            let history = try await client.call(.get, "/audit?subject=\(pass)", token: try await world.token("admin"))
            #expect((history.json["events"] as? [[String: Any]] ?? []).last?["event"] as? String == "revoke")
        }
    }

    @Test func aCertificateAndAnAgriculturalPassGetCredentialsWithMaskedHoldersAndRevocations() async throws {
        try await TestWorld.with { world, client in
            let person = try await world.addPerson("杨小明", in: world.town.grid1)
            let request = try #require(UUID(uuidString: try await world.certify(person, client: client)))
            let certificate = try #require(try await world.services.credentials.credential(ofInstance: request))
            #expect(certificate.kind == .healthCertificate)
            #expect(certificate.subject == "杨*明")
            #expect(certificate.scope == "四川省外 广东 某市")
            #expect(world.services.signingKeys.verifier().verify(certificate.signed, at: world.clock.now()).isValid)
            // The short code finds it again.
            let found = try await world.services.credentials.credential(checkCode: certificate.checkCode.lowercased().replacingOccurrences(of: "-", with: ""))
            #expect(found?.signed == certificate.signed)

            let revoked = try await client.call(.post, "/certificate-requests/\(request)/revoke", token: try await world.token("health"),
                                                json: ["reason": "复查体温异常"])
            #expect(revoked.status == .ok, "\(revoked.text)")
            #expect(revoked.json["state"] as? String == "revoked")

            let (household, _) = try await world.household(in: world.town.grid1, code: "farm-cp")
            let filed = try await client.call(.post, "/agricultural-passes", token: try await world.token("gw1"), json: [
                "household_id": household.id.uuidString, "vehicle": "三轮农用车", "purpose": "春耕运输化肥", "route": "联合村—乡农资站",
            ])
            let farm = try #require(UUID(uuidString: filed.json["id"] as? String ?? ""))
            let issued = try await client.call(.post, "/agricultural-passes/\(farm)/issue", token: try await world.token("v1secretary"), json: [:])
            #expect(issued.status == .ok, "\(issued.text)")
            let farmCredential = try #require(try await world.services.credentials.credential(ofInstance: farm))
            #expect(farmCredential.kind == .agriculturalPass && farmCredential.scope == "联合村—乡农资站")
            #expect(farmCredential.subject.hasPrefix("三轮农用车 户主"))
            _ = try await client.call(.post, "/agricultural-passes/\(farm)/revoke", token: try await world.token("v1secretary"),
                                      json: ["reason": "用于非农运输"])
            let numbers = Set(try await Self.revocations(client).compactMap { $0["number"] as? String })
            #expect(numbers == [certificate.number, farmCredential.number])
        }
    }

    @Test func theLogRecordsAChecksReplaysItsKeyAndRefusesBadInput() async throws {
        try await TestWorld.with { world, client in
            let person = try await world.addPerson("龙华", in: world.town.grid1)
            let request = try #require(UUID(uuidString: try await world.certify(person, client: client)))
            let certificate = try #require(try await world.services.credentials.credential(ofInstance: request))
            let token = try await world.token("v1stationed")
            let key: HTTPFields = [.init("Idempotency-Key")!: "check-1"]
            let body: [String: Any] = [
                "checkpoint": "daxueshan", "direction": "out", "subject": "龙*", "decision": "release", "credential": certificate.signed,
            ]
            let first = try await client.call(.post, "/checkpoint/checks", token: token, json: body, headers: key)
            #expect(first.status == .created, "\(first.text)")
            #expect(first.json["decision"] as? String == "release")
            #expect((first.json["credential"] as? [String: Any])?["verdict"] as? String == "valid")
            let again = try await client.call(.post, "/checkpoint/checks", token: token, json: body, headers: key)
            #expect(again.status == .created)
            #expect(again.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(again.body == first.body)
            var changed = body
            changed["subject"] = "另一人"
            let reused = try await client.call(.post, "/checkpoint/checks", token: token, json: changed, headers: key)
            #expect(reused.code == "idempotency_key_reused")
            #expect(try await world.count(kind: CheckpointCheck.kind) == 1)

            // Bad input: problem+json with a stable code, and nothing written.
            func refused(_ json: [String: Any], _ code: String) async throws {
                let reply = try await client.call(.post, "/checkpoint/checks", token: token, json: json)
                #expect(reply.code == code, "\(json): \(reply.text)")
                #expect(reply.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            }
            try await refused(["checkpoint": "daxueshan", "direction": "in", "subject": "川Q1", "decision": "turn_back"], "reason_required")
            try await refused(["checkpoint": "daxueshan", "direction": "in", "subject": "川Q1", "decision": "turn_back", "reason": "bored"], "invalid_value")
            try await refused(["checkpoint": "nowhere", "direction": "in", "subject": "川Q1", "decision": "turn_back", "reason": "fever"], "invalid_value")
            try await refused(["checkpoint": "daxueshan", "direction": "sideways", "subject": "川Q1", "decision": "turn_back", "reason": "fever"], "invalid_value")
            try await refused(["checkpoint": "daxueshan", "direction": "in", "subject": "川Q1", "decision": "release"], "missing_field")
            var forged = Array(certificate.signed)
            forged[forged.count - 3] = forged[forged.count - 3] == "A" ? "B" : "A"
            try await refused(["checkpoint": "daxueshan", "direction": "in", "subject": "川Q1", "decision": "release", "credential": String(forged)],
                              "invalid_value")
            try await refused(["checkpoint": "daxueshan", "direction": "in", "subject": "川Q1", "decision": "turn_back", "reason": "fever", "extra": 1],
                              "unknown_field")
            #expect(try await world.count(kind: CheckpointCheck.kind) == 1)

            // A turn-back queued offline an hour ago keeps its time, and the roster of that shift.
            world.clock.advance(by: 4 * 3_600)
            let leader = try #require(world.town.users["chief"])
            try await world.database.transaction { connection in
                _ = try await world.services.checkpoints.assign(
                    .init(checkpoint: "gaoping", day: CheckpointPolicy.day(world.clock.now()), shift: "day", userID: leader),
                    by: .bootstrap(world.town.township), on: connection)
            }
            let earlier = world.clock.now().addingTimeInterval(-3_600)
            let late = try await client.call(.post, "/checkpoint/checks", token: try await world.token("v1stationed"), json: [
                "checkpoint": "gaoping", "direction": "in", "subject": "云C12345", "decision": "turn_back", "reason": "outsider_no_reason",
                "checked_at": earlier.formatted(.iso8601),
            ])
            #expect(late.status == .created, "\(late.text)")
            #expect(late.json["checked_at"] as? String == earlier.formatted(.iso8601))
            #expect(late.json["on_duty"] as? [String] == ["主要领导 chief"])
            let report = try await world.services.checkpoints.report()
            #expect(report.map(\.turnedBack).reduce(0, +) == 1 && report.map(\.released).reduce(0, +) == 1)
            let listed = try await client.call(.get, "/checkpoint/checks", token: try await world.token("admin"))
            #expect((listed.json["checks"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func theRosterTakesOnlyLeadersAndTheOffice() async throws {
        try await TestWorld.with { world, client in
            let store = world.services.checkpoints
            let day = CheckpointPolicy.day(world.clock.now())
            let office = Principal.bootstrap(world.town.township)
            func assign(_ user: String, by actor: Principal = office, shift: String = "day") async throws -> SignoffError.Code? {
                do {
                    _ = try await world.database.transaction { connection in
                        try await store.assign(.init(checkpoint: "daxueshan", day: day, shift: shift, userID: world.town.users[user]!),
                                               by: actor, on: connection)
                    }
                    return nil
                } catch let error as SignoffError {
                    return error.code
                }
            }
            #expect(try await assign("chief") == nil)
            #expect(try await assign("chief") == .duplicate)
            #expect(try await assign("gw1") == .invalidValue)
            #expect(try await assign("v1stationed", shift: "lunch") == .invalidValue)
            let chief = Principal(userID: world.town.users["chief"]!, displayName: "chief",
                                  assignments: [RoleAssignment(role: .chiefLeader, unitID: world.town.township.id, unitPath: world.town.township.path)])
            #expect(try await assign("v1stationed", by: chief) == .forbiddenRole)
            let roster = try await store.roster(from: day, days: 1)
            #expect(roster.map(\.userID) == [world.town.users["chief"]!])
            _ = client
        }
    }
}
