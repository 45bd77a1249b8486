import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// 账号管理, the rest: a new account with a role at a unit (and a reason), a role granted or
/// taken away at a unit (with a reason), and a migrant worker's account 务工人员 with its
/// one-time activation code shown once, as a slip to print (A5 or A4) and hand over.
struct UserAdminPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var accounts: AccountStore { self.app.services.accounts }
    var organisation: OrganisationStore { OrganisationStore(database: self.app.services.database) }

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/admin/users/new") { _, context in try await self.newUserPage(context, form: nil, problem: nil) }
        group.post("/admin/users/new") { request, context in try await self.createUser(request, context) }
        group.post("/admin/users/:id/roles") { request, context in try await self.grant(request, context) }
        group.post("/admin/users/:id/roles/revoke") { request, context in try await self.revoke(request, context) }
        group.get("/admin/workers/new") { request, context in try await self.workerSearch(request, context, problem: nil) }
        group.post("/admin/workers") { request, context in try await self.createWorker(request, context) }
    }

    // MARK: Choices

    struct Option {
        var value: String
        var label: String
        var selected: Bool
    }

    /// The roles an administrator gives here; a worker's account is made from their person record.
    static let grantable: [Role] = [.gridWorker, .groupLeader, .branchSecretary, .villageLeader, .chiefLeader, .healthOfficer, .admin]

    static func roleOptions(selected: String?) -> [Option] {
        Self.grantable.map { role in
            let held = role == .admin ? "乡或村" : role.heldAt.chineseName
            return Option(value: role.rawValue, label: "\(role.chineseName)（设在\(held)）", selected: role.rawValue == selected)
        }
    }

    func unitOptions(_ scope: UnitPath, selected: String?) async throws -> [Option] {
        try await self.organisation.units(under: scope).map { unit in
            let indent = String(repeating: "　", count: max(0, unit.path.labels.count - 1))
            return Option(value: unit.id.uuidString.lowercased(), label: "\(indent)\(unit.name)（\(unit.kind.chineseName)）",
                          selected: unit.id.uuidString.lowercased() == selected?.lowercased())
        }
    }

    /// What a refusal of these forms means, in Chinese.
    static func message(_ error: SignoffError) -> String {
        let field = error.extra["field"].flatMap { if case .string(let name) = $0 { name } else { nil } }
        switch (error.code, field) {
        case (.duplicate, _): return "账号或手机号已被使用，请换一个。"
        case (_, "username"): return "账号用3到40个字母、数字或「_」「-」「.」。"
        case (_, "password"): return "初始密码为8到72个字符。"
        case (_, "phone"): return "手机号应为11位数字，以1开头。"
        case (_, "display_name"): return "请填写姓名。"
        case (_, "roles"), (_, "unit_id"): return "该角色不能设在所选单位：网格员在网格，组长在组，支部书记和驻村领导在村，主要领导、卫生院在乡，乡政府办公室在乡或村。"
        case (.reasonRequired, _), (_, "reason"): return "请填写理由。"
        default: return WebText.message(for: error)
        }
    }

    // MARK: A new account

    func newUserPage(_ context: WebContext, form: WebForm?, problem: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let scope = try AdminPages.adminScope(context.actor)
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "新建账号", back: "/app/admin/users"),
            "problem": problem ?? "",
            "username": form?.text("username") ?? "", "displayName": form?.text("display_name") ?? "", "phone": form?.text("phone") ?? "",
            "reason": form?.text("reason") ?? "",
            "roles": Self.roleOptions(selected: form?.text("role")),
            "units": try await self.unitOptions(scope, selected: form?.text("unit_id")),
        ]
        return self.renderer.page("admin_user_new", model, status: status)
    }

    func createUser(_ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        do {
            guard let reason = form.text("reason") else {
                throw SignoffError(.reasonRequired, "Give a reason for the new account.", extra: ["field": "reason"])
            }
            guard let role = form.text("role").flatMap(Role.init(rawValue:)), Self.grantable.contains(role) else {
                throw SignoffError.invalidValue("roles", "Choose a role.")
            }
            let unitID = try form.uuid("unit_id")
            let user = try await self.accounts.createUser(
                .init(username: form.text("username") ?? "", displayName: form.text("display_name") ?? "", phone: form.text("phone"),
                      password: form["password"] ?? "", roles: [(role, unitID)], reason: reason),
                by: context.actor, metadata: RequestMetadata(requestID: context.requestID))
            return WebRenderer.redirect("/app/admin/users/\(user.id.uuidString.lowercased())?done=create")
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated {
            return try await self.newUserPage(context, form: form, problem: Self.message(error), status: .init(code: error.code.httpStatus))
        }
    }

    // MARK: Roles

    func grant(_ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let id = try SignerPages.pathID(context)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        return try await self.roleChange(id, context, request) {
            guard let reason = form.text("reason") else {
                throw SignoffError(.reasonRequired, "Give a reason for the role.", extra: ["field": "reason"])
            }
            guard let role = form.text("role").flatMap(Role.init(rawValue:)), Self.grantable.contains(role) else {
                throw SignoffError.invalidValue("roles", "Choose a role.")
            }
            _ = try await self.accounts.grantRole(userID: id, role: role, unitID: try form.uuid("unit_id"), by: context.actor,
                                                  requestID: context.requestID, reason: reason)
            return "grant"
        }
    }

    func revoke(_ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let id = try SignerPages.pathID(context)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        return try await self.roleChange(id, context, request) {
            guard let role = form.text("role").flatMap(Role.init(rawValue:)) else {
                throw SignoffError.invalidValue("roles", "Choose a role.")
            }
            _ = try await self.accounts.revokeRole(userID: id, role: role, unitID: try form.uuid("unit_id"), reason: form.text("reason"),
                                                   by: context.actor, requestID: context.requestID)
            return "revoke"
        }
    }

    private func roleChange(_ id: UUID, _ context: WebContext, _ request: Request, _ body: () async throws -> String) async throws -> Response {
        do {
            let done = try await body()
            return WebRenderer.redirect("/app/admin/users/\(id.uuidString.lowercased())?done=\(done)")
        } catch let error as SignoffError where error.code == .duplicate {
            return try await AccountPages(app: self.app).detail(request, context, notice: "该用户在这个单位已有这个角色。", status: .conflict)
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated && error.code != .notFound {
            return try await AccountPages(app: self.app).detail(request, context, notice: Self.message(error), status: .init(code: error.code.httpStatus))
        }
    }

    // MARK: A worker's account and activation slip

    struct PersonRow {
        var id: String
        var name: String
        var household: String
        var grid: String
        var phone: String
        var hasAccount: Bool
    }

    func workerSearch(_ request: Request, _ context: WebContext, problem: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let scope = try AdminPages.adminScope(context.actor)
        let query = AdminPages.query(request, "q") ?? ""
        let found = query.isEmpty ? [] : try await self.organisation.findPersons(under: scope, matching: query)
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "务工人员账号", back: "/app/admin/users"),
            "q": query, "searched": !query.isEmpty, "none": !query.isEmpty && found.isEmpty, "problem": problem ?? "",
            "people": found.map {
                PersonRow(id: $0.id.uuidString.lowercased(), name: $0.name, household: "\($0.householdCode)（户主 \($0.headName)）",
                          grid: $0.gridName, phone: $0.phone ?? "", hasAccount: $0.hasAccount)
            },
        ]
        return self.renderer.page("admin_worker_new", model, status: status)
    }

    struct Slip {
        var name: String
        var phone: String
        var code: String
        var codeGroups: String
        var address: String
        var expires: String
        var grid: String
        var issuedBy: String
        var issuedAt: String
    }

    func createWorker(_ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        do {
            guard let reason = form.text("reason") else {
                throw SignoffError(.reasonRequired, "Give a reason for the account.", extra: ["field": "reason"])
            }
            let personID = try form.uuid("person_id")
            let created = try await self.app.services.workers.createWorkerAccount(
                personID: personID, phone: (form.text("phone") ?? "").replacingOccurrences(of: " ", with: ""), by: context.actor,
                requestID: context.requestID, reason: reason)
            let code = created.activationCode
            let slip = Slip(
                name: created.user.displayName, phone: created.user.phone ?? created.user.username, code: code,
                codeGroups: String(code.prefix(4)) + " " + String(code.dropFirst(4)),
                address: Self.origin(request) + "/app/activate", expires: WebText.time(created.expiresAt),
                grid: created.user.roles.first?.unitName ?? "", issuedBy: context.actor.displayName,
                issuedAt: WebText.time(self.app.clock.now()))
            var chrome = try await self.app.chrome(context, title: "激活单", back: "/app/admin/users/\(created.user.id.uuidString.lowercased())")
            chrome.title = "激活单"
            let model: [String: Any] = ["chrome": chrome, "slip": slip, "userID": created.user.id.uuidString.lowercased()]
            return self.renderer.page("admin_worker_slip", model, status: .created)
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated {
            return try await self.workerSearch(request, context, problem: Self.message(error), status: .init(code: error.code.httpStatus))
        }
    }

    /// The address the worker types in: the one this page was reached at.
    static func origin(_ request: Request) -> String {
        let scheme = WebSession.isSecure(request) ? "https" : "http"
        let host = request.head.authority ?? "127.0.0.1"
        return "\(scheme)://\(host)"
    }
}
