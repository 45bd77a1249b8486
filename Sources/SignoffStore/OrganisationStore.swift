import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// Units, households and persons.
public struct OrganisationStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    var logger: Logger { self.database.logger }

    // MARK: Units

    public func createUnit(kind: UnitKind, code: String, name: String, parentID: UUID?, on connection: PostgresConnection) async throws -> OrgUnit {
        var parent: OrgUnit?
        if let parentID {
            parent = try await self.unit(id: parentID, on: connection)
        }
        try UnitRules.validate(kind: kind, code: code, name: name, parent: parent)
        let path = parent?.path.appending(code) ?? UnitPath(labels: [code])
        let unit = OrgUnit(id: UUID(), parentID: parentID, kind: kind, code: code, name: name, path: path)
        try await connection.query("""
            INSERT INTO units (id, parent_id, kind, code, name, path)
            VALUES (\(unit.id), \(unit.parentID), \(kind.rawValue), \(code), \(name), \(path.description)::ltree)
            """, logger: self.logger)
        return unit
    }

    public func createUnit(kind: UnitKind, code: String, name: String, parentID: UUID?) async throws -> OrgUnit {
        try await self.database.transaction { try await self.createUnit(kind: kind, code: code, name: name, parentID: parentID, on: $0) }
    }

    public func unit(id: UUID, on connection: PostgresConnection) async throws -> OrgUnit {
        let rows = try await connection.query(
            "SELECT id, parent_id, kind, code, name, path::text FROM units WHERE id = \(id)", logger: self.logger)
        guard let unit = try await Self.units(rows).first else { throw SignoffError.notFound("Unit \(id)") }
        return unit
    }

    public func unit(code: String, on connection: PostgresConnection) async throws -> OrgUnit? {
        let rows = try await connection.query(
            "SELECT id, parent_id, kind, code, name, path::text FROM units WHERE code = \(code)", logger: self.logger)
        return try await Self.units(rows).first
    }

    /// Every unit at or below `path`, in tree order.
    public func units(under path: UnitPath?, kind: UnitKind? = nil) async throws -> [OrgUnit] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT id, parent_id, kind, code, name, path::text FROM units
                 WHERE (\(path?.description)::ltree IS NULL OR path <@ \(path?.description)::ltree)
                   AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
                 ORDER BY path
                """, logger: self.logger)
            return try await Self.units(rows)
        }
    }

    static func units(_ rows: PostgresRowSequence) async throws -> [OrgUnit] {
        var units: [OrgUnit] = []
        for try await (id, parentID, kind, code, name, path) in rows.decode((UUID, UUID?, String, String, String, String).self) {
            units.append(OrgUnit(id: id, parentID: parentID, kind: UnitKind(rawValue: kind) ?? .grid, code: code, name: name, path: try UnitPath(path)))
        }
        return units
    }

    // MARK: Households and persons

    public func createHousehold(gridID: UUID, code: String, headName: String, address: String, poor: Bool, on connection: PostgresConnection) async throws -> Household {
        let grid = try await self.unit(id: gridID, on: connection)
        guard grid.kind == .grid else {
            throw SignoffError.invalidValue("grid", "A household belongs to a grid (网格), not to a \(grid.kind.rawValue).")
        }
        guard !code.isEmpty, headName.trimmedReason != nil else {
            throw SignoffError.invalidValue("household", "A household needs a code and the name of its head.")
        }
        let household = Household(id: UUID(), gridID: gridID, code: code, headName: headName, address: address, poor: poor)
        try await connection.query("""
            INSERT INTO households (id, grid_id, code, head_name, address, poor)
            VALUES (\(household.id), \(gridID), \(code), \(headName), \(address), \(poor))
            """, logger: self.logger)
        return household
    }

    public func createPerson(householdID: UUID, name: String, idNumber: String?, phone: String?, on connection: PostgresConnection) async throws -> Person {
        guard name.trimmedReason != nil else { throw SignoffError.invalidValue("name", "A person needs a name.") }
        if let phone { try UnitRules.validatePhone(phone) }
        let person = Person(id: UUID(), householdID: householdID, name: name, idNumber: idNumber, phone: phone)
        try await connection.query("""
            INSERT INTO persons (id, household_id, name, id_number, phone)
            VALUES (\(person.id), \(householdID), \(name), \(idNumber), \(phone))
            """, logger: self.logger)
        return person
    }

    /// The path of a household's grid. With `locking`, the household row stays locked for the
    /// rest of the transaction, so writes about one household happen one after another.
    public func gridPath(ofHousehold householdID: UUID, locking: Bool = false, on connection: PostgresConnection) async throws -> UnitPath {
        let rows = locking
            ? try await connection.query("""
                SELECT u.path::text FROM households h JOIN units u ON u.id = h.grid_id WHERE h.id = \(householdID) FOR UPDATE OF h
                """, logger: self.logger)
            : try await connection.query("""
                SELECT u.path::text FROM households h JOIN units u ON u.id = h.grid_id WHERE h.id = \(householdID)
                """, logger: self.logger)
        for try await path in rows.decode(String.self) { return try UnitPath(path) }
        throw SignoffError.notFound("Household \(householdID)")
    }
}
