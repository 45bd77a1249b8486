import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// A travel pass as a list shows it: the application, where it stands, and its version.
public struct PassListing: Sendable {
    public var id: UUID
    public var version: Int
    public var application: PassApplication
    public var unitPath: UnitPath
    public var updatedAt: Date
    /// For "handled by me": the last event the reader made on it, and when.
    public var myLastEvent: String?
    public var myLastAt: Date?
}

/// A vehicle of a grid with its current pledge, key custody and latest pass, for the grid
/// worker's home screen.
public struct VehicleOverview: Sendable {
    public var vehicle: VehicleRecord
    public var ownerName: String
    public var householdCode: String
    public var pledge: Stored<ParkingPledge>?
    public var key: Stored<KeyCustody>?
    public var pass: Stored<PassApplication>?
}

/// A household of a grid with its members, for pickers.
public struct HouseholdListing: Sendable {
    public struct Member: Sendable {
        public var id: UUID
        public var name: String
    }

    public var id: UUID
    public var code: String
    public var headName: String
    public var poor: Bool
    public var gridPath: UnitPath
    public var members: [Member]
}

/// Read-only lists behind the web app: passes a reader handled or may see, a grid's vehicles
/// and households. Every query is bounded by the reader's units.
public struct PassDirectory: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    var logger: Logger { self.database.logger }

    /// Passes the user signed, rejected, filed, resubmitted or withdrew, the latest first.
    public func handled(by userID: UUID, plate: String?, limit: Int) async throws -> [PassListing] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT i.id, i.version, i.state::text, i.unit_path::text, i.updated_at, a.event, a.at
                  FROM (SELECT DISTINCT ON (subject_id) subject_id, event, at
                          FROM audit_events
                         WHERE actor_user_id = \(userID) AND subject_kind = \(PassApplication.kind)
                         ORDER BY subject_id, at DESC) a
                  JOIN instances i ON i.id = a.subject_id JOIN vehicles v ON v.id = i.subject_ref
                 WHERE (\(plate)::text IS NULL OR strpos(v.plate, \(plate ?? "")) > 0)
                 ORDER BY a.at DESC, i.id
                 LIMIT \(limit)
                """, logger: self.logger)
            return try await Self.listings(rows, withMine: true)
        }
    }

    /// Every pass inside the given units, most recently changed first; `plate` narrows by plate text.
    public func passes(under paths: [UnitPath], plate: String?, limit: Int) async throws -> [PassListing] {
        guard !paths.isEmpty else { return [] }
        let texts = paths.map(\.description)
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT i.id, i.version, i.state::text, i.unit_path::text, i.updated_at, NULL::text, NULL::timestamptz
                  FROM instances i JOIN vehicles v ON v.id = i.subject_ref
                 WHERE i.kind = \(PassApplication.kind) AND i.unit_path <@ \(texts)::ltree[]
                   AND (\(plate)::text IS NULL OR strpos(v.plate, \(plate ?? "")) > 0)
                 ORDER BY i.updated_at DESC, i.id
                 LIMIT \(limit)
                """, logger: self.logger)
            return try await Self.listings(rows, withMine: false)
        }
    }

    /// The vehicles registered in the given units, with their latest pledge, key and pass.
    public func vehicles(under paths: [UnitPath], only vehicleID: UUID? = nil, limit: Int = 200) async throws -> [VehicleOverview] {
        guard !paths.isEmpty else { return [] }
        let texts = paths.map(\.description)
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT v.id, v.plate, v.plate_kind, v.owner_person_id, v.household_id, v.grid_id, v.grid_path::text,
                       v.parking_place, v.registered_at, p.name, h.code
                  FROM vehicles v JOIN persons p ON p.id = v.owner_person_id JOIN households h ON h.id = v.household_id
                 WHERE v.grid_path <@ \(texts)::ltree[] AND (\(vehicleID)::uuid IS NULL OR v.id = \(vehicleID))
                 ORDER BY v.registered_at DESC, v.id
                 LIMIT \(limit)
                """, logger: self.logger)
            var overviews: [UUID: VehicleOverview] = [:]
            var order: [UUID] = []
            for try await (id, plate, kind, owner, household, grid, path, place, at, name, code) in rows.decode(
                (UUID, String, String, UUID, UUID, UUID, String, String, Date, String, String).self)
            {
                let record = VehicleRecord(id: id, plate: plate, plateKind: kind, ownerPersonID: owner, householdID: household,
                                           gridID: grid, gridPath: try UnitPath(path), parkingPlace: place, registeredAt: at)
                overviews[id] = VehicleOverview(vehicle: record, ownerName: name, householdCode: code)
                order.append(id)
            }
            guard !order.isEmpty else { return [] }
            // The latest record of each kind per vehicle.
            let records = try await connection.query("""
                SELECT DISTINCT ON (subject_ref, kind) subject_ref, kind, id, version, state::text, created_at, updated_at
                  FROM instances
                 WHERE subject_ref = ANY(\(order)::uuid[])
                   AND kind IN (\(ParkingPledge.kind), \(KeyCustody.kind), \(PassApplication.kind))
                 ORDER BY subject_ref, kind, created_at DESC, id
                """, logger: self.logger)
            let decoder = StoredForm.decoder()
            for try await (vehicle, kind, id, version, state, created, updated) in records.decode(
                (UUID, String, UUID, Int, String, Date, Date).self)
            {
                let data = Data(state.utf8)
                switch kind {
                case ParkingPledge.kind:
                    overviews[vehicle]?.pledge = Stored(id: id, machine: try decoder.decode(ParkingPledge.self, from: data),
                                                        version: version, createdAt: created, updatedAt: updated)
                case KeyCustody.kind:
                    overviews[vehicle]?.key = Stored(id: id, machine: try decoder.decode(KeyCustody.self, from: data),
                                                     version: version, createdAt: created, updatedAt: updated)
                default:
                    overviews[vehicle]?.pass = Stored(id: id, machine: try decoder.decode(PassApplication.self, from: data),
                                                      version: version, createdAt: created, updatedAt: updated)
                }
            }
            return order.compactMap { overviews[$0] }
        }
    }

    /// The vehicle's overview if it lies inside the given units, or `not_found`.
    public func vehicle(id: UUID, under paths: [UnitPath]) async throws -> VehicleOverview {
        guard let overview = try await self.vehicles(under: paths, only: id, limit: 1).first else {
            throw SignoffError.notFound("Vehicle \(id)")
        }
        return overview
    }

    /// The households of the given units with their members, in code order.
    public func households(under paths: [UnitPath], limit: Int = 500) async throws -> [HouseholdListing] {
        guard !paths.isEmpty else { return [] }
        let texts = paths.map(\.description)
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT h.id, h.code, h.head_name, h.poor, u.path::text, p.id, p.name
                  FROM households h JOIN units u ON u.id = h.grid_id LEFT JOIN persons p ON p.household_id = h.id
                 WHERE h.id IN (SELECT h2.id FROM households h2 JOIN units u2 ON u2.id = h2.grid_id
                                 WHERE u2.path <@ \(texts)::ltree[] ORDER BY h2.code LIMIT \(limit))
                 ORDER BY h.code, p.created_at, p.id
                """, logger: self.logger)
            var listings: [HouseholdListing] = []
            for try await (id, code, head, poor, path, person, name) in rows.decode(
                (UUID, String, String, Bool, String, UUID?, String?).self)
            {
                if listings.last?.id != id {
                    listings.append(HouseholdListing(id: id, code: code, headName: head, poor: poor,
                                                     gridPath: try UnitPath(path), members: []))
                }
                if let person, let name {
                    listings[listings.count - 1].members.append(.init(id: person, name: name))
                }
            }
            return listings
        }
    }

    /// Returnees registered inside the given units with their names, the latest first.
    public func returnees(under paths: [UnitPath], limit: Int = 200) async throws -> [(stored: Stored<ReturneeIsolation>, name: String)] {
        guard !paths.isEmpty else { return [] }
        let texts = paths.map(\.description)
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT i.id, i.version, i.state::text, i.created_at, i.updated_at, p.name
                  FROM instances i JOIN persons p ON p.id = i.subject_ref
                 WHERE i.kind = \(ReturneeIsolation.kind) AND i.unit_path <@ \(texts)::ltree[]
                 ORDER BY i.created_at DESC, i.id
                 LIMIT \(limit)
                """, logger: self.logger)
            var found: [(stored: Stored<ReturneeIsolation>, name: String)] = []
            let decoder = StoredForm.decoder()
            for try await (id, version, state, created, updated, name) in rows.decode((UUID, Int, String, Date, Date, String).self) {
                let machine = try decoder.decode(ReturneeIsolation.self, from: Data(state.utf8))
                found.append((Stored(id: id, machine: machine, version: version, createdAt: created, updatedAt: updated), name))
            }
            return found
        }
    }

    /// A person's name, for headings.
    public func personName(_ id: UUID) async throws -> String? {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("SELECT name FROM persons WHERE id = \(id)", logger: self.logger)
            for try await name in rows.decode(String.self) { return name }
            return nil
        }
    }

    /// Active users holding `role` at a unit covering `path`: who a pending level waits on.
    public func holders(of role: Role, covering path: UnitPath) async throws -> [(name: String, unit: String)] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT u.display_name, x.name
                  FROM role_assignments r JOIN units x ON x.id = r.unit_id JOIN users u ON u.id = r.user_id
                  JOIN instances i ON i.id = u.id AND i.kind = 'account' AND i.state_name = 'active'
                 WHERE r.role = \(role.rawValue) AND x.path @> \(path.description)::ltree
                 ORDER BY nlevel(x.path) DESC, u.display_name
                 LIMIT 10
                """, logger: self.logger)
            var holders: [(name: String, unit: String)] = []
            for try await (name, unit) in rows.decode((String, String).self) { holders.append((name, unit)) }
            return holders
        }
    }

    /// Unit names by path, for showing 联合村 · 联合村1组 instead of ltree labels.
    public func unitNames(_ paths: Set<String>) async throws -> [String: String] {
        guard !paths.isEmpty else { return [:] }
        var prefixes = Set<String>()
        for path in paths {
            let labels = path.split(separator: ".")
            for end in labels.indices { prefixes.insert(labels[...end].joined(separator: ".")) }
        }
        return try await self.database.withConnection { [prefixes] connection in
            let rows = try await connection.query("""
                SELECT path::text, name FROM units WHERE path = ANY(\(Array(prefixes))::ltree[])
                """, logger: self.logger)
            var names: [String: String] = [:]
            for try await (path, name) in rows.decode((String, String).self) { names[path] = name }
            return names
        }
    }

    private static func listings(_ rows: PostgresRowSequence, withMine: Bool) async throws -> [PassListing] {
        var listings: [PassListing] = []
        let decoder = StoredForm.decoder()
        for try await (id, version, state, path, updated, event, at) in rows.decode(
            (UUID, Int, String, String, Date, String?, Date?).self)
        {
            listings.append(PassListing(
                id: id, version: version, application: try decoder.decode(PassApplication.self, from: Data(state.utf8)),
                unitPath: try UnitPath(path), updatedAt: updated, myLastEvent: event, myLastAt: at))
        }
        return listings
    }
}
