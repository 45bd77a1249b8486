import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// The demo of Lianhe Miao Ethnic Township (联合苗族乡): its tree of 84 grids and one
/// account for each role, built through the same stores the API uses.
public struct DemoTownship: Sendable {
    public struct Login: Sendable, Equatable {
        public var username: String
        public var role: Role
        public var unit: String
    }

    public struct Result: Sendable {
        public var created: Bool
        public var logins: [Login]
    }

    /// Six villages, two groups each, seven grids per group: the township's 84 grids.
    public static let villages: [(code: String, name: String)] = [
        ("lianhe", "联合村"), ("minzhu", "民主村"), ("tuanjie", "团结村"),
        ("heping", "和平村"), ("xinmin", "新民村"), ("longtang", "龙塘村"),
    ]
    public static let groupsPerVillage = 2
    public static let gridsPerGroup = 7
    public static let townshipCode = "lianhe_xiang"

    let accounts: AccountStore
    let workers: WorkersStore

    public init(accounts: AccountStore, workers: WorkersStore? = nil) {
        self.accounts = accounts
        self.workers = workers ?? WorkersStore(transitions: accounts.transitions, policies: PolicyCatalog(), accountSettings: accounts.settings)
    }

    /// Builds the demo unless a township exists already; either way returns the logins.
    public func seed(password: String) async throws -> Result {
        // Batches of parallel transactions, longer than any request: not under the request bounds.
        try await Database.$unboundedOperations.withValue(true) { try await self.seedUnbounded(password: password) }
    }

    private func seedUnbounded(password: String) async throws -> Result {
        let organisation = OrganisationStore(database: self.accounts.database)
        let existing = try await organisation.units(under: nil, kind: .township)
        if !existing.isEmpty {
            return Result(created: false, logins: Self.logins)
        }
        let hash = try await self.accounts.hashPassword(password)
        let (cast, workers) = try await self.accounts.database.transaction { connection in
            let township = try await organisation.createUnit(kind: .township, code: Self.townshipCode, name: "联合苗族乡", parentID: nil, on: connection)
            // The first administrator is created by the service itself, as `signoff user add` does.
            let bootstrap = Principal.bootstrap(township)
            var unitsByCode: [String: OrgUnit] = [Self.townshipCode: township]
            var gridNumber = 0
            var cast = DemoCast(township: township)
            for (villageCode, villageName) in Self.villages {
                let village = try await organisation.createUnit(kind: .village, code: villageCode, name: villageName, parentID: township.id, on: connection)
                unitsByCode[villageCode] = village
                for groupIndex in 1...Self.groupsPerVillage {
                    let groupCode = "\(villageCode)_g\(groupIndex)"
                    let group = try await organisation.createUnit(kind: .group, code: groupCode, name: "\(villageName)\(groupIndex)组", parentID: village.id, on: connection)
                    unitsByCode[groupCode] = group
                    for _ in 1...Self.gridsPerGroup {
                        gridNumber += 1
                        let gridCode = String(format: "grid%02d", gridNumber)
                        let grid = try await organisation.createUnit(kind: .grid, code: gridCode, name: "第\(gridNumber)网格", parentID: group.id, on: connection)
                        unitsByCode[gridCode] = grid
                        let gridWorker = try await self.accounts.createUser(.init(
                            username: String(format: "gw%02d", gridNumber), displayName: "网格员\(gridNumber)号", password: nil,
                            roles: [(.gridWorker, grid.id)], passwordHash: hash
                        ), by: bootstrap, on: connection)
                        cast.grids.append((grid, villageCode, try gridWorker.actor()))
                    }
                }
            }
            for login in Self.logins where !login.username.hasPrefix("gw") && login.role != .worker {
                guard let unit = unitsByCode[login.unit] else { continue }
                let user = try await self.accounts.createUser(.init(
                    username: login.username, displayName: "\(login.role.chineseName)（演示）", password: nil,
                    roles: [(login.role, unit.id)], passwordHash: hash
                ), by: bootstrap, on: connection)
                cast.officials[login.username] = try user.actor()
            }
            return (cast, try await self.seedPeople(cast, passwordHash: hash, on: connection))
        }
        // The processes, one transaction per step, several villages at once.
        try await self.seedWorkers(workers, cast: cast)
        try await self.accounts.database.transaction { try await self.seedVehicles(cast, on: $0) }
        try await self.seedCheckpoints(cast)
        try await self.seedVisits(cast)
        return Result(created: true, logins: Self.logins)
    }

    /// One account per role, and a branch secretary 支部书记 for every village (they issue its
    /// agricultural passes); grid workers gw01…gw84 exist for every grid.
    public static let logins: [Login] = [
        Login(username: "admin", role: .admin, unit: townshipCode),
        Login(username: "chief", role: .chiefLeader, unit: townshipCode),
        Login(username: "health", role: .healthOfficer, unit: townshipCode),
        Login(username: "lianhe_stationed", role: .villageLeader, unit: "lianhe"),
        Login(username: "lianhe_secretary", role: .branchSecretary, unit: "lianhe"),
        Login(username: "lianhe_g1_leader", role: .groupLeader, unit: "lianhe_g1"),
        Login(username: "minzhu_secretary", role: .branchSecretary, unit: "minzhu"),
        Login(username: "tuanjie_secretary", role: .branchSecretary, unit: "tuanjie"),
        Login(username: "heping_secretary", role: .branchSecretary, unit: "heping"),
        Login(username: "xinmin_secretary", role: .branchSecretary, unit: "xinmin"),
        Login(username: "longtang_secretary", role: .branchSecretary, unit: "longtang"),
        Login(username: "gw01", role: .gridWorker, unit: "grid01"),
        Login(username: "worker01", role: .worker, unit: "grid01"),
    ]
}

/// The demo's people: each grid with its grid worker, and the signers by username.
struct DemoCast: Sendable {
    var township: OrgUnit
    /// In grid order: the grid, its village's code, its grid worker.
    var grids: [(grid: OrgUnit, village: String, gridWorker: Principal)] = []
    var officials: [String: Principal] = [:]

    init(township: OrgUnit) {
        self.township = township
    }

    func official(_ username: String) throws -> Principal {
        guard let actor = self.officials[username] else { throw SignoffError.notFound("Demo account \(username)") }
        return actor
    }
}

extension UserSummary {
    /// The user as an actor with their roles, for driving the demo through the stores.
    func actor() throws -> Principal {
        Principal(userID: self.id, displayName: self.displayName, assignments: try self.roles.map {
            RoleAssignment(role: $0.role, unitID: $0.unitID, unitPath: try UnitPath($0.unitPath))
        }, personID: self.personID)
    }
}

extension Principal {
    /// The service itself acting as administrator of a township, for the first accounts
    /// (`signoff user add` and the demo). Audited under the name "system".
    public static func bootstrap(_ township: OrgUnit) -> Principal {
        Principal(userID: Principal.systemUserID, displayName: AuditLog.systemName,
              assignments: [RoleAssignment(role: .admin, unitID: township.id, unitPath: township.path)])
    }
}
