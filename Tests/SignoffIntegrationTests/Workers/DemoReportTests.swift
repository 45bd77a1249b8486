import Foundation
import Testing
import SignoffCore
import SignoffHTTP
@testable import SignoffStore

@Suite("The demo township reproduces the published figures", .timeLimit(.minutes(10)))
struct DemoReportTests {
    @Test func afterSeedingTheReportShowsThePublishedFiguresAndTheAuditHolds() async throws {
        let endpoint = try await TestCluster.shared.freshDatabase()
        try await Database.with(endpoint: endpoint, maxConnections: 4, logger: TestCluster.logger) { database in
            let services = SignoffServices(database: database, clock: ManualClock(TestWorld.start), accountSettings: TestWorld.accountSettings())
            let demo = DemoTownship(accounts: services.accounts, workers: services.workers)
            let result = try await demo.seed(password: "demo password")
            #expect(result.created)

            let township = try #require(try await services.organisation.units(under: nil, kind: .township).first)
            let report = try await services.reports.township(under: township.path, period: .init())
            // Published in the source: 84 grids and grid workers; 1,566 exams and certificates,
            // 303 inside Sichuan and 1,263 outside; 2 trips carrying 30 workers, 5 from poor households.
            #expect(report.grids == 84)
            #expect(report.gridWorkers == 84)
            #expect(report.exams == 1_566)
            #expect(report.certificatesIssued == 1_566)
            #expect(report.certificatesInProvince == 303)
            #expect(report.certificatesOutOfProvince == 1_263)
            #expect(report.trips == 2)
            #expect(report.workersCarried == 30)
            #expect(report.poorHouseholdWorkers == 5)

            // Vehicles: 219 agricultural passes 农用车通行证明 as published; travel passes 通行证 at
            // every stage of the chain, the effective ones with pledge released and key returned.
            #expect(report.agriculturalPassesIssued == 219)
            #expect(report.passesByState["pending"] == 5 * DemoTownship.passesPendingPerLevel)
            #expect(report.passesByState["effective"] == DemoTownship.passesEffective)
            #expect(report.passesByState["rejected"] == DemoTownship.passesRejected)
            #expect(report.pledgesReleased == DemoTownship.passesEffective)
            #expect(report.pledgesActive > 0)
            #expect(report.keysHeld > 0)
            let vehicleCount = try await database.withConnection { connection in
                let rows = try await connection.query("SELECT count(*)::int FROM vehicles", logger: database.logger)
                var count = 0
                for try await value in rows.decode(Int.self) { count = value }
                return count
            }
            #expect(report.pledgesActive + report.pledgesReleased == vehicleCount)
            #expect(report.keysHeld + DemoTownship.keysDeclined + DemoTownship.passesEffective == vehicleCount)

            // Returnees found on the day of visits, in home and in central isolation, so the
            // report's returnee figures are not all zero.
            #expect(report.returneesByIsolation["home"] == 2)
            #expect(report.returneesByIsolation["central_compulsory"] == 1)
            #expect(report.returneesByIsolation["central_self_paid"] == 1)
            let day = try #require(ChinaDay(DemoTownship.visitDay))
            let coverage = try await services.visits.coverage(of: day, under: township.path)
            #expect(coverage.count == 84)
            #expect(coverage.allSatisfy { $0.households > 0 && $0.morning == $0.households })
            #expect(coverage.filter { $0.afternoon < $0.households }.count == 28)
            #expect(coverage.reduce(0) { $0 + $1.changes } == 7)
            #expect(try await services.visits.latestDay() == day)

            // Every level of the chain has applications waiting in the administrators' summary.
            let summary = try await services.inbox.summary(in: township.path)
            for level in 1...5 {
                let waiting = summary.levels.filter { $0.level == level }.map(\.pending).reduce(0, +)
                #expect(waiting == DemoTownship.passesPendingPerLevel, "level \(level): \(summary.levels)")
            }
            #expect(summary.villages.map(\.pending).reduce(0, +) == 5 * DemoTownship.passesPendingPerLevel)

            // The facts the vehicle flows published (declined keys, passes taking effect) deliver cleanly.
            let delivery = try await services.vehicleEvents.drain()
            #expect(delivery.failed == 0)
            #expect(delivery.delivered > 0)

            let verification = try await database.withConnection { try await AuditLog.verify(on: $0, logger: database.logger) }
            #expect(verification.isIntact, "\(String(describing: verification.firstBrokenRow)) \(verification.subjectProblems.prefix(3))")
            #expect(verification.rowsChecked > 3 * 1_566)

            // Seeding again changes nothing.
            #expect(try await demo.seed(password: "demo password").created == false)
            #expect(try await services.reports.township(under: township.path, period: .init()) == report)

            // The CSV the CLI prints parses back into the same figures.
            let rows = CSV.parse(report.csv())
            #expect(rows.first?.fields == ["section", "figure", "value"])
            #expect(rows.dropFirst().allSatisfy { $0.fields.count == 3 && Int($0.fields[2]) != nil })
            let values = Dictionary(rows.dropFirst().map { ($0.fields[1], Int($0.fields[2]) ?? -1) }, uniquingKeysWith: { $1 })
            #expect(values["体检 exams"] == 1_566)
            #expect(values["省内 inside Sichuan"] == 303)
            #expect(values["省外 outside Sichuan"] == 1_263)
            #expect(values["务工人员 workers carried"] == 30)
            #expect(report.table().contains("1566"))

            // The service starting today sends nothing for the demo's 2020 history: its due
            // timers and published facts are all older than stale_after_hours.
            let today = SignoffServices(database: database, clock: SignoffCore.SystemWallClock(),
                                        accountSettings: TestWorld.accountSettings())
            let first = try await today.notificationWorker.runOnce()
            #expect(first.timers.fired == 0)
            #expect(first.timers.stale > 0)
            #expect(first.notifications.notices == 0)
            #expect(first.notifications.skipped > 0)
            let notices = try await database.withConnection { connection in
                let rows = try await connection.query("SELECT count(*)::int FROM notifications", logger: database.logger)
                var count = -1
                for try await value in rows.decode(Int.self) { count = value }
                return count
            }
            #expect(notices == 0)
        }
    }

    @Test func csvQuotesFieldsThatNeedIt() throws {
        var report = TownshipReport(
            unitPath: "x", unitName: "x", period: .init(), grids: 1, gridWorkers: 1, households: 0, poorHouseholds: 0,
            pledgesActive: 0, pledgesReleased: 0, keysHeld: 0, passesByState: ["odd, \"state\"": 2], agriculturalPassesIssued: 0,
            exams: 0, certificatesIssued: 0, certificatesInProvince: 0, certificatesOutOfProvince: 0, trips: 0,
            workersCarried: 0, poorHouseholdWorkers: 0, returneesByIsolation: [:])
        report.grids = 7
        let rows = CSV.parse(report.csv())
        #expect(rows.contains { $0.fields == ["通行证 travel passes", "odd, \"state\"", "2"] })
        #expect(rows.contains { $0.fields == ["网格 grids", "网格 grids", "7"] })
        #expect(rows.allSatisfy { $0.fields.count == 3 })
    }
}
