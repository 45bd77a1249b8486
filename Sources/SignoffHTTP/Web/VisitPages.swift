import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// 上下午走访: the grid worker's list of today's households on the home screen, each with a
/// morning and an afternoon visit to record (through the outbox, so a tap offline is kept and
/// sent once), and the township office's coverage per grid with the households not visited yet.
struct VisitPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var services: SignoffServices { self.app.services }

    func addRoutes(to group: RouterGroup<WebContext>) {
        // The same list as the home screen, under the service worker's scope (/app/), so a phone
        // keeps it for working offline.
        group.get("/visits") { request, context in
            let model: [String: Any] = [
                "chrome": try await self.app.chrome(context, title: "今日走访", back: "/app"),
                "visits": try await self.todayModel(context, done: request.uri.queryParameters["done"].map(String.init)),
            ]
            return self.renderer.page("visits", model)
        }
        group.post("/visits") { request, context in try await self.record(request, context) }
        group.get("/admin/visits") { request, context in try await self.coverage(request, context) }
        group.get("/admin/visits/coverage.csv") { request, context in try await self.coverageCSV(request, context) }
        group.get("/admin/visits/unvisited.csv") { request, context in try await self.unvisitedCSV(request, context) }
    }

    // MARK: Recording

    /// What the visit's stored response says (kept with the Idempotency-Key): where the worker goes next.
    struct VisitView: Encodable {
        var id: UUID
        var householdID: UUID
        var slot: String
        var state: String
        var followUpID: UUID?
        var location: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id
            case householdID = "household_id"
            case slot
            case state
            case followUpID = "follow_up_id"
            case location
        }
    }

    /// Where a recorded visit leads: the returnee's record it opened (or the registration form,
    /// prefilled, when the origin was not given), the isolation that got the reading, or back to
    /// the household on the list.
    static func location(_ visit: HouseholdVisit) -> String {
        func back(_ done: String) -> String { "/app/visits?done=\(done)#h-\(visit.householdID.uuidString.lowercased())" }
        guard visit.state == .changed, let change = visit.change else {
            return back(visit.state == .notAtHome ? "visit_absent" : "visit")
        }
        switch change.kind {
        case .returned:
            if let followUp = change.followUp { return "/app/returnees/\(followUp.id.uuidString.lowercased())?done=registered" }
            var query = ["household_id=\(visit.householdID.uuidString.lowercased())"]
            if let person = change.personID { query.append("person_id=\(person.uuidString.lowercased())") }
            if let name = change.personName, let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
                query.append("name=\(encoded)")
            }
            return "/app/returnees/new?" + query.joined(separator: "&")
        case .fever:
            if let followUp = change.followUp {
                let fever = (change.celsius ?? 0) >= visit.feverCelsius
                return "/app/returnees/\(followUp.id.uuidString.lowercased())?done=\(fever ? "fever" : "reading")"
            }
            return back("visit_fever")
        case .departed:
            return back("visit_change")
        }
    }

    static func render() -> TransitionStore.Render<HouseholdVisit> {
        { transitioned in
            let visit = transitioned.stored.machine
            return StoredResponse(status: 201, body: try JSONBody.data(VisitView(
                id: transitioned.stored.id, householdID: visit.householdID, slot: visit.slot, state: visit.stateName,
                followUpID: visit.change?.followUp?.id, location: Self.location(visit))))
        }
    }

    func record(_ request: Request, _ context: WebContext) async throws -> Response {
        try await FieldPages(app: self.app).act(request, context, fallback: "/app/visits", replayKey: "location") { form, metadata in
            let household = try form.uuid("household_id")
            let slot: VisitSlot? = try form.text("slot").map { label in
                guard let slot = VisitSlot(label: label) else { throw SignoffError.invalidValue("slot", "Not a half-day such as 2020-02-20 am.") }
                return slot
            }
            let finding: HouseholdVisit.Finding
            switch form.text("outcome") {
            case HouseholdVisit.State.visited.rawValue: finding = .visited
            case HouseholdVisit.State.notAtHome.rawValue: finding = .notAtHome
            case HouseholdVisit.State.changed.rawValue:
                guard let kind = form.text("change").flatMap(HouseholdVisit.ChangeKind.init(rawValue:)) else {
                    throw SignoffError.invalidValue("change", "Choose what changed.")
                }
                var celsius: Double?
                if let text = form.text("celsius")?.replacingOccurrences(of: "，", with: ".") {
                    guard let value = Double(text) else { throw SignoffError.invalidValue("celsius", "Give the temperature in °C, such as 37.8.") }
                    celsius = value
                }
                finding = .changed(.init(
                    kind: kind, personID: form.text("person_id").flatMap(UUID.init(uuidString:)), personName: form.text("person_name"),
                    fromProvince: form.text("from_province"), fromCity: form.text("from_city"), celsius: celsius, note: form.text("note")))
            default:
                throw SignoffError.invalidValue("outcome", "Choose 已走访, 不在家 or 有变化.")
            }
            let outcome = try await self.services.visits.record(
                .init(householdID: household, slot: slot, finding: finding), by: context.actor, metadata: metadata, render: Self.render())
            return FieldPages.location(outcome) { Self.location($0.stored.machine) }
        }
    }

    // MARK: The grid worker's list

    static let doneText: [String: (kind: String, text: String)] = [
        "visit": ("ok", "已记录走访。"), "visit_absent": ("ok", "已记录：不在家。本半天内可再次走访。"),
        "visit_change": ("ok", "已记录变化。"), "visit_fever": ("error", "已记录发热，已立即通知网格员和卫生院！"),
    ]

    /// The model of the home screen's 今日走访 for a grid worker.
    func todayModel(_ context: WebContext, done: String?) async throws -> [String: Any] {
        let paths = context.actor.assignments.filter { $0.role == .gridWorker }.map(\.unitPath)
        // Only a grid worker has a list: anyone else is told so, as the other field pages do.
        guard !paths.isEmpty else { throw SignoffError(.forbiddenRole, "The daily visits need the role 网格员 (grid worker).") }
        let now = self.app.clock.now()
        let today = ChinaDay(containing: now)
        let households = try await self.services.visits.day(today, under: paths)
        let current = VisitSlot(containing: now)
        let halves = VisitSlot.both(of: today).map { slot -> [String: Any] in
            // Any call counts, as in the office's coverage: the worker was at the door.
            let done = households.filter { $0.visit(slot.half) != nil }.count
            return ["name": slot.half.chineseName, "done": done, "total": households.count]
        }
        let rows = households.map { household -> [String: Any] in
            let slots = VisitSlot.both(of: today).map { slot -> [String: Any] in
                let visit = household.visit(slot.half)
                let begun = slot.start <= now
                let open = begun && (visit == nil || visit?.state == .notAtHome)
                return [
                    "name": slot.half.chineseName, "slot": slot.label, "key": WebApp.newKey(), "changeKey": WebApp.newKey(),
                    "recorded": visit != nil, "state": visit?.state.rawValue ?? "", "stateText": visit?.state.chineseName ?? "",
                    "open": open, "again": visit?.state == .notAtHome, "notYet": !begun,
                    "current": slot == current,
                ]
            }
            return [
                "id": household.householdID.uuidString.lowercased(), "code": household.code, "head": household.headName,
                "poor": household.poor, "grid": household.gridName, "slots": slots,
                "members": household.members.map { ["id": $0.id.uuidString.lowercased(), "name": $0.name] },
            ]
        }
        let notice = done.flatMap { Self.doneText[$0] }
        return [
            "day": today.chineseName, "halves": halves, "households": rows, "empty": rows.isEmpty,
            "hasNotice": notice != nil, "notice": ["kind": notice?.kind ?? "", "text": notice?.text ?? ""],
        ]
    }

    // MARK: The township office

    func scopeAndDay(_ request: Request, _ context: WebContext) throws -> (UnitPath, ChinaDay, Date) {
        let scope = try AdminPages.adminScope(context.actor)
        let now = self.app.clock.now()
        let day: ChinaDay
        if let text = AdminPages.query(request, "day") {
            guard let parsed = ChinaDay(text) else { throw SignoffError.invalidValue("day", "Give a day such as 2020-02-20.") }
            day = parsed
        } else {
            day = ChinaDay(containing: now)
        }
        return (scope, day, now)
    }

    func coverage(_ request: Request, _ context: WebContext) async throws -> Response {
        let (scope, day, now) = try self.scopeAndDay(request, context)
        let grids = try await self.services.visits.coverage(of: day, under: scope)
        let (missing, unvisited) = try await self.services.visits.unvisited(on: day, under: scope, asOf: now, limit: 200)
        let households = grids.reduce(0) { $0 + $1.households }
        let morning = grids.reduce(0) { $0 + $1.morning }
        let afternoon = grids.reduce(0) { $0 + $1.afternoon }
        let today = ChinaDay(containing: now)
        let latest = try await self.services.visits.latestDay()
        func percent(_ part: Int, _ whole: Int) -> Int { whole == 0 ? 0 : part * 100 / whole }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "走访覆盖", back: "/app"),
            "day": day.text, "dayName": day.chineseName, "isToday": day == today,
            "previous": day.adding(days: -1).text, "next": day < today ? day.adding(days: 1).text : "",
            "asOf": WebText.time(now),
            "households": households, "morning": morning, "afternoon": afternoon,
            "morningPercent": percent(morning, households), "afternoonPercent": percent(afternoon, households),
            "grids": grids.map { grid -> [String: Any] in
                [
                    "name": grid.gridName, "group": grid.groupName, "village": grid.villageName, "households": grid.households,
                    "morning": grid.morning, "afternoon": grid.afternoon, "notAtHome": grid.notAtHome, "changes": grid.changes,
                    "morningFull": grid.households > 0 && grid.morning == grid.households,
                    "afternoonFull": grid.households > 0 && grid.afternoon == grid.households,
                    "morningPercent": percent(grid.morning, grid.households), "afternoonPercent": percent(grid.afternoon, grid.households),
                ]
            },
            "missing": missing, "hasMissing": missing > 0, "shown": unvisited.count, "more": missing > unvisited.count,
            "unvisited": unvisited.map { row -> [String: Any] in
                [
                    "code": row.code, "head": row.headName, "grid": row.gridName, "group": row.groupName, "village": row.villageName,
                    "halves": [row.missingMorning ? "上午" : nil, row.missingAfternoon ? "下午" : nil].compactMap { $0 }.joined(separator: "、"),
                ]
            },
            "latest": latest.map { $0 != day ? $0.text : "" } ?? "", "latestName": latest?.chineseName ?? "",
            "nothingYet": morning + afternoon == 0,
        ]
        return self.renderer.page("admin_visits", model)
    }

    func coverageCSV(_ request: Request, _ context: WebContext) async throws -> Response {
        let (scope, day, _) = try self.scopeAndDay(request, context)
        let grids = try await self.services.visits.coverage(of: day, under: scope)
        var lines = [["日期", "村", "组", "网格", "户数", "上午已走访", "下午已走访", "不在家", "有变化"]]
        for grid in grids {
            lines.append([day.text, grid.villageName, grid.groupName, grid.gridName, String(grid.households), String(grid.morning),
                          String(grid.afternoon), String(grid.notAtHome), String(grid.changes)])
        }
        return AdminPages.csv(lines, filename: "visits-coverage-\(day.text).csv")
    }

    func unvisitedCSV(_ request: Request, _ context: WebContext) async throws -> Response {
        let (scope, day, now) = try self.scopeAndDay(request, context)
        let (_, unvisited) = try await self.services.visits.unvisited(on: day, under: scope, asOf: now, limit: 100_000)
        var lines = [["日期", "截至", "村", "组", "网格", "户", "户主", "上午未走访", "下午未走访"]]
        for row in unvisited {
            lines.append([day.text, WebText.time(now), row.villageName, row.groupName, row.gridName, row.code, row.headName,
                          row.missingMorning ? "是" : "", row.missingAfternoon ? "是" : ""])
        }
        return AdminPages.csv(lines, filename: "visits-unvisited-\(day.text).csv")
    }
}
