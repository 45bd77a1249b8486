import Foundation
import PostgresNIO
import SignoffCore

/// The demo's vehicles in the spring of 2020, driven through `AgriculturalPassStore` and
/// `VehicleStore` on one transaction: 219 agricultural passes 农用车通行证明 issued, vehicles
/// parked under pledges 停放承诺书 with their keys 钥匙 in custody (a few owners declined), and
/// travel passes 通行证 waiting at every level of the five-level chain, effective or rejected.
///
/// The vehicle stores run on their own clock, set to 1 February 2020 and moved on past the
/// 14 days of parking before the passes are applied for.
extension DemoTownship {
    public static let agriculturalPassesIssued = 219
    /// Travel pass applications waiting at each level of the chain (1 to 5).
    public static let passesPendingPerLevel = 2
    public static let passesEffective = 3
    public static let passesRejected = 1
    /// Vehicles parked past their 14 days without an application yet (a grid worker applies for
    /// them from the web app), and owners who declined to hand in the key.
    public static let vehiclesOnlyParked = 60
    public static let keysDeclined = 3
    /// 2020-02-01 08:00 in China.
    static let vehicleStart = Date(timeIntervalSince1970: 1_580_515_200)

    func seedVehicles(_ cast: DemoCast, on connection: PostgresConnection) async throws {
        let clock = ManualClock(Self.vehicleStart)
        let transitions = TransitionStore(database: self.accounts.database, clock: clock, signingKeys: self.accounts.transitions.signingKeys)
        let policies = self.workers.policies
        let passes = AgriculturalPassStore(transitions: transitions, policies: policies)
        let vehicles = VehicleStore(transitions: transitions, policies: policies)
        let gridIndex = Dictionary(uniqueKeysWithValues: cast.grids.enumerated().map { ($0.element.grid.id, $0.offset) })

        // Households and their members, in code order, each with the index of its grid.
        let rows = try await connection.query("""
            SELECT h.id, h.grid_id, p.id FROM households h JOIN persons p ON p.household_id = h.id ORDER BY h.code, p.id
            """, logger: self.accounts.database.logger)
        var households: [(id: UUID, grid: Int, members: [UUID])] = []
        for try await (household, grid, person) in rows.decode((UUID, UUID, UUID).self) {
            guard let index = gridIndex[grid] else { continue }
            if households.last?.id == household {
                households[households.count - 1].members.append(person)
            } else {
                households.append((household, index, [person]))
            }
        }
        try await self.seedAgriculturalPasses(households.map { ($0.id, $0.grid) }, cast: cast, store: passes, on: connection)
        try await self.seedTravelPasses(households, cast: cast, clock: clock, store: vehicles, on: connection)
    }

    /// 219 passes for spring ploughing, spread over the villages: each requested by the grid
    /// worker of the household's grid and issued by the village's branch secretary.
    private func seedAgriculturalPasses(
        _ households: [(id: UUID, grid: Int)], cast: DemoCast, store: AgriculturalPassStore, on connection: PostgresConnection
    ) async throws {
        let byVillage = Dictionary(grouping: households) { cast.grids[$0.grid].village }
        let villages = Self.villages.map(\.code)
        let vehicleKinds = ["三轮农用车", "手扶拖拉机", "微耕机运输车", "农用货车"]
        var requested: [(id: UUID, village: String)] = []
        for (villageIndex, village) in villages.enumerated() {
            let share = Self.agriculturalPassesIssued / villages.count
                + (villageIndex < Self.agriculturalPassesIssued % villages.count ? 1 : 0)
            let chosen = byVillage[village] ?? []
            guard chosen.count >= share else {
                throw SignoffError.notFound("Demo households for \(share) agricultural passes in \(village)")
            }
            for (number, household) in chosen.prefix(share).enumerated() {
                let outcome = try await store.request(.init(
                    householdID: household.id, vehicleDescription: vehicleKinds[number % vehicleKinds.count], plate: nil,
                    purpose: "春耕运输化肥、种子", route: "本户—乡农资站—承包地"
                ), by: cast.grids[household.grid].gridWorker, on: connection)
                guard case .applied(let filed, _) = outcome else { throw SignoffError.notFound("Demo agricultural pass") }
                requested.append((filed.stored.id, village))
            }
        }
        for pass in requested {
            _ = try await store.issue(id: pass.id, by: try cast.official("\(pass.village)_secretary"), on: connection)
        }
    }

