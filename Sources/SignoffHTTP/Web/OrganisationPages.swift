import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// 组织机构 (`/app/admin/units`): the unit tree (township → villages → groups → grids) with the
/// users and households of each unit, and a township CSV imported by upload: a preview of what
/// will be created, the wrong lines named with their numbers, then all rows or none.
struct OrganisationPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var organisation: OrganisationStore { OrganisationStore(database: self.app.services.database) }

    /// The CSV limit of the API (`POST /units/import`).
    static let maxUpload = 4 * 1024 * 1024

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/admin/units") { request, context in try await self.tree(request, context) }
        group.post("/admin/units/import") { request, context in try await self.preview(request, context) }
        group.post("/admin/units/import/confirm") { request, context in try await self.confirm(request, context) }
    }

    struct Node {
        var name: String
        var code: String
        var kind: String
        var users: Int
        var usersBelow: Int
        var households: Int
        var children: [Node]
        var hasChildren: Bool
    }

    func tree(_ request: Request, _ context: WebContext) async throws -> Response {
        let scope = try AdminPages.adminScope(context.actor)
        let entries = try await self.organisation.tree(under: scope)
        func node(_ entry: UnitTreeEntry) -> Node {
            let children = entries.filter { $0.unit.parentID == entry.unit.id }.map(node)
            return Node(name: entry.unit.name, code: entry.unit.code, kind: entry.unit.kind.chineseName, users: entry.users,
                        usersBelow: entry.usersBelow, households: entry.households, children: children, hasChildren: !children.isEmpty)
        }
        let root = entries.first.map(node)
        let counts = Dictionary(grouping: entries, by: \.unit.kind).mapValues(\.count)
        var notice = ""
        if let done = AdminPages.query(request, "imported") {
            let numbers = done.split(separator: ",").compactMap { Int($0) }
            if numbers.count == 3 {
                notice = "导入完成：新建单位\(numbers[0])个、户\(numbers[1])户、人员\(numbers[2])人。"
            }
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "组织机构", back: "/app"),
            "root": root.map { [$0] } ?? [], "hasRoot": root != nil,
            "villages": counts[.village] ?? 0, "groups": counts[.group] ?? 0, "grids": counts[.grid] ?? 0,
            "notice": notice, "canImport": try await self.importScope(context) != nil,
        ]
        return self.renderer.page("admin_units", model)
    }

    /// Only an administrator of the whole township imports, as with the API.
    func importScope(_ context: WebContext) async throws -> UnitPath? {
        guard let root = try await self.organisation.units(under: nil, kind: .township).first else { return nil }
        return (try? context.actor.assignment(as: .admin, covering: root.path)) != nil ? root.path : nil
    }

    struct ErrorLine {
        var line: Int
        var message: String
    }

    struct PlannedLine {
        var line: Int
        var record: String
        var code: String
        var name: String
        var parent: String
    }

    static func recordName(_ record: String) -> String {
        switch record {
        case "household": "户"
        case "person": "人员"
        default: UnitKind(rawValue: record)?.chineseName ?? record
        }
    }

    func preview(_ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let upload = try await WebUpload.read(request, csrf: context.session.csrfToken, maxSize: Self.maxUpload + 64 * 1024)
        guard try await self.importScope(context) != nil else {
            throw SignoffError(.forbiddenRole, "Importing a township needs the administrator of the whole township.")
        }
        guard let file = upload.files["file"], file.body.readableBytes > 0 else {
            return try await self.importPage(context, csv: "", filename: "", outcome: nil,
                                             problem: "请选择要导入的CSV文件。", status: .unprocessableContent)
        }
        guard file.body.readableBytes <= Self.maxUpload else {
            throw SignoffError(.payloadTooLarge, "The CSV is larger than 4 MiB.")
        }
        guard var text = file.body.getString(at: file.body.readerIndex, length: file.body.readableBytes),
              !text.contains("\u{FFFD}") else {
            return try await self.importPage(context, csv: "", filename: file.filename, outcome: nil,
                                             problem: "文件不是UTF-8编码的文本。请在表格软件中另存为「CSV UTF-8」后再上传。",
                                             status: .unprocessableContent)
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        text = text.replacingOccurrences(of: "\u{0}", with: "")
        let outcome = try await TownshipImport(organisation: self.organisation).run(csv: text, commit: false)
        return try await self.importPage(context, csv: text, filename: file.filename, outcome: outcome, problem: nil,
                                         status: outcome.errors.isEmpty ? .ok : .unprocessableContent)
    }

    func confirm(_ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken, maxSize: 3 * Self.maxUpload)
        guard try await self.importScope(context) != nil else {
            throw SignoffError(.forbiddenRole, "Importing a township needs the administrator of the whole township.")
        }
        let text = form["csv"] ?? ""
        let outcome = try await TownshipImport(organisation: self.organisation).run(csv: text, commit: true)
        guard outcome.committed else {
            // The tree changed since the preview (a code now taken): nothing was written.
            return try await self.importPage(context, csv: text, filename: form["filename"] ?? "", outcome: outcome, problem: nil,
                                             status: .unprocessableContent)
        }
        context.logger.info("township CSV imported", metadata: [
            "signoff.import.units": "\(outcome.summary.units)", "signoff.import.households": "\(outcome.summary.households)",
            "signoff.import.persons": "\(outcome.summary.persons)",
        ])
        let summary = outcome.summary
        return WebRenderer.redirect("/app/admin/units?imported=\(summary.units),\(summary.households),\(summary.persons)")
    }

    func importPage(_ context: WebContext, csv: String, filename: String, outcome: TownshipImport.Outcome?, problem: String?,
                    status: HTTPResponse.Status) async throws -> Response {
        let errors = outcome?.errors.map { ErrorLine(line: $0.line, message: $0.chinese.isEmpty ? $0.message : $0.chinese) } ?? []
        let rows = outcome?.rows ?? []
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "导入预览", back: "/app/admin/units"),
            "filename": filename, "problem": problem ?? "",
            "errors": errors, "hasErrors": !errors.isEmpty, "errorCount": errors.count,
            "ready": outcome != nil && errors.isEmpty && !rows.isEmpty,
            "empty": outcome != nil && errors.isEmpty && rows.isEmpty,
            "units": outcome?.summary.units ?? 0, "households": outcome?.summary.households ?? 0, "persons": outcome?.summary.persons ?? 0,
            "rows": rows.prefix(300).map { PlannedLine(line: $0.line, record: Self.recordName($0.record), code: $0.code, name: $0.name, parent: $0.parent) },
            "more": max(0, rows.count - 300), "hasMore": rows.count > 300,
            "csv": csv,
        ]
        return self.renderer.page("admin_import", model, status: status)
    }
}
