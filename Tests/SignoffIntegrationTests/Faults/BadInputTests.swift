import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffHTTP

/// Input a client should never be able to turn into a 500, a silent acceptance or a leak.
@Suite("Bad input gets a clear 4xx with a stable code", .timeLimit(.minutes(2)))
struct BadInputTests {
    @Test func aNULCharacterInAnyStringIs422InvalidValueNamingTheField() async throws {
        try await TestWorld.with { world, client in
            let login = try await client.call(.post, "/auth/login", json: ["login": "ad\u{0}min", "password": "x"])
            #expect(login.status == .unprocessableContent, "\(login.text)")
            #expect(login.code == "invalid_value")
            #expect(login.json["field"] as? String == "login")

            let gw2 = world.town.users["gw2"]!
            let reason = try await client.call(.post, "/users/\(gw2)/suspend", token: world.town.tokens["admin"], json: ["reason": "left\u{0}"])
            #expect(reason.status == .unprocessableContent, "\(reason.text)")
            #expect(reason.json["field"] as? String == "reason")

            let activation = try await client.call(.post, "/auth/activate", raw: #"{"login":"w","activation_code":"12\u000034","password":"long enough pw"}"#)
            #expect(activation.status == .unprocessableContent, "\(activation.text)")
            #expect(activation.json["field"] as? String == "activation_code")

            // Inside a list of a nested object, too.
            let nested = try await client.call(.post, "/users", token: world.town.tokens["admin"], json: [
                "username": "nul", "display_name": "x", "password": "long enough pw",
                "roles": [["role": "grid_worker\u{0}", "unit_id": world.town.grid1.id.uuidString]],
            ])
            #expect(nested.status == .unprocessableContent, "\(nested.text)")
            #expect(nested.json["field"] as? String == "roles[0].role")
        }
    }

    @Test func unknownFieldsAreRefusedInNestedObjectsToo() async throws {
        try await TestWorld.with { world, client in
            let reply = try await client.call(.post, "/users", token: world.town.tokens["admin"], json: [
                "username": "extra", "display_name": "x", "password": "long enough pw",
                "roles": [["role": "grid_worker", "unit_id": world.town.grid1.id.uuidString, "extra": 1]],
            ])
            #expect(reply.status == .badRequest, "\(reply.text)")
            #expect(reply.code == "unknown_field")
            #expect(reply.json["field"] as? String == "roles[0].extra")
            // Nothing was created.
            let users = try await client.call(.get, "/users", token: world.town.tokens["admin"])
            #expect(!users.text.contains("\"extra\""))
        }
    }

    @Test func anObjectWhereTheRequestHasNoObjectIsInvalidType() async throws {
        try await TestWorld.with { world, client in
            let reply = try await client.call(.post, "/auth/login", json: ["login": ["nested": "x"], "password": "x"])
            #expect(reply.status == .badRequest)
            #expect(reply.code == "invalid_type")
            #expect(reply.json["field"] as? String == "login")
        }
    }

    @Test func aMalformedIdInThePathIs400InvalidIDNotInvalidJSON() async throws {
        try await TestWorld.with { world, client in
            let token = world.town.tokens["admin"]
            let cases: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, "/passes/123", nil), (.post, "/passes/not-a-uuid/sign", [:]),
                (.post, "/vehicles/xyz/violations", ["note": "n"]), (.post, "/users/1/suspend", ["reason": "r"]),
            ]
            for (method, path, body) in cases {
                let reply = try await client.call(method, path, token: token, json: body)
                #expect(reply.status == .badRequest, "\(path): \(reply.text)")
                #expect(reply.code == "invalid_id", "\(path)")
                #expect(reply.json["field"] as? String == "id", "\(path)")
            }
        }
    }

    @Test func theAuditSubjectIsMissingOrMalformedEachWithItsOwnCode() async throws {
        try await TestWorld.with { world, client in
            let token = world.town.tokens["admin"]
            let malformed = try await client.call(.get, "/audit?subject=not-a-uuid", token: token)
            #expect(malformed.status == .badRequest)
            #expect(malformed.code == "invalid_id")
            #expect(malformed.json["field"] as? String == "subject")
            let missing = try await client.call(.get, "/audit", token: token)
            #expect(missing.code == "missing_field")
        }
    }

    @Test func aDuplicateNamesNoInternalConstraint() async throws {
        try await TestWorld.with { world, client in
            let reply = try await client.call(.post, "/users", token: world.town.tokens["admin"], json: [
                "username": "gw1", "display_name": "again", "password": "long enough pw",
                "roles": [["role": "grid_worker", "unit_id": world.town.grid1.id.uuidString]],
            ])
            #expect(reply.status == .conflict, "\(reply.text)")
            #expect(reply.code == "duplicate")
            #expect(reply.json["constraint"] == nil)
            for internalName in ["_pkey", "_key", "instances_exclusive", "idempotency_keys", "constraint"] {
                #expect(!reply.text.contains(internalName), "\(reply.text)")
            }
        }
    }

    @Test func anOverlongBodyIs413() async throws {
        try await TestWorld.with { world, client in
            let reply = try await client.call(.post, "/auth/login", raw: "{\"login\":\"" + String(repeating: "x", count: 64 * 1024) + "\",\"password\":\"x\"}")
            #expect(reply.status == .contentTooLarge)
            #expect(reply.code == "payload_too_large")
        }
    }
}
