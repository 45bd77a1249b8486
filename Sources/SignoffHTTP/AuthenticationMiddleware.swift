import Hummingbird
import SignoffCore
import SignoffStore

/// Resolves `Authorization: Bearer …` to an actor. A missing or invalid token leaves the
/// context anonymous; routes that need a user refuse it with 401 through `AuthenticatedContext`.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let accounts: AccountStore

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
            if !token.isEmpty, let actor = try await self.accounts.authenticate(token: token) {
                context.actor = actor
                context.bearerToken = token
                context.logger[metadataKey: "signoff.user"] = "\(actor.userID)"
            }
        }
        return try await next(request, context)
    }
}
