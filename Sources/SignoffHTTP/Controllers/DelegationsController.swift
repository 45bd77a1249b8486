import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Delegations 委托代签 and the 转交 of an overdue level.
struct DelegationsController {
    let delegations: DelegationStore
    let clock: any WallClock

    struct Create: StrictRequest {
        var delegatorID: UUID?
        var delegateID: UUID
        var role: Role?
        var unitID: UUID?
        var from: Date?
        var until: Date
        var reason: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case delegatorID = "delegator_id", delegateID = "delegate_id", role, unitID = "unit_id", from, until, reason
        }
    }

    struct Revoke: StrictRequest {
        var reason: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case reason }
    }

    struct Reassign: StrictRequest {
        var level: Int
        var toUserID: UUID
        var reason: String
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case level, toUserID = "to_user_id", reason, version }
    }

    struct PersonView: Encodable {
        var userId: UUID
        var name: String
        init(_ person: Delegation.Person) {
            self.userId = person.userID
            self.name = person.name
        }
    }

    struct DelegationView: Encodable {
        var number: Int
        var id: UUID
        var version: Int
        var status: String
        var delegator: PersonView
        var delegate: PersonView
        var role: String
        var roleName: String
        var unitId: UUID
        var unitPath: String
        var from: Date
        var until: Date
        var reason: String
        var createdBy: PersonView
        var createdByAdmin: Bool
        var createdAt: Date
        var revokedBy: PersonView?
        var revokedAt: Date?
        var revokedReason: String?

        init(_ stored: StoredDelegation, now: Date) {
            let d = stored.delegation
            self.number = d.number
            self.id = stored.id
            self.version = stored.version
            self.status = d.status(at: now)
            self.delegator = PersonView(d.delegator)
            self.delegate = PersonView(d.delegate)
            self.role = d.role.rawValue
            self.roleName = d.role.chineseName
            self.unitId = d.unitID
            self.unitPath = d.unitPath.description
            self.from = d.from
            self.until = d.until
            self.reason = d.reason
            self.createdBy = PersonView(d.createdBy)
            self.createdByAdmin = d.createdByAdmin
            self.createdAt = d.createdAt
            self.revokedBy = d.revokedBy.map(PersonView.init)
            self.revokedAt = d.revokedAt
            self.revokedReason = d.revokedReason
        }
    }

    struct ListView: Encodable {
        var delegations: [DelegationView]
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("/delegations") { _, context in
            let now = self.clock.now()
            let list = try await self.delegations.list(for: context.actor)
            return try JSONBody.response(ListView(delegations: list.map { DelegationView($0, now: now) }))
        }
        group.transition("/delegations", body: Create.self) { context, body, metadata in
            try await self.delegations.create(
                .init(delegatorID: body.delegatorID, delegateID: body.delegateID, role: body.role, unitID: body.unitID,
                      from: body.from, until: body.until, reason: body.reason),
                by: context.actor, metadata: metadata, render: self.render(status: .created))
        }
        group.get("/delegations/:number") { _, context in
            let number = try Self.number(context)
            let stored = try await self.delegations.load(number: number)
            try Self.requireReader(context.actor, stored.delegation)
            return try JSONBody.response(DelegationView(stored, now: self.clock.now()))
        }
        group.transition("/delegations/:number/revoke", body: Revoke.self) { context, body, metadata in
            try await self.delegations.revoke(number: try Self.number(context), reason: body.reason, by: context.actor,
                                              metadata: metadata, render: self.render())
        }
        group.transition("/passes/:id/reassign", body: Reassign.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            let clock = self.clock
            return try await self.delegations.reassign(
                passID: id, level: body.level, toUserID: body.toUserID, reason: body.reason, expectedVersion: body.version,
                by: context.actor, metadata: metadata,
                render: TransitionResponder.render { PassView($0.stored.machine, version: $0.stored.version, now: clock.now()) })
        }
    }

    func render(status: HTTPResponse.Status = .ok) -> TransitionStore.Render<Delegation> {
        let clock = self.clock
        return TransitionResponder.render(status: status) { transitioned in
            DelegationView(StoredDelegation(id: transitioned.stored.id, version: transitioned.stored.version,
                                            delegation: transitioned.stored.machine), now: clock.now())
        }
    }

    static func number(_ context: AuthenticatedContext) throws -> Int {
        guard let text = context.parameters.get("number"), let number = Int(text), number > 0 else {
            throw SignoffError(.invalidID, "The delegation number in the address must be a positive whole number.",
                               extra: ["field": "number"])
        }
        return number
    }

    /// The two people, or an administrator over the unit; anyone else gets `not_found`.
    static func requireReader(_ actor: Principal, _ delegation: Delegation) throws(SignoffError) {
        if actor.userID == delegation.delegator.userID || actor.userID == delegation.delegate.userID { return }
        guard (try? actor.assignment(as: .admin, covering: delegation.unitPath)) != nil else {
            throw SignoffError.notFound("Delegation #\(delegation.number)")
        }
    }
}
