import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SignoffCore
import SignoffStore

/// The township office's pages: 待办总览 (everything pending, by level, village and group, with
/// its age against each level's limit) and 乡镇报表 (the township report as SVG charts), each
/// with a CSV download of the same filtered table.
struct AdminPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var services: SignoffServices { self.app.services }
    var queries: AdminQueries { AdminQueries(database: self.services.database, clock: self.app.clock) }

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/admin") { request, context in try await self.pendingPage(request, context) }
        group.get("/admin/pending.csv") { request, context in try await self.pendingCSV(request, context) }
        group.get("/admin/report") { request, context in try await self.reportPage(request, context) }
        group.get("/admin/report.csv") { request, context in try await self.reportCSV(request, context) }
    }

    /// The administrator's widest unit; anyone else is refused with the role it needs.
    static func adminScope(_ actor: Principal) throws -> UnitPath {
        let scopes = actor.assignments.filter { $0.role == .admin }.map(\.unitPath)
        guard let widest = scopes.min(by: { $0.labels.count < $1.labels.count }) else {
            throw SignoffError(.forbiddenRole, "This needs the role 乡政府办公室 (admin).")
        }
        return widest
    }

    static func query(_ request: Request, _ name: String) -> String? {
        guard let value = request.uri.queryParameters[Substring(name)].map(String.init)?
            .trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    // MARK: 待办总览

    struct PendingQuery {
        var level: Int?
        var unit: UnitPath?
        var age: PendingAge?
        var overdueOnly: Bool
        var plate: String

        init(_ request: Request, scope: UnitPath) throws {
            if let text = AdminPages.query(request, "level") {
                guard let level = Int(text), (1...9).contains(level) else {
                    throw SignoffError.invalidValue("level", "‘level’ is a level of the chain, 1 to 5.")
                }
                self.level = level
            }
            if let text = AdminPages.query(request, "unit") {
                guard let path = try? UnitPath(text), scope.contains(path) else {
                    throw SignoffError.invalidValue("unit", "‘unit’ is a unit inside your own.")
                }
                self.unit = path
            }
            if let text = AdminPages.query(request, "age") {
                guard let age = PendingAge(rawValue: text) else { throw SignoffError.invalidValue("age", "‘age’ is fresh, warning or overdue.") }
                self.age = age
            }
            self.overdueOnly = AdminPages.query(request, "overdue") == "1" || self.age == .overdue
            // As plates are stored: upper case, no blanks ("川q 77001" finds 川Q77001).
            self.plate = String((AdminPages.query(request, "plate") ?? "").uppercased().filter { !$0.isWhitespace })
        }

        /// The same filter as a query string, for the CSV link and the opened items.
        var queryString: String {
            var parts: [String] = []
            func add(_ name: String, _ value: String) {
                parts.append(name + "=" + (value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            }
            if let level { add("level", String(level)) }
            if let unit { add("unit", unit.description) }
            if let age { add("age", age.rawValue) }
            if self.overdueOnly { add("overdue", "1") }
            if !self.plate.isEmpty { add("plate", self.plate) }
            return parts.joined(separator: "&")
        }
    }

    struct PendingRow {
        var id: String
        var plate: String
        var village: String
        var group: String
        var grid: String
        var level: Int
        var roleName: String
        var waited: String
        var waitedHours: Int
        var since: String
        var due: String
        var age: String
        var ageText: String
        var overdue: Bool
        /// 已转交给 X, after a 转交.
        var assigned: String = ""
    }

    /// Everything pending that matches the filter, oldest first (at most `cap`), with a flag when cut.
    /// The page shows the oldest `pageCap` items (the matrix above counts them all; the CSV holds every one).
    static let pageCap = 100

    func pendingRows(_ query: PendingQuery, scope: UnitPath, names: [String: String], cap: Int = AdminPages.pageCap) async throws -> ([PendingRow], Bool) {
        let now = self.app.clock.now()
        let filter = PendingFilter(level: query.level, unitPath: query.unit, overdue: query.overdueOnly ? true : nil,
                                   age: query.age, plate: query.plate.isEmpty ? nil : query.plate)
        var rows: [PendingRow] = []
        var cursor: String?
        var truncated = false
        repeat {
            let page = try await self.services.inbox.pending(in: scope, filter: filter, cursor: cursor, limit: min(cap, 200))
            for item in page.items {
                let age = PendingAge.of(pendingSince: item.pendingSince, dueAt: item.dueAt, now: now)
                guard rows.count < cap else { truncated = true; break }
                let labels = item.unitPath.labels
                func name(_ count: Int) -> String {
                    guard labels.count >= count else { return "" }
                    let path = labels.prefix(count).joined(separator: ".")
                    return names[path] ?? path
                }
                let level = item.application.pendingLevel
                rows.append(PendingRow(
                    id: item.id.uuidString.lowercased(), plate: item.application.plate.text, village: name(2), group: name(3),
                    grid: name(4), level: level?.level ?? 0, roleName: level?.role.chineseName ?? "",
                    waited: WebText.duration(now.timeIntervalSince(item.pendingSince)),
                    waitedHours: Int(now.timeIntervalSince(item.pendingSince) / 3_600),
                    since: WebText.time(item.pendingSince), due: WebText.time(item.dueAt), age: age.rawValue, ageText: age.chineseName,
                    overdue: age == .overdue, assigned: item.application.pendingReassignment.map { "已转交给 \($0.to.name)" } ?? ""))
            }
            cursor = page.nextCursor
            if rows.count >= cap, cursor != nil { truncated = true }
        } while cursor != nil && !truncated
        return (rows, truncated)
    }

    struct Option {
        var value: String
        var label: String
        var selected: Bool
    }

    struct MatrixCell {
        var pending: Int
        var overdue: Int
        var hasPending: Bool
        var hasOverdue: Bool
        var link: String
    }

    struct MatrixRow {
        var name: String
        var isGroup: Bool
        var cells: [MatrixCell]
        var total: Int
        var totalOverdue: Int
        var hasTotalOverdue: Bool
    }

    func pendingPage(_ request: Request, _ context: WebContext) async throws -> Response {
        let scope = try Self.adminScope(context.actor)
        let query = try PendingQuery(request, scope: scope)
        let units = try await self.services.organisation.units(under: scope)
        let names = Dictionary(units.map { ($0.path.description, $0.name) }, uniquingKeysWith: { first, _ in first })
        let policy = try self.services.policies.vehiclePolicy()
        let cells = try await self.queries.pendingCells(in: scope)
        let (rows, truncated) = try await self.pendingRows(query, scope: scope, names: names)

        let levels = policy.chain.map(\.level)
        func matrixCells(_ matching: [PendingCell], unit: String) -> [MatrixCell] {
            levels.map { level in
                let pending = matching.filter { $0.level == level }.reduce(0) { $0 + $1.pending }
                let overdue = matching.filter { $0.level == level }.reduce(0) { $0 + $1.overdue }
                let encoded = unit.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                return MatrixCell(pending: pending, overdue: overdue, hasPending: pending > 0, hasOverdue: overdue > 0,
                                  link: "/app/admin?level=\(level)&unit=\(encoded)\(overdue > 0 ? "&overdue=1" : "")")
            }
        }
        var matrix: [MatrixRow] = []
        let villages = Dictionary(grouping: cells, by: \.villagePath)
        for village in villages.keys.sorted() {
            let inVillage = villages[village] ?? []
            matrix.append(MatrixRow(name: inVillage.first?.villageName ?? village, isGroup: false,
                                    cells: matrixCells(inVillage, unit: village),
                                    total: inVillage.reduce(0) { $0 + $1.pending }, totalOverdue: inVillage.reduce(0) { $0 + $1.overdue },
                                    hasTotalOverdue: inVillage.contains { $0.overdue > 0 }))
            let groups = Dictionary(grouping: inVillage, by: \.groupPath)
            for group in groups.keys.sorted() {
                let inGroup = groups[group] ?? []
                matrix.append(MatrixRow(name: inGroup.first?.groupName ?? group, isGroup: true, cells: matrixCells(inGroup, unit: group),
                                        total: inGroup.reduce(0) { $0 + $1.pending }, totalOverdue: inGroup.reduce(0) { $0 + $1.overdue },
                                        hasTotalOverdue: inGroup.contains { $0.overdue > 0 }))
            }
        }
        let levelHeads: [[String: Any]] = policy.chain.map { level in
            // The level heads and totals add up the village × group × level cells: one pass over
            // the pending rows instead of three (docs/performance.md).
            let counted = cells.filter { $0.level == level.level }
            return [
                "level": level.level, "role": level.role.chineseName, "limit": "\(level.limitHours)小时",
                "pending": counted.reduce(0) { $0 + $1.pending }, "overdue": counted.reduce(0) { $0 + $1.overdue },
            ]
        }
        let levelOptions = [Option(value: "", label: "全部级别", selected: query.level == nil)] + policy.chain.map {
            Option(value: String($0.level), label: "第\($0.level)级 \($0.role.chineseName)", selected: query.level == $0.level)
        }
        let unitOptions = [Option(value: "", label: "全乡", selected: query.unit == nil)] + units
            .filter { $0.kind == .village || $0.kind == .group }
            .map { unit in
                Option(value: unit.path.description, label: unit.kind == .group ? "　" + unit.name : unit.name,
                       selected: query.unit == unit.path)
            }
        let ageOptions = [Option(value: "", label: "全部", selected: query.age == nil)] + PendingAge.allCases.map {
            Option(value: $0.rawValue, label: $0.chineseName, selected: query.age == $0)
        }
        let queryString = query.queryString
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "待办总览", back: "/app"),
            "total": cells.reduce(0) { $0 + $1.pending },
            "overdue": cells.reduce(0) { $0 + $1.overdue },
            "levelHeads": levelHeads, "matrix": matrix, "hasMatrix": !matrix.isEmpty,
            "levelOptions": levelOptions, "unitOptions": unitOptions, "ageOptions": ageOptions,
            "overdueOnly": query.overdueOnly, "plate": query.plate,
            "rows": rows, "shown": rows.count, "hasRows": !rows.isEmpty, "truncated": truncated,
            "csvLink": "/app/admin/pending.csv" + (queryString.isEmpty ? "" : "?" + queryString),
            "filtered": !queryString.isEmpty,
        ]
        return self.renderer.page("admin_pending", model)
    }

    func pendingCSV(_ request: Request, _ context: WebContext) async throws -> Response {
        let scope = try Self.adminScope(context.actor)
        let query = try PendingQuery(request, scope: scope)
        let units = try await self.services.organisation.units(under: scope)
        let names = Dictionary(units.map { ($0.path.description, $0.name) }, uniquingKeysWith: { first, _ in first })
        let (rows, _) = try await self.pendingRows(query, scope: scope, names: names, cap: 100_000)
        var lines = [["通行证ID", "车牌", "村", "组", "网格", "级别", "待签角色", "等待小时", "待签起始", "时限", "状态"]]
        for row in rows {
            lines.append([row.id, row.plate, row.village, row.group, row.grid, String(row.level), row.roleName,
                          String(row.waitedHours), row.since, row.due, row.ageText])
        }
        return Self.csv(lines, filename: "pending.csv")
    }

    /// RFC 4180 with a BOM (so spreadsheet programs read UTF-8); a field that a spreadsheet would
    /// take as a formula starts with an apostrophe.
    static func csv(_ lines: [[String]], filename: String) -> Response {
        func escape(_ field: String) -> String {
            var field = field
            if let first = field.first, "=+-@".contains(first) { field = "'" + field }
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        let text = "\u{FEFF}" + lines.map { $0.map(escape).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        return Response(status: .ok,
                        headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                  .contentDisposition: "attachment; filename=\"\(filename)\""],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: 乡镇报表

    struct ReportQuery {
        var from: String
        var to: String
        var unit: UnitPath
        var period: TownshipReport.Period

        init(_ request: Request, scope: UnitPath) throws {
            self.from = AdminPages.query(request, "from") ?? ""
            self.to = AdminPages.query(request, "to") ?? ""
            self.period = try TownshipReport.Period.parse(from: self.from.isEmpty ? nil : self.from, to: self.to.isEmpty ? nil : self.to)
            if let text = AdminPages.query(request, "unit") {
                guard let path = try? UnitPath(text), scope.contains(path) else {
                    throw SignoffError.invalidValue("unit", "‘unit’ is a unit inside your own.")
                }
                self.unit = path
            } else {
                self.unit = scope
            }
        }

        var queryString: String {
            var parts: [String] = []
            if !self.from.isEmpty { parts.append("from=" + self.from) }
            if !self.to.isEmpty { parts.append("to=" + self.to) }
            parts.append("unit=" + (self.unit.description.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            return parts.joined(separator: "&")
        }
    }

    struct Figure {
        var label: String
        var value: Int
    }

    struct FigureGroup {
        var title: String
        var figures: [Figure]
    }

    func reportPage(_ request: Request, _ context: WebContext) async throws -> Response {
        let scope = try Self.adminScope(context.actor)
        let query = try ReportQuery(request, scope: scope)
        let report = try await self.services.reports.township(under: query.unit, period: query.period)
        let villages = try await self.services.organisation.units(under: query.unit, kind: .village)
        var perVillage: [(OrgUnit, TownshipReport)] = []
        for village in villages {
            perVillage.append((village, try await self.services.reports.township(under: village.path, period: query.period)))
        }
        let signed = try await self.queries.signedPerDay(under: query.unit, from: query.period.from, to: query.period.to)

        let groups = Self.figureGroups(report)
        let charts: [SVGChart.Bars] = [
            .init(id: "certificates", title: "健康证 各村发证（共\(report.certificatesIssued)张）",
                  bars: perVillage.map { .init(label: $0.0.name, value: $0.1.certificatesIssued) }),
            .init(id: "scope", title: "健康证 目的地",
                  bars: [.init(label: "体检", value: report.exams), .init(label: "发证", value: report.certificatesIssued),
                         .init(label: "省内", value: report.certificatesInProvince), .init(label: "省外", value: report.certificatesOutOfProvince)]),
            .init(id: "agricultural", title: "农用车通行证明 各村（共\(report.agriculturalPassesIssued)张）",
                  bars: perVillage.map { .init(label: $0.0.name, value: $0.1.agriculturalPassesIssued) }),
            .init(id: "transport", title: "定向运输",
                  bars: [.init(label: "车次", value: report.trips), .init(label: "务工人员", value: report.workersCarried),
                         .init(label: "贫困户务工人员", value: report.poorHouseholdWorkers)]),
            .init(id: "grids", title: "各村网格（共\(report.grids)个）",
                  bars: perVillage.map { .init(label: $0.0.name, value: $0.1.grids) }),
            .init(id: "keys", title: "钥匙代管 各村代管中（共\(report.keysHeld)把）",
                  bars: perVillage.map { .init(label: $0.0.name, value: $0.1.keysHeld) }),
        ]
        let unitOptions = [Option(value: scope.description, label: "全乡", selected: query.unit == scope)]
            + (try await self.services.organisation.units(under: scope, kind: .village)).map {
            Option(value: $0.path.description, label: $0.name, selected: query.unit == $0.path)
        }
        let line = SVGChart.Line(id: "signed", title: "通行证 每日签字", points: signed.map { .init(label: $0.day, value: $0.count) })
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "乡镇报表", back: "/app"),
            "unitName": report.unitName, "periodText": Self.periodText(query),
            "from": query.from, "to": query.to, "unitOptions": unitOptions,
            "groups": groups, "charts": charts.map { $0.layout() }, "line": line.layout(), "hasLine": !signed.isEmpty,
            "csvLink": "/app/admin/report.csv?" + query.queryString,
        ]
        return self.renderer.page("admin_report", model)
    }

    func reportCSV(_ request: Request, _ context: WebContext) async throws -> Response {
        let scope = try Self.adminScope(context.actor)
        let query = try ReportQuery(request, scope: scope)
        let report = try await self.services.reports.township(under: query.unit, period: query.period)
        var lines = [["分类", "指标", "数值"]]
        for group in Self.figureGroups(report) {
            for figure in group.figures { lines.append([group.title, figure.label, String(figure.value)]) }
        }
        return Self.csv(lines, filename: "township-report.csv")
    }

    static func periodText(_ query: ReportQuery) -> String {
        switch (query.from.isEmpty, query.to.isEmpty) {
        case (true, true): "全部时间"
        case (false, true): "\(query.from) 起"
        case (true, false): "至 \(query.to)"
        case (false, false): "\(query.from) 至 \(query.to)"
        }
    }

    static func figureGroups(_ report: TownshipReport) -> [FigureGroup] {
        let passes = report.passesByState
        let returnees = report.returneesByIsolation
        return [
            FigureGroup(title: "网格", figures: [
                .init(label: "网格", value: report.grids), .init(label: "网格员", value: report.gridWorkers),
                .init(label: "户", value: report.households), .init(label: "贫困户", value: report.poorHouseholds),
            ]),
            FigureGroup(title: "停放承诺书与钥匙代管", figures: [
                .init(label: "停放中", value: report.pledgesActive), .init(label: "已解除", value: report.pledgesReleased),
                .init(label: "钥匙代管中", value: report.keysHeld),
            ]),
            FigureGroup(title: "通行证", figures: [
                .init(label: "审批中", value: passes["pending"] ?? 0), .init(label: "已生效", value: passes["effective"] ?? 0),
                .init(label: "已退回", value: passes["rejected"] ?? 0), .init(label: "已撤回", value: passes["withdrawn"] ?? 0),
            ]),
            FigureGroup(title: "农用车通行证明", figures: [.init(label: "已开具", value: report.agriculturalPassesIssued)]),
            FigureGroup(title: "健康证", figures: [
                .init(label: "体检", value: report.exams), .init(label: "发证", value: report.certificatesIssued),
                .init(label: "省内", value: report.certificatesInProvince), .init(label: "省外", value: report.certificatesOutOfProvince),
            ]),
            FigureGroup(title: "定向运输", figures: [
                .init(label: "车次", value: report.trips), .init(label: "务工人员", value: report.workersCarried),
                .init(label: "贫困户务工人员", value: report.poorHouseholdWorkers),
            ]),
            FigureGroup(title: "返乡人员", figures: [
                .init(label: "居家隔离", value: returnees["home"] ?? 0),
                .init(label: "集中强制隔离", value: returnees["central_compulsory"] ?? 0),
                .init(label: "自费集中隔离", value: returnees["central_self_paid"] ?? 0),
            ]),
        ]
    }
}