    /// Vehicles of 联合村 1组 (whose chain has every signer in the demo): registered and parked,
    /// keys deposited or declined; after 15 days, applications at each stage of the chain.
    private func seedTravelPasses(
        _ households: [(id: UUID, grid: Int, members: [UUID])], cast: DemoCast, clock: ManualClock,
        store: VehicleStore, on connection: PostgresConnection
    ) async throws {
        let group = cast.grids.indices.filter { cast.grids[$0].village == "lianhe" }.prefix(Self.gridsPerGroup)
        // Every member of the group's households may own a vehicle, one each.
        let owners = households.filter { group.contains($0.grid) }.flatMap { household in
            household.members.map { ($0, household.grid) }
        }
        let applying = Self.passesPendingPerLevel * 5 + Self.passesEffective + Self.passesRejected
        let count = applying + Self.vehiclesOnlyParked
        guard owners.count >= count else { throw SignoffError.notFound("Demo vehicle owners") }
        var parked: [(vehicle: UUID, grid: Int)] = []
        for (number, owner) in owners.prefix(count).enumerated() {
            let gridWorker = cast.grids[owner.1].gridWorker
            let outcome = try await store.register(.init(
                plate: String(format: "川Q·D%04d", 1_001 + number), ownerPersonID: owner.0, parkingPlace: "本户院坝"
            ), by: gridWorker, on: connection)
            guard case .applied(let pledge, _) = outcome else { throw SignoffError.notFound("Demo pledge") }
            let vehicleID = pledge.stored.machine.vehicleID
            // The last few owners refuse to hand in the key; the others leave it with the grid worker.
            if number >= count - Self.keysDeclined {
                _ = try await store.declineKey(vehicleID: vehicleID, note: "车主拒绝交钥匙", by: gridWorker, on: connection)
            } else {
                _ = try await store.depositKey(
                    vehicleID: vehicleID, custodian: .init(userID: nil, name: nil),
                    receiptNumber: String(format: "钥-2020-%03d", number + 1), storagePlace: "村委会钥匙柜",
                    by: gridWorker, on: connection)
            }
            parked.append((vehicleID, owner.1))
            clock.advance(by: 600)
        }

        // 15 days later the first vehicles may apply; their applications move up the chain.
        clock.advance(days: 15)
        let signers = [
            try cast.official("lianhe_g1_leader"), try cast.official("lianhe_secretary"),
            try cast.official("lianhe_stationed"), try cast.official("chief"),
        ]
        for (number, vehicle) in parked.prefix(applying).enumerated() {
            let gridWorker = cast.grids[vehicle.grid].gridWorker
            let outcome = try await store.applyForPass(vehicleID: vehicle.vehicle, by: gridWorker, on: connection)
            guard case .applied(let application, _) = outcome else { throw SignoffError.notFound("Demo travel pass") }
            let id = application.stored.id
            // Two wait at level 1, two at level 2, … two at level 5; then the effective ones; the
            // last is sent back at level 3 by the branch secretary.
            let pending = Self.passesPendingPerLevel * 5
            let rejected = number >= pending + Self.passesEffective
            let signatures = number < pending ? number / Self.passesPendingPerLevel : (rejected ? 2 : 5)
            let chain = [gridWorker] + signers
            for level in 0..<signatures {
                clock.advance(by: 3_600)
                _ = try await store.actOnPass(id: id, expectedVersion: nil, .sign(level: level + 1), by: chain[level], on: connection)
            }
            if rejected {
                clock.advance(by: 3_600)
                let reason = "停放期间有违规驾驶记录，请核实后重新申请"
                _ = try await store.actOnPass(id: id, expectedVersion: nil, .reject(reason: reason, level: 3), by: chain[2],
                                              on: connection)
            } else if signatures == 5 {
                // The pass took effect and released the pledge: the key goes back to its owner.
                clock.advance(by: 1_800)
                _ = try await store.returnKey(vehicleID: vehicle.vehicle, by: gridWorker, on: connection)
            }
        }
    }
}
