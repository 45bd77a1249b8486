import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Agricultural vehicle passes 农用车通行证明.
struct AgriculturalPassesController {
    let passes: AgriculturalPassStore
    let clock: any WallClock

    struct RequestPass: StrictRequest {
        var householdID: UUID
        var vehicle: String
        var plate: String?
        var purpose: String
        var route: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case householdID = "household_id"
            case vehicle, plate, purpose, route
        }
    }

    struct Closing: StrictRequest {
        var reason: String
        enum CodingKeys: String, CodingKey, CaseIterable { case reason }
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.post("/agricultural-passes") { request, context in
            let (body, raw) = try await JSONBody.decode(RequestPass.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.passes.request(
                .init(householdID: body.householdID, vehicleDescription: body.vehicle, plate: body.plate, purpose: body.purpose,
                      route: body.route),
                by: context.actor, metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID),
                render: self.render(status: .created))
            return TransitionResponder.response(outcome)
        }
        group.get("/agricultural-passes/:id") { _, context in
            let id = try context.parameters.uuid("id")
            let stored = try await self.passes.transitions.load(AgriculturalPass.self, id: id)
            _ = try context.actor.assignment(asAnyOf: VehiclesController.readers, covering: stored.machine.gridPath)
            return try JSONBody.response(AgriculturalPassView(stored.machine, version: stored.version, now: self.clock.now()))
        }
        group.post("/agricultural-passes/:id/issue") { request, context in
            let id = try context.parameters.uuid("id")
            let (_, raw) = try await JSONBody.decode(EmptyRequest.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.passes.issue(
                id: id, by: context.actor, metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID),
                render: self.render())
            return TransitionResponder.response(outcome)
        }
        self.closing(group, "refuse") { .refuse(reason: $0) }
        self.closing(group, "revoke") { .revoke(reason: $0) }
    }

    private func closing(
        _ group: RouterGroup<AuthenticatedContext>, _ action: String,
        _ command: @escaping @Sendable (String) -> AgriculturalPass.Command
    ) {
        group.transition("/agricultural-passes/:id/\(action)", body: Closing.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            return try await self.passes.act(
                id: id, command(body.reason), by: context.actor,
                metadata: metadata, render: self.render())
        }
    }

    func render(status: HTTPResponse.Status = .ok) -> TransitionStore.Render<AgriculturalPass> {
        let clock = self.clock
        return TransitionResponder.render(status: status) { transitioned in
            AgriculturalPassView(transitioned.stored.machine, version: transitioned.stored.version, now: clock.now())
        }
    }
}
