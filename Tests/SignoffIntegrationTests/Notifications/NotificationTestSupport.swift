import Foundation
import HummingbirdTesting
import PostgresNIO
import SignoffCore
@testable import SignoffHTTP
import SignoffStore
import Testing

extension TestWorld {
    /// Another service instance on the same database and clock, as after a restart or beside this one.
    func anotherInstance(timers: TimerStore? = nil) -> SignoffServices {
        SignoffServices(database: self.database, clock: self.clock, accountSettings: Self.accountSettings(),
                        notificationSettings: self.services.notificationSettings, timers: timers)
    }

    /// The in-app notices of `username` for `event`, oldest first, as (title, body).
    func notices(of username: String, event: String) async throws -> [(title: String, body: String)] {
        let user = try #require(self.town.users[username])
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT title, body FROM notifications WHERE user_id = \(user) AND event = \(event) ORDER BY id
                """, logger: self.database.logger)
            var items: [(String, String)] = []
            for try await row in rows.decode((String, String).self) { items.append(row) }
            return items
        }
    }

    func count(_ sql: String) async throws -> Int {
        try await self.database.withConnection { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.database.logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    /// A pass application of a new vehicle in grid 1, filed when its 14 days are up (08:00 China time).
    func filedPass(_ client: some TestClientProtocol, plate: String = "川Q 12345") async throws -> UUID {
        let (vehicle, _) = try await client.registerVehicle(self, plate: plate, grid: self.town.grid1, by: "gw1")
        self.clock.advance(days: 14)
        return try await client.applyForPass(self, vehicle: vehicle, by: "gw1")
    }
}
