import Foundation
import PostgresNIO
import SignoffCore

/// Seeds a throwaway database for the sign-path benchmark (`ops/bench/sign`): the demo
/// township, then `applications` vehicles parked in grid 1 under a manual clock, cleared after
/// 14 days and each applying for a travel pass, so that all five levels can be signed over HTTP.
/// Everything goes through the stores and their one transition path, as a real day's work would.
public struct BenchSeed: Sendable {
    public struct Result: Sendable, Codable {
        public var applications: [UUID]
        /// The five signers of grid 1, in chain order.
        public var signers: [String]

        enum CodingKeys: String, CodingKey {
            case applications
            case signers
        }
    }

    public let accounts: AccountStore
    public let policies: PolicyCatalog

    public init(accounts: AccountStore, policies: PolicyCatalog) {
        self.accounts = accounts
        self.policies = policies
    }

    public static let signers = ["gw01", "lianhe_g1_leader", "lianhe_secretary", "lianhe_stationed", "chief"]

    public func seed(password: String, applications: Int) async throws -> Result {
        try await Database.$unboundedOperations.withValue(true) {
            try await self.seedUnbounded(password: password, applications: applications)
        }
    }

    private func seedUnbounded(password: String, applications: Int) async throws -> Result {
        let database = self.accounts.database
        let workers = WorkersStore(transitions: self.accounts.transitions, policies: self.policies)
        _ = try await DemoTownship(accounts: self.accounts, workers: workers).seed(password: password)
        let gridWorker = try await self.accounts.user(username: Self.signers[0]).actor()
        guard let grid = gridWorker.assignments.first(where: { $0.role == .gridWorker }) else {
            throw SignoffError.notFound("The grid of \(Self.signers[0])")
        }
        let clock = ManualClock(Date(timeIntervalSince1970: 1_583_020_800))  // 2020-03-01 08:00 China time
        let store = VehicleStore(transitions: TransitionStore(database: database, clock: clock), policies: self.policies)
        let organisation = OrganisationStore(database: database)

        // Owners: one household of one person per vehicle, in grid 1.
        var vehicles: [UUID] = []
        let batch = 200
        for first in stride(from: 0, to: applications, by: batch) {
            let ids = try await database.transaction { connection in
                var ids: [UUID] = []
                for number in first..<min(first + batch, applications) {
                    let household = try await organisation.createHousehold(
                        gridID: grid.unitID, code: String(format: "bench-%06d", number), headName: "测试户\(number)",
                        address: "联合村1组", poor: false, on: connection)
                    let owner = try await organisation.createPerson(householdID: household.id, name: "车主\(number)", idNumber: nil,
                                                                    phone: nil, on: connection)
                    let outcome = try await store.register(
                        .init(plate: Self.plate(number), ownerPersonID: owner.id, parkingPlace: "本户院坝"),
                        by: gridWorker, on: connection)
                    guard case .applied(let pledge, _) = outcome else { throw SignoffError.notFound("Bench pledge") }
                    ids.append(pledge.stored.machine.vehicleID)
                }
                return ids
            }
            vehicles += ids
        }
        clock.advance(days: 15)
        var passes: [UUID] = []
        for first in stride(from: 0, to: vehicles.count, by: batch) {
            let slice = Array(vehicles[first..<min(first + batch, vehicles.count)])
            passes += try await database.transaction { connection in
                var ids: [UUID] = []
                for vehicle in slice {
                    let outcome = try await store.applyForPass(vehicleID: vehicle, by: gridWorker, on: connection)
                    guard case .applied(let application, _) = outcome else { throw SignoffError.notFound("Bench pass") }
                    ids.append(application.stored.id)
                }
                return ids
            }
        }
        return Result(applications: passes, signers: Self.signers)
    }

    /// 川Q·B0000 … 川Q·Z9999: distinct from the demo's 川Q·D plates.
    static func plate(_ number: Int) -> String {
        let letters = Array("BCEFGHJKLMNPRSTUVWXYZ")
        return String(format: "川Q·%@%04d", String(letters[(number / 10_000) % letters.count]), number % 10_000)
    }
}
