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
                SELECT i.id, v.id, v.plate, i.state::text, i.unit_path::text, i.updated_at
                  FROM instances i JOIN vehicles v ON v.id = i.subject_ref
                 WHERE i.kind = \(KeyCustody.kind) AND i.exclusive_key IS NOT NULL
                   AND i.unit_path <@ ANY (\(texts)::ltree[])
                 ORDER BY i.state_name = 'held' DESC, v.plate
                """, logger: self.logger)
            var keys: [KeyWhereabouts] = []
            let decoder = StoredForm.decoder()
            for try await (id, vehicle, plate, state, path, since) in rows.decode((UUID, UUID, String, String, String, Date).self) {
                // The fields are read from the machine, never from the document's field names.
                let custody = try decoder.decode(KeyCustody.self, from: Data(state.utf8))
                keys.append(KeyWhereabouts(custodyID: id, vehicleID: vehicle, plate: plate, state: custody.stateName,
                                           custodianUserID: custody.custodian?.userID, custodianName: custody.custodian?.name,
                                           storagePlace: custody.storagePlace, receiptNumber: custody.receiptNumber,
                                           gridPath: try UnitPath(path), since: since))
            }
            return keys
        }
    }
}
