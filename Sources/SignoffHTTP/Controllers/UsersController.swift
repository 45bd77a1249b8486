import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Administrators manage accounts: create, grant roles, suspend, reactivate, close.
struct UsersController {
    let accounts: AccountStore

    struct RoleAtUnit: StrictRequest {
        var role: Role
        var unitID: UUID
        enum CodingKeys: String, CodingKey, CaseIterable {
            case role
            case unitID = "unit_id"
        }
    }

    struct CreateUser: StrictRequest {
        var username: String
        var displayName: String
        var phone: String?
        var password: String
        var roles: [RoleAtUnit]
        static var nested: [String: any StrictRequest.Type] { ["roles": RoleAtUnit.self] }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case username, phone, password, roles
            case displayName = "display_name"
        }
    }

    struct AccountChange: StrictRequest {
        var reason: String?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case reason, version }
    }

    struct AccountView: Encodable {
        var id: UUID
        var username: String
        var status: String
        var version: Int
        var reactivations: Int
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("/users") { _, context in
            let scopes = context.actor.assignments.filter { $0.role == .admin }
            guard !scopes.isEmpty else {
                _ = try context.actor.assignment(as: .admin, covering: UnitPath(labels: []))
                return Response(status: .forbidden)
            }
            var seen = Set<UUID>()
            var users: [UserSummary] = []
            for scope in scopes {
                for user in try await self.accounts.users(under: scope.unitPath) where seen.insert(user.id).inserted {
                    users.append(user)
                }
            }
            return try JSONBody.response(["users": users])
        }
        // A retry with the same Idempotency-Key replays the account created first.
        group.post("/users") { request, context in
            let (body, raw) = try await JSONBody.decode(CreateUser.self, from: request, maxSize: 16 * 1024)
            let metadata = try TransitionResponder.metadata(request, body: raw, requestID: context.requestID)
            // Hashed before the transaction: bcrypt takes a while, and no connection should wait on it.
            let hash = try await self.accounts.hashPassword(body.password)
            let outcome = try await self.accounts.transitions.write(metadata: metadata, actor: context.actor) { connection in
                let user = try await self.accounts.createUser(
                    .init(username: body.username, displayName: body.displayName, phone: body.phone, password: nil,
                          roles: body.roles.map { ($0.role, $0.unitID) }, passwordHash: hash),
                    by: context.actor, metadata: RequestMetadata(requestID: context.requestID), on: connection
                )
                return StoredResponse(status: 201, body: try JSONBody.data(user))
            }
            return TransitionResponder.response(outcome)
        }
        group.get("/users/:id") { _, context in
            let id = try context.parameters.uuid("id")
            let user = try await self.accounts.user(id: id)
            if id != context.actor.userID {
                let account = try await self.accounts.transitions.load(AccountLifecycle.self, id: id)
                _ = try context.actor.assignment(as: .admin, covering: account.machine.homePath)
            }
            return try JSONBody.response(user)
        }
        group.write("/users/:id/roles", body: RoleAtUnit.self, store: self.accounts.transitions) { context, body, connection in
            try await self.accounts.grantRole(userID: try context.parameters.uuid("id"), role: body.role, unitID: body.unitID,
                                              by: context.actor, requestID: context.requestID, on: connection)
        }
        self.lifecycle(group, "suspend") { .suspend(reason: $0) }
        self.lifecycle(group, "reactivate") { .reactivate(reason: $0) }
        self.lifecycle(group, "close") { .close(reason: $0) }
    }

    private func lifecycle(
        _ group: RouterGroup<AuthenticatedContext>,
        _ action: String,
        _ command: @escaping @Sendable (String?) -> AccountLifecycle.Command
    ) {
        group.transition("/users/:id/\(action)", body: AccountChange.self) { context, body, metadata in
            try await self.accounts.transitions.apply(
                AccountLifecycle.self, id: try context.parameters.uuid("id"), expectedVersion: body.version,
                command(body.reason), by: context.actor, metadata: metadata,
                render: TransitionResponder.render { transitioned in
                    let account = transitioned.stored.machine
                    return AccountView(id: account.userID, username: account.username, status: account.stateName,
                                       version: transitioned.stored.version, reactivations: account.reactivations)
                }
            )
        }
    }
}
