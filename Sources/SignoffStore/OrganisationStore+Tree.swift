import Foundation
import PostgresNIO
import SignoffCore

/// A unit of the tree with what hangs on it: the users holding a role there, and households.
public struct UnitTreeEntry: Sendable, Equatable {
    public var unit: OrgUnit
    /// Distinct users with a role at this unit itself.
    public var users: Int
    /// Distinct users with a role at this unit or below.
    public var usersBelow: Int
    /// Households of this unit's grids.
    public var households: Int
}

// MARK: - The unit tree

extension OrganisationStore {
    /// Every unit at or below `path`, in tree order, with its users and households counted.
    public func tree(under path: UnitPath) async throws -> [UnitTreeEntry] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT u.id, u.parent_id, u.kind, u.code, u.name, u.path::text,
                       (SELECT count(DISTINCT r.user_id)::int FROM role_assignments r WHERE r.unit_id = u.id),
                       (SELECT count(DISTINCT r.user_id)::int FROM role_assignments r JOIN units x ON x.id = r.unit_id
                         WHERE x.path <@ u.path),
                       (SELECT count(*)::int FROM households h JOIN units g ON g.id = h.grid_id WHERE g.path <@ u.path)
                  FROM units u
                 WHERE u.path <@ \(path.description)::ltree
                 ORDER BY u.path
                """, logger: self.logger)
            var entries: [UnitTreeEntry] = []
            for try await (id, parentID, kind, code, name, unitPath, users, below, households)
                in rows.decode((UUID, UUID?, String, String, String, String, Int, Int, Int).self)
            {
                let unit = OrgUnit(id: id, parentID: parentID, kind: UnitKind(rawValue: kind) ?? .grid, code: code, name: name,
                                   path: try UnitPath(unitPath))
                entries.append(UnitTreeEntry(unit: unit, users: users, usersBelow: below, households: households))
            }
            return entries
        }
    }

    /// Persons at or below `path` whose name, id number or household code contains `text`,
    /// with whether they have an account already (a worker's account is made once).
    public func findPersons(under path: UnitPath, matching text: String, limit: Int = 30) async throws -> [PersonMatch] {
        let pattern = "%" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT p.id, p.name, p.phone, h.code, h.head_name, g.name, g.path::text, (a.id IS NOT NULL)
                  FROM persons p
                  JOIN households h ON h.id = p.household_id
                  JOIN units g ON g.id = h.grid_id
                  LEFT JOIN users a ON a.person_id = p.id
                 WHERE g.path <@ \(path.description)::ltree
                   AND (p.name LIKE \(pattern) OR h.code LIKE \(pattern) OR p.id_number LIKE \(pattern))
                 ORDER BY p.name, p.id
                 LIMIT \(limit)
                """, logger: self.logger)
            var found: [PersonMatch] = []
            for try await (id, name, phone, householdCode, head, grid, gridPath, hasAccount)
                in rows.decode((UUID, String, String?, String, String, String, String, Bool).self)
            {
                found.append(PersonMatch(id: id, name: name, phone: phone, householdCode: householdCode, headName: head,
                                         gridName: grid, gridPath: gridPath, hasAccount: hasAccount))
            }
            return found
        }
    }
}

/// A person found for a new worker account.
public struct PersonMatch: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var phone: String?
    public var householdCode: String
    public var headName: String
    public var gridName: String
    public var gridPath: String
    public var hasAccount: Bool
}
