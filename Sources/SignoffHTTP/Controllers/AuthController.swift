import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Login and logout with opaque bearer tokens.
struct AuthController {
    let accounts: AccountStore

    struct LoginRequest: StrictRequest {
        var login: String
        var password: String
        enum CodingKeys: String, CodingKey, CaseIterable { case login, password }
    }

    struct LoginResponse: Encodable {
        var token: String
        var tokenType = "Bearer"
        var expiresAt: Date
        var user: UserSummary
    }

    func addRoutes(to router: Router<AppRequestContext>, authenticated: RouterGroup<AuthenticatedContext>) {
        router.post("/auth/login") { request, context in
            let (body, _) = try await JSONBody.decode(LoginRequest.self, from: request, maxSize: 16 * 1024)
            let issued = try await self.accounts.login(identifier: body.login.trimmingCharacters(in: .whitespaces), password: body.password)
            let user = try await self.accounts.user(id: issued.userID)
            return try JSONBody.response(LoginResponse(token: issued.token, expiresAt: issued.expiresAt, user: user))
        }
        authenticated.post("/auth/logout") { _, context in
            try await self.accounts.revoke(token: context.bearerToken)
            return Response(status: .noContent)
        }
        authenticated.get("/me") { _, context in
            try JSONBody.response(try await self.accounts.user(id: context.actor.userID))
        }
    }
}
