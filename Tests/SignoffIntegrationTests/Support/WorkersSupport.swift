import Foundation
import HummingbirdTesting
import SignoffCore
import SignoffStore

/// People of the test township and the steps that certify them, over HTTP.
extension TestWorld {
    /// A household (poor or not) with one person in `grid`; returns the person's id.
    func addPerson(_ name: String, in grid: OrgUnit, poor: Bool = false) async throws -> UUID {
        let organisation = self.services.organisation
        return try await self.database.transaction { connection in
            let household = try await organisation.createHousehold(
                gridID: grid.id, code: "h-\(UUID().uuidString.prefix(8))", headName: name, address: "", poor: poor, on: connection)
            return try await organisation.createPerson(householdID: household.id, name: name, idNumber: nil, phone: nil, on: connection).id
        }
    }

    /// Files (by `gridWorker`), verifies and passes a request; returns the request id.
    func certify(_ person: UUID, province: String = "广东", gridWorker: String = "gw1", client: any TestClientProtocol) async throws -> String {
        let filed = try await client.call(.post, "/certificate-requests", token: try await self.token(gridWorker), json: [
            "person_id": person.uuidString, "destination_province": province, "destination_city": "某市",
        ])
        guard filed.status == .created, let id = filed.json["id"] as? String else { throw TestFailure("file: \(filed.text)") }
        let verified = try await client.call(.post, "/certificate-requests/\(id)/verify", token: try await self.token(gridWorker), json: [:])
        guard verified.status == .ok else { throw TestFailure("verify: \(verified.text)") }
        let passed = try await client.call(.post, "/certificate-requests/\(id)/exam", token: try await self.token("health"), json: ["result": "pass"])
        guard passed.status == .ok else { throw TestFailure("exam: \(passed.text)") }
        return id
    }

    /// The body of a trip filing from 联合村 for `workers`.
    func tripBody(_ workers: [UUID], province: String = "广东") -> [String: Any] {
        [
            "destination_province": province, "destination_city": "东莞", "employer": "东莞电子厂",
            "departure_date": self.clock.now().addingTimeInterval(86_400).formatted(.iso8601),
            "vehicle_plate": "川Q12345", "driver_name": "司机甲", "worker_ids": workers.map(\.uuidString),
        ]
    }

    func count(kind: String) async throws -> Int {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("SELECT count(*)::int FROM instances WHERE kind = \(kind)", logger: self.database.logger)
            var count = 0
            for try await value in rows.decode(Int.self) { count = value }
            return count
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
