import Foundation
import HummingbirdTesting
import SignoffCore
import SignoffStore
import Testing

/// The five signers of each village's chain, in order.
enum Chain {
    static let village1 = ["gw1", "v1g1leader", "v1secretary", "v1stationed", "chief"]
    static let village2 = ["gw3", "v2g1leader", "v2secretary", "v2stationed", "chief"]
}

/// What a record looks like in the database, to prove a refused request changed nothing.
struct RecordSnapshot: Equatable {
    var version: Int
    var stateName: String
    var auditRows: Int
    var outboxRows: Int
}

extension TestWorld {
    func snapshot(_ id: UUID) async throws -> RecordSnapshot {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT i.version, i.state_name,
                       (SELECT count(*)::integer FROM audit_events a WHERE a.subject_id = i.id),
                       (SELECT count(*)::integer FROM outbox o WHERE o.subject_id = i.id)
                  FROM instances i WHERE i.id = \(id)
                """, logger: self.database.logger)
            for try await (version, state, audit, outbox) in rows.decode((Int, String, Int, Int).self) {
                return RecordSnapshot(version: version, stateName: state, auditRows: audit, outboxRows: outbox)
            }
            throw SignoffError.notFound("instance \(id)")
        }
    }

    func totalAuditRows() async throws -> Int {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("SELECT count(*)::integer FROM audit_events", logger: self.database.logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    /// The payloads of the outbox events of one name, oldest first.
    func outbox(named name: String) async throws -> [[String: Any]] {
        let texts = try await self.database.withConnection { connection in
            let rows = try await connection.query("SELECT payload::text FROM outbox WHERE name = \(name) ORDER BY id",
                                                  logger: self.database.logger)
            var texts: [String] = []
            for try await text in rows.decode(String.self) { texts.append(text) }
            return texts
        }
        return texts.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) ?? [:] }
    }

    /// A fresh bearer token: tests move the clock past the seeded tokens' lifetime.
    func token(_ username: String) async throws -> String {
        let id = try #require(self.town.users[username], "no account \(username)")
        return try await self.services.accounts.issueToken(userID: id).token
    }
}

extension TestClientProtocol {
    /// Registers a vehicle of a new household in `grid` through HTTP; returns (vehicle id, pledge id).
    func registerVehicle(_ world: TestWorld, plate: String, grid: OrgUnit, by username: String) async throws -> (vehicle: UUID, pledge: UUID) {
        let owner = try await world.household(in: grid, code: "hh-\(plate.unicodeScalars.map { String($0.value, radix: 16) }.joined())")
        let reply = try await self.call(.post, "/vehicles", token: try await world.token(username),
                                        json: ["plate": plate, "owner_person_id": owner.person.id.uuidString, "parking_place": "村委会院坝"])
        #expect(reply.status == .created, "\(reply.text)")
        let vehicle = try #require(UUID(uuidString: reply.json["vehicle_id"] as? String ?? ""))
        let pledge = try #require(UUID(uuidString: (reply.json["pledge"] as? [String: Any])?["id"] as? String ?? ""))
        return (vehicle, pledge)
    }

    /// Files a pass application; the clock must already be past clearance.
    func applyForPass(_ world: TestWorld, vehicle: UUID, by username: String) async throws -> UUID {
        let reply = try await self.call(.post, "/passes", token: try await world.token(username), json: ["vehicle_id": vehicle.uuidString])
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(UUID(uuidString: reply.json["id"] as? String ?? ""))
    }

    @discardableResult
    func sign(_ world: TestWorld, pass: UUID, by username: String, json: [String: Any] = [:]) async throws -> Reply {
        try await self.call(.post, "/passes/\(pass)/sign", token: try await world.token(username), json: json)
    }
}
