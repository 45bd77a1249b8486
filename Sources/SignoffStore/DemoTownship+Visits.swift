import Foundation
import PostgresNIO
import SignoffCore

/// The demo's day of visits 上下午走访, 20 February 2020, driven through `VisitStore`: every
/// grid worker calls at the grid's households in the morning and most of them again in the
/// afternoon; a few households are not at home, and a few report a change, which opens its
/// workflow as it would on a phone: returnees registered (one from 湖北 to compulsory central
/// isolation, others at home, one at their own expense because the household's points had
/// reached the threshold), a fever of someone not isolating (an urgent notice), a reading of a
/// returnee isolating at home, someone leaving for work.
///
/// The changes are in grids 21 to 26, whose grid workers the browser tests do not use.
extension DemoTownship {
    /// 2020-02-20 08:30 in China.
    static let visitsStart = Date(timeIntervalSince1970: 1_582_158_600)
    public static let visitDay = "2020-02-20"

    func seedVisits(_ cast: DemoCast) async throws {
        let database = self.accounts.database
        let clock = ManualClock(Self.visitsStart)
        let transitions = TransitionStore(database: database, clock: clock)
        let isolation = IsolationStore(transitions: transitions, policies: self.workers.policies)
        let visits = VisitStore(transitions: transitions, isolation: isolation)
        let gridIndex = Dictionary(uniqueKeysWithValues: cast.grids.enumerated().map { ($0.element.grid.id, $0.offset) })
        let rows = try await database.withConnection { connection in
            try await connection.query("""
                SELECT h.id, h.grid_id, p.id FROM households h JOIN persons p ON p.household_id = h.id ORDER BY h.code, p.id
                """, logger: database.logger).collect()
        }
        var households: [(id: UUID, grid: Int, members: [UUID])] = []
        for row in rows {
            let (household, grid, person) = try row.decode((UUID, UUID, UUID).self)
            guard let index = gridIndex[grid] else { continue }
            if households.last?.id == household {
                households[households.count - 1].members.append(person)
            } else {
                households.append((household, index, [person]))
            }
        }
        let byGrid = Dictionary(grouping: households, by: \.grid)
        func household(_ grid: Int, _ number: Int) throws -> (id: UUID, grid: Int, members: [UUID]) {
            guard let found = byGrid[grid], found.count > number else { throw SignoffError.notFound("Demo household \(grid)/\(number)") }
            return found[number]
        }
        // The household whose points already reached the threshold before its member came back.
        let selfPaid = try household(25, 0)
        _ = try await isolation.recordInfraction(
            .init(householdID: selfPaid.id, personID: selfPaid.members.first, kind: .visitedOtherHousehold, note: "隔离期间串门"),
            by: cast.grids[25].gridWorker)

        let day = ChinaDay(containing: Self.visitsStart)
        let morning = VisitSlot(day: day, half: .morning)
        let afternoon = VisitSlot(day: day, half: .afternoon)
        // Reported changes, by (grid, household number) and half-day.
        let changes: [Int: [Int: HouseholdVisit.Change]] = [
            20: [0: .init(kind: .returned, personName: "返乡人员 陈建华", fromProvince: "湖北", fromCity: "孝感", note: "从孝感务工返乡")],
            21: [0: .init(kind: .returned, personName: "返乡人员 杨小燕", fromProvince: "广东", fromCity: "东莞")],
            22: [1: .init(kind: .returned, personName: "返乡人员 吴明", fromProvince: "重庆")],
            23: [0: .init(kind: .fever, personID: try household(23, 0).members.first, celsius: 38.2, note: "已通知卫生院")],
            24: [0: .init(kind: .departed, personID: try household(24, 0).members.last, note: "持健康证外出务工")],
            25: [0: .init(kind: .returned, personName: "返乡人员 罗志强", fromProvince: "贵州", fromCity: "毕节")],
        ]
        try await database.transaction { connection in
            for (index, entry) in cast.grids.enumerated() {
                for (number, household) in (byGrid[index] ?? []).enumerated() {
                    let finding: HouseholdVisit.Finding = if let change = changes[index]?[number] {
                        .changed(change)
                    } else if (index + number) % 9 == 4 {
                        .notAtHome
                    } else {
                        .visited
                    }
                    _ = try await visits.record(.init(householdID: household.id, slot: morning, finding: finding),
                                                by: entry.gridWorker, on: connection)
                    clock.advance(by: 20)
                }
            }
        }
        // The afternoon: two grids in three call everywhere, the others at half their households;
        // the returnee isolating at home in grid 22 gets a reading on the doorstep.
        clock.set(Self.visitsStart.addingTimeInterval(6 * 3_600))
        let isolating = try household(22, 1).id
        let returnee = try await database.withConnection { connection -> UUID? in
            let found = try await connection.query("""
                SELECT r.person_id FROM returnees r WHERE r.household_id = \(isolating)
                """, logger: database.logger)
            for try await person in found.decode(UUID.self) { return person }
            return nil
        }
        try await database.transaction { connection in
            for (index, entry) in cast.grids.enumerated() {
                let inGrid = byGrid[index] ?? []
                let calling = index % 3 == 2 ? inGrid.count / 2 : inGrid.count
                for (number, household) in inGrid.prefix(calling).enumerated() {
                    let finding: HouseholdVisit.Finding = if index == 22, number == 1, let returnee {
                        .changed(.init(kind: .fever, personID: returnee, celsius: 36.9, note: "居家隔离人员上门测温"))
                    } else {
                        .visited
                    }
                    _ = try await visits.record(.init(householdID: household.id, slot: afternoon, finding: finding),
                                                by: entry.gridWorker, on: connection)
                    clock.advance(by: 20)
                }
            }
        }
    }
}
