import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Travel pass 通行证 applications and their five-level signature chain.
struct PassesController {
    let vehicles: VehicleStore
    let delegations: DelegationStore
    let clock: any WallClock

    struct Apply: StrictRequest {
        var vehicleID: UUID
        enum CodingKeys: String, CodingKey, CaseIterable { case vehicleID = "vehicle_id" }
    }

    struct Sign: StrictRequest {
        var level: Int?
        var version: Int?
        /// The number of a delegation to sign under, for its delegator (代签).
        var delegation: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case level, version, delegation }
    }

    struct Reject: StrictRequest {
        var reason: String
        var level: Int?
        var version: Int?
        var delegation: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case reason, level, version, delegation }
    }

    struct Resubmit: StrictRequest {
        var note: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case note }
    }

    struct Withdraw: StrictRequest {
        var reason: String?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case reason, version }
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.transition("/passes", body: Apply.self) { context, body, metadata in
            return try await self.vehicles.applyForPass(
                vehicleID: body.vehicleID, by: context.actor,
                metadata: metadata,
                render: self.render(status: .created))
        }
        group.get("/passes/:id") { _, context in
            let id = try context.parameters.uuid("id")
            let stored = try await self.vehicles.transitions.load(PassApplication.self, id: id)
            _ = try context.actor.assignment(asAnyOf: VehiclesController.readers, covering: stored.machine.gridPath)
            return try JSONBody.response(PassView(stored.machine, version: stored.version, now: self.clock.now()))
        }
        group.transition("/passes/:id/sign", body: Sign.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            let level = body.level
            return try await self.delegations.actOnPass(
                id: id, expectedVersion: body.version, delegationNumber: body.delegation,
                { .sign(level: level, delegation: $0) }, by: context.actor,
                metadata: metadata, render: self.render())
        }
        group.transition("/passes/:id/reject", body: Reject.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            let (level, reason) = (body.level, body.reason)
            return try await self.delegations.actOnPass(
                id: id, expectedVersion: body.version, delegationNumber: body.delegation,
                { .reject(reason: reason, level: level, delegation: $0) }, by: context.actor,
                metadata: metadata, render: self.render())
        }
        group.transition("/passes/:id/resubmit", body: Resubmit.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            return try await self.vehicles.resubmitPass(
                id: id, note: body.note, by: context.actor,
                metadata: metadata, render: self.render())
        }
        group.transition("/passes/:id/withdraw", body: Withdraw.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            return try await self.vehicles.actOnPass(
                id: id, expectedVersion: body.version, .withdraw(reason: body.reason), by: context.actor,
                metadata: metadata, render: self.render())
        }
        group.transition("/passes/:id/revoke", body: Withdraw.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            return try await self.vehicles.actOnPass(
                id: id, expectedVersion: body.version, .revoke(reason: body.reason), by: context.actor,
                metadata: metadata, render: self.render())
        }
    }

    func render(status: HTTPResponse.Status = .ok) -> TransitionStore.Render<PassApplication> {
        let clock = self.clock
        return TransitionResponder.render(status: status) { transitioned in
            PassView(transitioned.stored.machine, version: transitioned.stored.version, now: clock.now())
        }
    }
}
