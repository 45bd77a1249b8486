import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SignoffCore
import SignoffStore

/// The township office's pages as the router serves them: 待办总览 and its CSV follow the same
/// filter, 乡镇报表 draws its charts, bad filters get Chinese pages, other roles are refused.
@Suite("Web app: administrators' pages", .timeLimit(.minutes(2)))
struct AdminWebTests {
    @Test func pendingOverviewAndItsCSVFollowTheFilter() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q 77001", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let session = try await client.webLogin("admin")

            let all = try await client.page("/app/admin", session)
            #expect(all.status == .ok)
            #expect(all.text.contains("川Q77001"))
            #expect(all.text.contains("/app/passes/\(pass.uuidString.lowercased())"))
            #expect(all.text.contains("第1级 · 待网格员签字"))
            #expect(!all.text.contains("{{"))
            let level2 = try await client.page("/app/admin?level=2", session)
            #expect(level2.status == .ok)
            #expect(!level2.text.contains("川Q77001"))

            let csv = try await client.page("/app/admin/pending.csv?level=1", session)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.count == 2)
            #expect(lines.last?.contains("川Q77001") == true)
            let none = try await client.page("/app/admin/pending.csv?level=2", session)
            #expect(none.text.split(separator: "\r\n").count == 1)

            // The plate filter matches part of a plate, in any case and with blanks, in SQL.
            for typed in ["77001", "q77", "%E5%B7%9Dq%2077001"] {
                #expect(try await client.page("/app/admin?plate=\(typed)", session).text.contains("/app/passes/\(pass.uuidString.lowercased())"),
                        "plate \(typed)")
            }
            #expect(!(try await client.page("/app/admin?plate=77009", session).text.contains("川Q77001")))
            #expect(!(try await client.page("/app/admin?plate=%25", session).text.contains("川Q77001")))
            // The age bands: fresh, then past half the 24-hour limit a warning, then overdue.
            func shown(_ age: String) async throws -> Bool {
                try await client.page("/app/admin?age=\(age)", session).text.contains("/app/passes/\(pass.uuidString.lowercased())")
            }
            let bands = (fresh: try await shown("fresh"), warning: try await shown("warning"), overdue: try await shown("overdue"))
            #expect(bands.fresh && !bands.warning && !bands.overdue)
            world.clock.advance(by: 13 * 3600)
            let warned = try await client.webLogin("admin")
            #expect(try await client.page("/app/admin?age=warning", warned).text.contains("川Q77001"))
            #expect(!(try await client.page("/app/admin?age=fresh", warned).text.contains("川Q77001")))
            world.clock.advance(by: 12 * 3600)
            let late = try await client.webLogin("admin")
            #expect(try await client.page("/app/admin?age=overdue", late).text.contains("川Q77001"))
            #expect(!(try await client.page("/app/admin?age=warning", late).text.contains("川Q77001")))
            #expect(try await client.page("/app/admin/pending.csv?age=overdue&plate=77001", late).text.contains("川Q77001"))

            let bad = try await client.page("/app/admin?level=abc", late)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("无法完成"))
            let outside = try await client.page("/app/admin?unit=elsewhere", late)
            #expect(outside.status == .unprocessableContent)
        }
    }

    @Test func theReportDrawsItsChartsAndOthersAreRefused() async throws {
        try await TestWorld.with { _, client in
            let admin = try await client.webLogin("admin")
            let report = try await client.page("/app/admin/report", admin)
            #expect(report.status == .ok)
            #expect(report.text.contains("<svg class=\"chart-svg\""))
            #expect(report.text.contains("健康证 目的地"))
            #expect(!report.text.contains("{{"))
            let csv = try await client.page("/app/admin/report.csv", admin)
            #expect(csv.text.contains("健康证,省外,0"))
            let badDate = try await client.page("/app/admin/report?from=2020-02-30x", admin)
            #expect(badDate.status == .unprocessableContent)

            let gridWorker = try await client.webLogin("gw1")
            for path in ["/app/admin", "/app/admin/report", "/app/admin/pending.csv", "/app/admin/users"] {
                let refused = try await client.page(path, gridWorker)
                #expect(refused.status == .forbidden, "\(path)")
                #expect(refused.text.contains("无权办理"), "\(path)")
            }
        }
    }
}
