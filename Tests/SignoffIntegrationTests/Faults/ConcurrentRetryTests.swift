import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffHTTP

/// A phone retrying while its first attempt is still in flight: every copy of the request gets
/// the first response, never a domain error, and only one change is made.
@Suite("Concurrent retries with one Idempotency-Key", .timeLimit(.minutes(2)))
struct ConcurrentRetryTests {
    static let copies = 10

    static func key(_ value: String) -> HTTPFields { [HTTPField.Name("Idempotency-Key")!: value] }

    /// Sends `copies` identical requests at once.
    static func burst(_ client: some TestClientProtocol, _ path: String, token: String, json: [String: Any], key: String) async throws -> [Reply] {
        let raw = String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
        return try await withThrowingTaskGroup(of: Reply.self) { group in
            for _ in 0..<Self.copies {
                group.addTask { try await client.call(.post, path, token: token, raw: raw, headers: Self.key(key)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    static func expectOneResponse(_ replies: [Reply], status: HTTPResponse.Status) {
        #expect(replies.count == Self.copies)
        for reply in replies {
            #expect(reply.status == status, "\(reply.text)")
        }
        #expect(Set(replies.map(\.body)).count == 1, "every copy gets the first response, byte for byte")
        #expect(replies.filter { $0.headers[HTTPField.Name("Idempotent-Replayed")!] == "true" }.count == Self.copies - 1)
    }

    @Test func registeringAVehicleTenTimesAtOnceRegistersItOnce() async throws {
        try await TestWorld.with { world, client in
            let owner = try await world.household(in: world.town.grid1, code: "hh-burst")
            let before = try await world.totalAuditRows()
            let replies = try await Self.burst(client, "/vehicles", token: try await world.token("gw1"),
                                               json: ["plate": "川Q77777", "owner_person_id": owner.person.id.uuidString, "parking_place": "院坝"],
                                               key: "register-burst")
            Self.expectOneResponse(replies, status: .created)
            #expect(try await world.totalAuditRows() == before + 1)
        }
    }

    @Test func applyingForAPassTenTimesAtOnceFilesOneApplication() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q66666", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let before = try await world.totalAuditRows()
            let replies = try await Self.burst(client, "/passes", token: try await world.token("gw1"),
                                               json: ["vehicle_id": vehicle.uuidString], key: "apply-burst")
            Self.expectOneResponse(replies, status: .created)
            #expect(try await world.totalAuditRows() == before + 1)
        }
    }

    @Test func signingTenTimesAtOnceSignsOnceAtEachLevel() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q55555", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            for (level, signer) in Chain.village1.prefix(3).enumerated() {
                let before = try await world.snapshot(pass)
                let replies = try await Self.burst(client, "/passes/\(pass)/sign", token: try await world.token(signer),
                                                   json: [:], key: "sign-\(level)")
                Self.expectOneResponse(replies, status: .ok)
                let after = try await world.snapshot(pass)
                #expect(after.version == before.version + 1)
                #expect(after.auditRows == before.auditRows + 1)
            }
        }
    }
}
