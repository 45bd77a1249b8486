import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SignoffCore
@testable import SignoffHTTP
import SignoffStore

/// A small township for tests: two villages, each with one group and grids, and one account per role.
struct TestTownship: Sendable {
    var township: OrgUnit
    var village1: OrgUnit
    var village2: OrgUnit
    var group1: OrgUnit
    var group2: OrgUnit
    var grid1: OrgUnit
    var grid2: OrgUnit
    var gridOther: OrgUnit
    /// username → user id
    var users: [String: UUID]
    /// username → bearer token
    var tokens: [String: String]

    static let password = "correct horse battery"

    /// (username, role, unit code)
    static let accounts: [(String, Role, String)] = [
        ("admin", .admin, "twp"),
        ("chief", .chiefLeader, "twp"),
        ("health", .healthOfficer, "twp"),
        ("v1admin", .admin, "v1"),
        ("v1stationed", .villageLeader, "v1"),
        ("v1secretary", .branchSecretary, "v1"),
        ("v1g1leader", .groupLeader, "v1g1"),
        ("gw1", .gridWorker, "v1g1w1"),
        ("gw2", .gridWorker, "v1g1w2"),
        ("v2stationed", .villageLeader, "v2"),
        ("v2secretary", .branchSecretary, "v2"),
        ("v2g1leader", .groupLeader, "v2g1"),
        ("gw3", .gridWorker, "v2g1w1"),
    ]

    static func seed(_ services: SignoffServices) async throws -> TestTownship {
        let organisation = services.organisation
        let units = try await services.database.transaction { connection in
            let township = try await organisation.createUnit(kind: .township, code: "twp", name: "联合苗族乡", parentID: nil, on: connection)
            let village1 = try await organisation.createUnit(kind: .village, code: "v1", name: "联合村", parentID: township.id, on: connection)
            let village2 = try await organisation.createUnit(kind: .village, code: "v2", name: "民主村", parentID: township.id, on: connection)
            let group1 = try await organisation.createUnit(kind: .group, code: "v1g1", name: "联合村1组", parentID: village1.id, on: connection)
            let group2 = try await organisation.createUnit(kind: .group, code: "v2g1", name: "民主村1组", parentID: village2.id, on: connection)
            let grid1 = try await organisation.createUnit(kind: .grid, code: "v1g1w1", name: "第1网格", parentID: group1.id, on: connection)
            let grid2 = try await organisation.createUnit(kind: .grid, code: "v1g1w2", name: "第2网格", parentID: group1.id, on: connection)
            let gridOther = try await organisation.createUnit(kind: .grid, code: "v2g1w1", name: "第3网格", parentID: group2.id, on: connection)
            return [township, village1, village2, group1, group2, grid1, grid2, gridOther]
        }
        let byCode = Dictionary(uniqueKeysWithValues: units.map { ($0.code, $0) })
        let hash = try await services.accounts.hashPassword(Self.password)
        var users: [String: UUID] = [:]
        var tokens: [String: String] = [:]
        for (username, role, code) in Self.accounts {
            let user = try await services.accounts.createUser(
                .init(username: username, displayName: "\(role.chineseName) \(username)", password: nil,
                      roles: [(role, byCode[code]!.id)], passwordHash: hash),
                by: .bootstrap(units[0])
            )
            users[username] = user.id
            tokens[username] = try await services.accounts.issueToken(userID: user.id).token
        }
        return TestTownship(
            township: units[0], village1: units[1], village2: units[2], group1: units[3], group2: units[4],
            grid1: units[5], grid2: units[6], gridOther: units[7], users: users, tokens: tokens
        )
    }
}

/// A test's own database, services on a manual clock, the real router and a seeded township.
struct TestWorld: Sendable {
    let services: SignoffServices
    let clock: ManualClock
    let town: TestTownship
    let endpoint: DatabaseEndpoint

    var database: Database { self.services.database }

    /// 2020-02-10 08:00 China time, when the township ran its controls.
    static let start = Date(timeIntervalSince1970: 1_581_292_800)

    static func accountSettings() -> AccountSettings {
        var settings = AccountSettings()
        settings.bcryptCost = 4
        return settings
    }

    /// Runs `body` against a fresh database cloned from the migrated template.
    static func with<Result: Sendable>(
        seed: Bool = true,
        notificationSettings: NotificationSettings = .init(),
        writeLimits: WriteLimits = .init(),
        live: Bool = false,
        signingKeys: SigningKeys? = nil,
        _ body: @Sendable (TestWorld, any TestClientProtocol) async throws -> Result
    ) async throws -> Result {
        let endpoint = try await TestCluster.shared.freshDatabase()
        // Generous waits: tests run many at once on a small machine; the bounds have their own tests.
        let limits = DatabaseLimits(connectionWait: .seconds(30), operation: .seconds(60))
        return try await Database.with(endpoint: endpoint, maxConnections: 6, limits: limits, logger: TestCluster.logger) { database in
            let clock = ManualClock(Self.start)
            let services = SignoffServices(database: database, clock: clock, accountSettings: Self.accountSettings(),
                                           notificationSettings: notificationSettings, writeLimits: writeLimits,
                                           signingKeys: signingKeys)
            let town = try await TestTownship.seed(services)
            let world = TestWorld(services: services, clock: clock, town: town, endpoint: endpoint)
            let app = Application(router: buildRouter(services), logger: TestCluster.logger)
            // `.live` serves on a loopback port, so requests have a client address (the per-address limit).
            return try await app.test(live ? .live : .router) { client in
                try await body(world, client)
            }
        }
    }
}

/// A decoded response, for assertions.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: Data

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: self.body) as? [String: Any]) ?? [:]
    }

    var code: String? { self.json["code"] as? String }

    var text: String { String(decoding: self.body, as: UTF8.self) }
}

extension TestClientProtocol {
    /// Sends JSON (an object, or raw text when `raw` is given) with an optional bearer token.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String? = nil,
        json: [String: Any]? = nil,
        raw: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]))
            headers[.contentType] = "application/json"
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        return try await self.execute(uri: uri, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }
}
