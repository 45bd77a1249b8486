import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// A signed-in browser: the same opaque, revocable token as a bearer, kept in an HttpOnly cookie.
public struct WebSession: Sendable {
    public let actor: SignoffCore.Principal
    public let token: String

    /// The CSRF token of this session: a digest of the session token, which a page on another
    /// site cannot read (the cookie is HttpOnly and SameSite=Strict), so it cannot forge it.
    /// Being derived, it holds across every instance of the service without shared state.
    public var csrfToken: String { Self.digest("csrf", self.token) }

    static func digest(_ purpose: String, _ value: String) -> String {
        Hex.encode(SHA256.hash(data: Data("signoff.\(purpose):\(value)".utf8)))
    }

    static let cookieName = "signoff_session"
    /// Before sign-in: a random value the login form echoes (double submit).
    static let loginCookieName = "signoff_login"

    static func cookie(_ name: String, value: String, secure: Bool, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// Whether the browser reached us over https (directly or through a proxy that says so).
    static func isSecure(_ request: Request) -> Bool {
        request.uri.scheme == .https || request.headers[.xForwardedProto]?.lowercased() == "https"
    }
}

extension HTTPField.Name {
    static let xForwardedProto = Self("X-Forwarded-Proto")!
}

/// The context of the web app's signed-in pages; creating it fails with `unauthenticated`,
/// which the web middleware turns into a redirect to the login page.
public struct WebContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let session: WebSession

    public init(context: AppRequestContext) throws {
        guard let session = context.webSession else {
            throw SignoffError(.unauthenticated, "Sign in first.")
        }
        self.coreContext = context.coreContext
        self.session = session
    }

    public var actor: SignoffCore.Principal { self.session.actor }
    public var requestID: String { self.id }
    public var maxUploadSize: Int { 4 * 1024 * 1024 }
}

/// Reads the session cookie on web pages. The token is checked on every request, so a logout
/// or a suspension ends the session at once.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let accounts: AccountStore

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let token = request.cookies[WebSession.cookieName]?.value, !token.isEmpty, token.count <= 200 {
            if let actor = try await self.accounts.authenticate(token: token) {
                context.webSession = WebSession(actor: actor, token: token)
                context.logger[metadataKey: "signoff.user"] = "\(actor.userID)"
            }
        }
        return try await next(request, context)
    }
}
