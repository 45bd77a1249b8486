import Foundation
import PostgresNIO
import Testing
@testable import SignoffCore
@testable import SignoffStore

/// schema/0010: rows written before the stored form was frozen (camelCase field names, fields
/// read by SQL out of the document) are converted, their projection columns filled, and they
/// read back as the golden fixtures say.
@Suite("Stored form migration", .timeLimit(.minutes(2)))
struct StoredFormMigrationTests {
    static let fixtures = TestCluster.repositoryRoot.appendingPathComponent("Tests/SignoffCoreTests/Fixtures/stored")

    /// The field names as Swift's synthesized coding wrote them before 0010: unit_id → unitID.
    static func legacyName(_ key: String) -> String {
        let parts = key.split(separator: "_").map(String.init)
        return parts.dropFirst().reduce(parts[0]) { $0 + ($1 == "id" ? "ID" : $1.prefix(1).uppercased() + $1.dropFirst()) }
    }

    static func legacy(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields):
            .object(Dictionary(uniqueKeysWithValues: fields.map { (Self.legacyName($0.key), Self.legacy($0.value)) }))
        case .array(let items): .array(items.map(Self.legacy))
        default: value
        }
    }

    static func fixture(_ path: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent(path)))
    }

    /// schema/0018: the keys that certificate requests and household visits wrote before there
    /// was one format become the ones `ExclusiveKey` builds, so a lookup by key finds them.
    @Test func oldExclusiveKeysTakeTheOneFormat() async throws {
        let endpoint = try await TestCluster.shared.freshDatabase(migrated: false)
        try await Database.with(endpoint: endpoint, maxConnections: 2, logger: TestCluster.logger) { database in
            let all = try Migrator.load(from: TestCluster.schemaFolder).migrations
            _ = try await Migrator(migrations: all.filter { $0.version < 18 }).migrate(database)
            let person = UUID(), household = UUID(), vehicle = UUID()
            let rows: [(UUID, String, String)] = [
                (UUID(), "certificate_request", "person:\(person.uuidString.lowercased())"),
                (UUID(), "household_visit", "\(household.uuidString.lowercased()):2020-02-10 am"),
                (UUID(), "parking_pledge", "vehicle:\(vehicle.uuidString)"),
            ]
            try await database.withConnection { connection in
                for (id, kind, key) in rows {
                    try await connection.query("""
                        INSERT INTO instances (id, kind, state_name, state, schema_version, version, unit_path, exclusive_key,
                                               created_at, updated_at)
                        VALUES (\(id), \(kind), 'open', '{}'::jsonb, 1, 1, 'lianhe.v01.g01.w01', \(key), now(), now())
                        """, logger: database.logger)
                }
            }
            _ = try await Migrator(migrations: all).migrate(database)
            let expected = [ExclusiveKey.person(person).text, ExclusiveKey.household(household, slot: "2020-02-10 am").text,
                            ExclusiveKey.vehicle(vehicle).text]
            let keys = try await database.withConnection { connection in
                var keys: [String] = []
                for (id, _, _) in rows {
                    let found = try await connection.query("SELECT exclusive_key FROM instances WHERE id = \(id)", logger: database.logger)
                    for try await key in found.decode(String.self) { keys.append(key) }
                }
                return keys
            }
            #expect(keys == expected)
        }
    }

    @Test func oldRowsAreConvertedAndTheirColumnsFilled() async throws {
        let endpoint = try await TestCluster.shared.freshDatabase(migrated: false)
        try await Database.with(endpoint: endpoint, maxConnections: 2, logger: TestCluster.logger) { database in
            let all = try Migrator.load(from: TestCluster.schemaFolder).migrations
            let before = all.filter { $0.version < 10 }
            #expect(before.count < all.count)
            _ = try await Migrator(migrations: before).migrate(database)

            let rows: [(UUID, String, String, String, String?)] = [
                (UUID(), "vehicle_pass", "vehicle_pass/v1/pending.json", "pending", "group_leader"),
                (UUID(), "vehicle_pass", "vehicle_pass/v1/effective.json", "effective", nil),
                (UUID(), "certificate_request", "certificate_request/v1/certified.json", "certified", nil),
                (UUID(), "transport_trip", "transport_trip/v1/departed.json", "departed", nil),
                (UUID(), "returnee_isolation", "returnee_isolation/v1/central_self_paid.json", "central_self_paid", nil),
                (UUID(), "agricultural_pass", "agricultural_pass/v1/issued.json", "issued", nil),
            ]
            try await database.withConnection { connection in
                for (id, kind, path, state, role) in rows {
                    let old = try StoreCoding.json(Self.legacy(try Self.fixture(path)))
                    #expect(!old.contains("_id\""))
                    try await connection.query("""
                        INSERT INTO instances (id, kind, state_name, state, version, unit_path, pending_role, created_at, updated_at)
                        VALUES (\(id), \(kind), \(state), \(old)::jsonb, 1, 'lianhe.v01.g01.w01', \(role), now(), now())
                        """, logger: database.logger)
                }
            }
            #expect(try await Migrator(migrations: all).migrate(database) == all.filter { $0.version >= 10 }.map(\.version))

            try await database.withConnection { connection in
                for (id, _, path, _, _) in rows {
                    let stored = try await connection.query("SELECT state::text, schema_version FROM instances WHERE id = \(id)",
                                                            logger: database.logger)
                    for try await (text, version) in stored.decode((String, Int).self) {
                        #expect(version == 1)
                        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == Self.fixture(path), "\(path)")
                    }
                }
                let columns = try await connection.query("""
                    SELECT kind, state_name, pending_level, serial_number, category, headcount, poor_members, cardinality(member_ids)
                      FROM instances ORDER BY kind, state_name
                    """, logger: database.logger)
                var seen: [String: (Int?, String?, String?, Int?, Int?, Int?)] = [:]
                for try await (kind, state, level, serial, category, headcount, poor, members) in columns.decode(
                    (String, String, Int?, String?, String?, Int?, Int?, Int?).self) {
                    seen["\(kind)/\(state)"] = (level, serial, category, headcount, poor, members)
                }
                #expect(seen["vehicle_pass/pending"]?.0 == 3)
                #expect(seen["vehicle_pass/effective"]?.0 == nil)
                #expect(seen["vehicle_pass/effective"]?.1?.isEmpty == false)
                #expect(seen["certificate_request/certified"]?.1 == "LH-JK-2020-00001")
                #expect(seen["certificate_request/certified"]?.2 == "out_of_province")
                #expect(seen["transport_trip/departed"]?.3 == 2)
                #expect(seen["transport_trip/departed"]?.4 == 1)
                #expect(seen["transport_trip/departed"]?.5 == 2)
                #expect(seen["returnee_isolation/central_self_paid"]?.2 == "central_self_paid")
                #expect(seen["agricultural_pass/issued"]?.1 == "LH-NY-2020-0001")
            }

            // And the store reads the converted rows as machines.
            let store = TransitionStore(database: database, clock: SystemWallClock())
            let pass = try await store.load(PassApplication.self, id: rows[0].0)
            #expect(pass.machine.pendingLevel?.level == 3)
            #expect(pass.machine.rounds[0].signatures.map(\.name) == ["网格员 张三", "组长 王五"])
            let trip = try await store.load(TransportTrip.self, id: rows[3].0)
            #expect(trip.machine.workers.map(\.poor) == [true, false])
        }
    }

    @Test func noIndexReadsTheStateDocument() async throws {
        let endpoint = try await TestCluster.shared.freshDatabase(migrated: true)
        try await Database.with(endpoint: endpoint, maxConnections: 1, logger: TestCluster.logger) { database in
            try await database.withConnection { connection in
                let rows = try await connection.query("""
                    SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'instances' ORDER BY indexname
                    """, logger: database.logger)
                var count = 0
                for try await (name, definition) in rows.decode((String, String).self) {
                    count += 1
                    #expect(definition.range(of: #"\bstate\b(?!_)"#, options: .regularExpression) == nil, "\(name): \(definition)")
                }
                #expect(count >= 8)
            }
        }
    }
}
