import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// The township office's accounts page: users and their roles at units, and 停用 (suspend),
/// 恢复 (reactivate) and 注销 (close), each with a reason, through the account's own machine.
/// A suspended user's open session ends on their next request (the session check reads the state).
struct AccountPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var accounts: AccountStore { self.app.services.accounts }

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/admin/users") { request, context in try await self.list(request, context) }
        group.get("/admin/users/:id") { request, context in try await self.detail(request, context, notice: nil) }
        for action in ["suspend", "reactivate", "close"] {
            group.post("/admin/users/:id/\(action)") { request, context in try await self.act(action, request, context) }
        }
    }

    static func statusText(_ status: String) -> String {
        switch status {
        case "active": "正常"
        case "suspended": "已停用"
        case "closed": "已注销"
        default: status
        }
    }

    struct Row {
        var id: String
        var username: String
        var name: String
        var status: String
        var statusKey: String
        var roles: String
    }

    static func row(_ user: UserSummary) -> Row {
        Row(id: user.id.uuidString.lowercased(), username: user.username, name: user.displayName, status: Self.statusText(user.status),
            statusKey: user.status, roles: user.roles.map { "\($0.role.chineseName)（\($0.unitName)）" }.joined(separator: "、"))
    }

    func list(_ request: Request, _ context: WebContext) async throws -> Response {
        let scope = try AdminPages.adminScope(context.actor)
        let query = AdminPages.query(request, "q") ?? ""
        let users = try await self.accounts.users(under: scope).filter {
            query.isEmpty || $0.username.contains(query) || $0.displayName.contains(query) || ($0.phone ?? "").contains(query)
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "账号管理", back: "/app"),
            "rows": users.prefix(300).map(Self.row), "empty": users.isEmpty, "q": query, "count": users.count,
        ]
        return self.renderer.page("admin_users", model)
    }

    static let doneText = ["suspend": "账号已停用，该用户已登录的页面下次操作时会退出。", "reactivate": "账号已恢复。", "close": "账号已注销。",
                           "create": "账号已新建。", "grant": "角色已授予。", "revoke": "角色已撤销。"]

    func detail(_ request: Request, _ context: WebContext, notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let scope = try AdminPages.adminScope(context.actor)
        let id = try SignerPages.pathID(context)
        let user = try await self.accounts.user(id: id)
        guard user.roles.contains(where: { (try? UnitPath($0.unitPath)).map(scope.contains) ?? false }) else {
            throw SignoffError.notFound("This user")
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "账号", back: "/app/admin/users"),
            "user": Self.row(user), "phone": user.phone ?? "", "version": user.version,
            "roles": user.roles.map {
                ["role": $0.role.chineseName, "unit": $0.unitName, "roleKey": $0.role.rawValue, "unitID": $0.unitID.uuidString.lowercased(),
                 "userID": user.id.uuidString.lowercased(), "csrf": context.session.csrfToken,
                 "revocable": user.roles.count > 1 && user.status != "closed"] as [String: Any]
            },
            "roleOptions": UserAdminPages.roleOptions(selected: nil),
            "unitOptions": try await UserAdminPages(app: self.app).unitOptions(scope, selected: nil),
            "active": user.status == "active", "suspended": user.status == "suspended", "closed": user.status == "closed",
            "self": user.id == context.actor.userID, "key": WebApp.newKey(),
            "notice": notice ?? Self.doneText[AdminPages.query(request, "done") ?? ""] ?? "",
            "isError": notice != nil,
        ]
        return self.renderer.page("admin_user", model, status: status)
    }

    func act(_ action: String, _ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let id = try SignerPages.pathID(context)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        let reason = form.text("reason")
        let command: AccountLifecycle.Command = switch action {
        case "suspend": .suspend(reason: reason)
        case "reactivate": .reactivate(reason: reason)
        default: .close(reason: reason)
        }
        do {
            // The machine lets a reactivation go without a reason (the API keeps that); the
            // township office's page asks for one for every change, as for the others.
            if action == "reactivate", reason == nil {
                throw SignoffError(.reasonRequired, "Give a reason for reactivating the account.", extra: ["field": "reason"])
            }
            _ = try await self.accounts.transitions.apply(AccountLifecycle.self, id: id, expectedVersion: form.int("version"), command,
                                                          by: context.actor, metadata: metadata)
            return WebRenderer.redirect("/app/admin/users/\(id.uuidString.lowercased())?done=\(action)")
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .notFound && error.code != .unauthenticated {
            let message = WebText.isHandledElsewhere(error) ? "该账号已由他人更新。下面是它现在的状态。" : WebText.message(for: error)
            return try await self.detail(request, context, notice: message, status: .init(code: error.code.httpStatus))
        }
    }
}
