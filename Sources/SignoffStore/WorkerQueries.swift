import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// Read-only queries behind the migrant worker's pages.
public struct WorkerQueries: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Directed-transport trips that list the person, the latest first. The caller still reads
    /// each through `WorkersStore.trip(_:for:)`, which checks who may see it.
    public func tripIDs(listing personID: UUID, limit: Int = 20) async throws -> [UUID] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT id FROM instances
                 WHERE kind = \(TransportTrip.kind)
                   AND member_ids @> ARRAY[\(personID)]::uuid[]
                 ORDER BY created_at DESC, id LIMIT \(limit)
                """, logger: self.database.logger)
            var ids: [UUID] = []
            for try await id in rows.decode(UUID.self) { ids.append(id) }
            return ids
        }
    }
}
