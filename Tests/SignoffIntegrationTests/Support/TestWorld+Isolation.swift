import Foundation
import PostgresNIO
import SignoffCore
import SignoffStore
import Testing

/// Households, persons and vehicle facts for the isolation tests.
extension TestWorld {
    /// A household of `grid` with one member, written directly (there is no household API yet).
    func household(in grid: OrgUnit, code: String, member: String = "张三") async throws -> (household: Household, person: Person) {
        let organisation = self.services.organisation
        return try await self.database.transaction { connection in
            let household = try await organisation.createHousehold(
                gridID: grid.id, code: code, headName: member, address: "", poor: false, on: connection)
            let person = try await organisation.createPerson(
                householdID: household.id, name: member, idNumber: nil, phone: nil, on: connection)
            return (household, person)
        }
    }

    /// The signed-in actor of a seeded account.
    func actor(_ username: String) async throws -> Principal {
        try #require(try await self.services.accounts.authenticate(token: self.town.tokens[username]!))
    }

    func vehiclePolicy() throws -> VehiclePolicy {
        try PolicyCatalog.load(from: PolicyCatalog.defaultFolder()).vehiclePolicy()
    }

    /// A pledge for the household's vehicle, registered by `gridWorker` through the transition path.
    func pledge(for household: Household, owner: Person, grid: OrgUnit, by gridWorker: String) async throws -> UUID {
        let outcome = try await self.services.transitions.start(
            ParkingPledge.self,
            .init(vehicleID: UUID(), plate: "川Q12345", ownerPersonID: owner.id, householdID: household.id,
                  parkingPlace: "村委会院坝", gridPath: grid.path, policy: try self.vehiclePolicy()),
            by: try await self.actor(gridWorker))
        guard case .applied(let transitioned, _) = outcome else { throw SignoffError(.internalError, "not applied") }
        return transitioned.stored.id
    }

    /// Rows of the outbox by name, with whether each was delivered.
    func outboxDeliveries(_ name: String) async throws -> [(key: String, delivered: Bool)] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query(
                "SELECT key, delivered_at IS NOT NULL FROM outbox WHERE name = \(name) ORDER BY id", logger: self.database.logger)
            var found: [(key: String, delivered: Bool)] = []
            for try await (key, delivered) in rows.decode((String, Bool).self) { found.append((key, delivered)) }
            return found
        }
    }

    /// Makes every outbox row deliverable again, as a consumer that crashed before its commit would see it.
    func redeliverOutbox() async throws {
        try await self.database.withConnection { connection in
            try await connection.query("UPDATE outbox SET delivered_at = NULL", logger: self.database.logger)
        }
    }

    func auditIsIntact() async throws -> Bool {
        try await self.database.withConnection { connection in
            try await AuditLog.verify(on: connection, logger: self.database.logger).isIntact
        }
    }
}

