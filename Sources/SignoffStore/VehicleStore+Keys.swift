import Foundation
import PostgresNIO
import SignoffCore

/// Where one key is and with whom (or that its owner declined to hand it in).
public struct KeyWhereabouts: Sendable, Equatable {
    public var custodyID: UUID
    public var vehicleID: UUID
    public var plate: String
    public var state: String
    public var custodianUserID: UUID?
    public var custodianName: String?
    public var storagePlace: String?
    public var receiptNumber: String?
    public var gridPath: UnitPath
    public var since: Date
}

// MARK: - Keys
extension VehicleStore {
    /// Every key not yet given back inside the subtrees, held ones first, in one query.
    public func keys(under paths: [UnitPath]) async throws -> [KeyWhereabouts] {
        let texts = paths.map(\.description)
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT i.id, v.id, v.plate, i.state_name, (i.state -> 'custodian' ->> 'userID')::uuid,
                       i.state -> 'custodian' ->> 'name', i.state ->> 'storagePlace', i.state ->> 'receiptNumber',
                       i.unit_path::text, i.updated_at
                  FROM instances i JOIN vehicles v ON v.id = i.subject_ref
                 WHERE i.kind = \(KeyCustody.kind) AND i.exclusive_key IS NOT NULL
                   AND i.unit_path <@ ANY (\(texts)::ltree[])
                 ORDER BY i.state_name = 'held' DESC, v.plate
                """, logger: self.logger)
            var keys: [KeyWhereabouts] = []
            for try await (id, vehicle, plate, state, userID, name, place, receipt, path, since) in rows.decode(
                (UUID, UUID, String, String, UUID?, String?, String?, String?, String, Date).self)
            {
                keys.append(KeyWhereabouts(custodyID: id, vehicleID: vehicle, plate: plate, state: state, custodianUserID: userID,
                                           custodianName: name, storagePlace: place, receiptNumber: receipt,
                                           gridPath: try UnitPath(path), since: since))
            }
            return keys
        }
    }
}
