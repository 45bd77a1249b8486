import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SignoffCore
import SignoffStore

/// The web app: server-rendered pages in Chinese for the signers, grid workers and the
/// township office, under `/app`. Pages work as plain forms; `app.js` adds the offline outbox.
struct WebApp: Sendable {
    let services: SignoffServices
    let renderer: WebRenderer
    let directory: PassDirectory

    init(services: SignoffServices) throws {
        self.services = services
        self.renderer = try WebRenderer.load()
        self.directory = PassDirectory(database: services.database)
    }

    var clock: any WallClock { self.services.transitions.clock }

    /// Paths that belong to the web app rather than to the JSON API.
    static func isWebPath(_ path: String) -> Bool {
        path == "/" || path == "/app" || path.hasPrefix("/app/") || path.hasPrefix("/assets/")
    }

    /// For an address the app does not have (a mistyped or outdated link).
    static let notFoundPage = """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>没有这个页面</title><link rel="stylesheet" href="/assets/app.css"></head>
        <body><main class="main"><section class="card"><p class="notice notice-error">没有这个页面。链接可能有误或已过期。</p>
        <p><a class="button" href="/app">回到首页</a></p></section></main></body></html>
        """

    /// A page with one message, for answers given before a page's own handler runs (a rate
    /// limit, a busy or timed-out service); `message` is plain text and is escaped here.
    static func messagePage(title: String, message: String) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        return """
            <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title><link rel="stylesheet" href="/assets/app.css"></head>
            <body><main class="main"><section class="card"><h1>\(escape(title))</h1><p class="notice notice-error">\(escape(message))</p>
            <p><a class="button" href="/app">回到首页</a></p></section></main></body></html>
            """
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/") { _, _ in WebRenderer.redirect("/app") }
        // The service worker sits at /app/ so that its scope covers the app's pages.
        router.get("/app/sw.js") { _, _ in
            Response(status: .ok,
                     headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: WebRenderer.asset("sw.js") ?? "")))
        }
        let web = router.group("/app")
            .add(middleware: WebErrorMiddleware(renderer: self.renderer))
            .add(middleware: WebSessionMiddleware(accounts: self.services.accounts))
            .add(middleware: WriteLimitMiddleware<AppRequestContext>(
                limiter: self.services.writeLimiter, account: { $0.webSession?.actor.userID }, address: { $0.clientAddress }))
        web.get("/offline") { _, _ in
            self.renderer.page("offline", ["chrome": Chrome.anonymous(title: "暂无网络")])
        }
        web.get("/login") { request, context in
            if context.webSession != nil { return WebRenderer.redirect("/app") }
            return self.loginPage(request, error: nil, username: nil)
        }
        web.post("/login") { request, context in try await self.login(request, context) }

        let signedIn = web.group(context: WebContext.self)
        signedIn.post("/logout") { request, context in
            _ = try await WebForm.read(request, csrf: context.session.csrfToken)
            try await self.services.accounts.revoke(token: context.session.token)
            var response = WebRenderer.redirect("/app/login?bye=1")
            response.setCookie(WebSession.cookie(WebSession.cookieName, value: "", secure: WebSession.isSecure(request), maxAge: 0))
            return response
        }
        signedIn.get("") { request, context in
            try await self.home(context, done: request.uri.queryParameters["done"].map(String.init))
        }
        SignerPages(app: self).addRoutes(to: signedIn)
        FieldPages(app: self).addRoutes(to: signedIn)
        VisitPages(app: self).addRoutes(to: signedIn)
        NotificationPages(app: self).addRoutes(to: signedIn)
        AdminPages(app: self).addRoutes(to: signedIn)
        AccountPages(app: self).addRoutes(to: signedIn)
        DelegationPages(app: self).addRoutes(to: signedIn)
        PolicyPages(app: self).addRoutes(to: signedIn)
        OrganisationPages(app: self).addRoutes(to: signedIn)
        AuditPages(app: self).addRoutes(to: signedIn)
        UserAdminPages(app: self).addRoutes(to: signedIn)
        CheckpointPages(app: self).addRoutes(to: signedIn)
        WorkerPages(app: self).addRoutes(to: signedIn, anonymous: web)
    }

    // MARK: Login

    func loginPage(_ request: Request, error: String?, username: String?, status: HTTPResponse.Status = .ok) -> Response {
        let nonce = request.cookies[WebSession.loginCookieName]?.value ?? Self.randomToken()
        let next = request.uri.queryParameters["next"].map(String.init).flatMap(Self.safeNext) ?? ""
        let model: [String: Any] = [
            "chrome": Chrome.anonymous(title: "登录"),
            "nonce": nonce, "next": next, "username": username ?? "", "error": error ?? "",
            "bye": request.uri.queryParameters["bye"] != nil,
        ]
        var response = self.renderer.page("login", model, status: status)
        response.setCookie(WebSession.cookie(WebSession.loginCookieName, value: nonce, secure: WebSession.isSecure(request)))
        return response
    }

    func login(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        // The login form echoes a random cookie (double submit), so another site cannot sign a browser in.
        guard let nonce = request.cookies[WebSession.loginCookieName]?.value, form["nonce"] == nonce else {
            return self.loginPage(request, error: "页面已过期，请重新输入后登录。", username: form.text("login"), status: .forbidden)
        }
        let login = form.text("login") ?? ""
        let password = form["password"] ?? ""
        guard !login.isEmpty, !password.isEmpty else {
            return self.loginPage(request, error: "请输入账号（或手机号）和密码。", username: login, status: .unprocessableContent)
        }
        do {
            let issued = try await self.services.accounts.login(identifier: login, password: password)
            let next = form.text("next").flatMap(Self.safeNext) ?? "/app"
            var response = WebRenderer.redirect(next)
            let lifetime = max(60, Int(issued.expiresAt.timeIntervalSince(self.clock.now())))
            response.setCookie(WebSession.cookie(WebSession.cookieName, value: issued.token, secure: WebSession.isSecure(request), maxAge: lifetime))
            return response
        } catch let error as SignoffError {
            let status: HTTPResponse.Status = .init(code: error.code.httpStatus)
            var response = self.loginPage(request, error: WebText.message(for: error), username: login, status: status)
            if case .int(let seconds)? = error.extra["retry_after"] { response.headers[.retryAfter] = String(seconds) }
            return response
        }
    }

    /// Only paths of this app, so a crafted link cannot send a user elsewhere after login.
    static func safeNext(_ next: String) -> String? {
        guard next.hasPrefix("/app"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains("://") else { return nil }
        return next
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    // MARK: Home

    func home(_ context: WebContext, done: String? = nil) async throws -> Response {
        let actor = context.actor
        let signer = actor.assignments.contains { VehiclePolicy.signerRoles.contains($0.role) }
        var pendingCount = 0
        if signer {
            pendingCount = try await self.services.inbox.pending(for: actor, cursor: nil, limit: 100).items.count
        }
        let model: [String: Any] = [
            "chrome": try await self.chrome(context, title: "首页", badge: pendingCount),
            "signer": signer,
            "pendingCount": pendingCount,
            "gridWorker": actor.holds(.gridWorker),
            "admin": actor.holds(.admin),
            "certificates": WorkerPages.seesCertificates(actor),
            "checkpoint": CheckpointPages.seesCheckpoint(actor, policy: try? self.services.checkpoints.policy()),
            "certificatesSub": WorkerPages.homeSubtitle(actor),
            "roles": actor.assignments.map { ["role": $0.role.chineseName] },
            // 今日走访: the grid's households with their morning and afternoon visits.
            "visits": actor.holds(.gridWorker) ? try await VisitPages(app: self).todayModel(context, done: done) : false,
        ]
        return self.renderer.page("home", model)
    }

    // MARK: Page chrome

    /// What every signed-in page carries: the user, the CSRF token, the navigation and the inbox badge.
    func chrome(_ context: WebContext, title: String, back: String? = nil, badge: Int? = nil) async throws -> Chrome {
        let actor = context.actor
        var badge = badge
        let signer = actor.assignments.contains { VehiclePolicy.signerRoles.contains($0.role) }
        if badge == nil, signer {
            badge = try await self.services.inbox.pending(for: actor, cursor: nil, limit: 100).items.count
        }
        let unread = try await self.services.notifications.list(for: actor.userID, unreadOnly: true, limit: 1).unread
        return Chrome(
            title: title, signedIn: true, userID: actor.userID.uuidString, userName: actor.displayName,
            roleNames: Array(Set(actor.assignments.map(\.role.chineseName))).sorted().joined(separator: "、"),
            csrf: context.session.csrfToken, back: back ?? "", badge: badge.map { $0 >= 100 ? "99+" : String($0) } ?? "",
            hasBadge: (badge ?? 0) > 0, signer: signer, gridWorker: actor.holds(.gridWorker),
            unread: unread >= 100 ? "99+" : String(unread), hasUnread: unread > 0)
    }

    /// A fresh key for a form: a second tap or a retry of the same page is the same decision.
    static func newKey() -> String { "web-" + UUID().uuidString.lowercased() }
}

/// The header, navigation and session values of a page.
struct Chrome {
    var title: String
    var signedIn: Bool
    var userID: String
    var userName: String
    var roleNames: String
    var csrf: String
    var back: String
    var badge: String
    var hasBadge: Bool
    var signer: Bool
    var gridWorker: Bool
    /// Unread in-app notices 通知, for the navigation's badge.
    var unread: String = ""
    var hasUnread: Bool = false
    /// Seconds after which the page reloads itself (a job's progress), also without JavaScript.
    var refresh: String = ""

    static func anonymous(title: String) -> Chrome {
        Chrome(title: title, signedIn: false, userID: "", userName: "", roleNames: "", csrf: "", back: "", badge: "",
               hasBadge: false, signer: false, gridWorker: false)
    }
}

/// The outcome of a web action, for a browser (a page or a redirect) or for the outbox (JSON).
struct WebOutcome: Encodable {
    enum Result: String, Encodable {
        case ok, replayed, conflict, refused, login
    }

    var result: Result
    var message: String
    var location: String?

    static func wantsJSON(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("application/json") == true
    }

    func response(status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns failures on web pages into pages in Chinese (or JSON for the outbox): a sign-in
/// redirect, a refusal that says what to do, never a problem+json document or a bare 500.
struct WebErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let renderer: WebRenderer

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch WebRefusal.csrf {
            context.logger.info("web request refused", metadata: ["signoff.error.code": "csrf"])
            let message = "页面已过期或来源不明，这次提交没有保存。请刷新页面后再试。"
            if WebOutcome.wantsJSON(request) { return WebOutcome(result: .refused, message: message).response(status: .forbidden) }
            return self.renderer.page("message", Self.model(context, title: "无法提交", message: message), status: .forbidden)
        } catch {
            let problem = ProblemMiddleware<AppRequestContext>.problem(for: error)
            if problem.code == .unauthenticated {
                if WebOutcome.wantsJSON(request) {
                    return WebOutcome(result: .login, message: "请先登录。", location: "/app/login").response(status: .unauthorized)
                }
                let next = request.method == .get ? request.uri.path : "/app"
                let query = next == "/app" ? "" : "?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "/-_"))) ?? "")
                return WebRenderer.redirect("/app/login" + query)
            }
            if problem.code.httpStatus >= 500 {
                context.logger.error("web request failed", metadata: ["signoff.error": "\(String(reflecting: error))"])
            } else {
                context.logger.info("web request refused", metadata: ["signoff.error.code": "\(problem.code)"])
            }
            let status = HTTPResponse.Status(code: problem.code.httpStatus)
            let message = WebText.message(for: problem)
            var response: Response
            if WebOutcome.wantsJSON(request) {
                response = WebOutcome(result: .refused, message: message).response(status: status)
            } else {
                let title = problem.code == .outOfJurisdiction || problem.code == .forbiddenRole ? "无权办理"
                    : problem.code == .tooManyRequests ? "操作太频繁" : "无法完成"
                response = self.renderer.page("message", Self.model(context, title: title, message: message), status: status)
            }
            // A phone's outbox waits this long before it sends again (429, 503).
            if case .int(let seconds)? = problem.extra["retry_after"] { response.headers[.retryAfter] = String(seconds) }
            return response
        }
    }

    static func model(_ context: AppRequestContext, title: String, message: String) -> [String: Any] {
        var chrome = Chrome.anonymous(title: title)
        if let session = context.webSession {
            chrome.signedIn = true
            chrome.userName = session.actor.displayName
            chrome.csrf = session.csrfToken
            chrome.userID = session.actor.userID.uuidString
        }
        return ["chrome": chrome, "message": message, "requestID": context.id]
    }
}
