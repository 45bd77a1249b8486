import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Travel pass 通行证 applications and their five-level signature chain.
struct PassesController {
    let vehicles: VehicleStore
    let clock: any WallClock

    struct Apply: StrictRequest {
        var vehicleID: UUID
        enum CodingKeys: String, CodingKey, CaseIterable { case vehicleID = "vehicle_id" }
    }

    struct Sign: StrictRequest {
        var level: Int?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case level, version }
    }

    struct Reject: StrictRequest {
        var reason: String
        var level: Int?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case reason, level, version }
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
        group.post("/passes") { request, context in
            let (body, raw) = try await JSONBody.decode(Apply.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.vehicles.applyForPass(
                vehicleID: body.vehicleID, by: context.actor,
                metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID),
                render: self.render(status: .created))
            return TransitionResponder.response(outcome)
        }
        group.get("/passes/:id") { _, context in
            let id = try context.parameters.require("id", as: UUID.self)
            let stored = try await self.vehicles.transitions.load(PassApplication.self, id: id)
            _ = try context.actor.assignment(asAnyOf: VehiclesController.readers, covering: stored.machine.gridPath)
            return try JSONBody.response(PassView(stored.machine, version: stored.version, now: self.clock.now()))
        }
        group.post("/passes/:id/sign") { request, context in
            let id = try context.parameters.require("id", as: UUID.self)
            let (body, raw) = try await JSONBody.decode(Sign.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.vehicles.actOnPass(
                id: id, expectedVersion: body.version, .sign(level: body.level), by: context.actor,
                metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID), render: self.render())
            return TransitionResponder.response(outcome)
        }
        group.post("/passes/:id/reject") { request, context in
            let id = try context.parameters.require("id", as: UUID.self)
            let (body, raw) = try await JSONBody.decode(Reject.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.vehicles.actOnPass(
                id: id, expectedVersion: body.version, .reject(reason: body.reason, level: body.level), by: context.actor,
                metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID), render: self.render())
            return TransitionResponder.response(outcome)
        }
        group.post("/passes/:id/resubmit") { request, context in
            let id = try context.parameters.require("id", as: UUID.self)
            let (body, raw) = try await JSONBody.decode(Resubmit.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.vehicles.resubmitPass(
                id: id, note: body.note, by: context.actor,
                metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID), render: self.render())
            return TransitionResponder.response(outcome)
        }
        group.post("/passes/:id/withdraw") { request, context in
            let id = try context.parameters.require("id", as: UUID.self)
            let (body, raw) = try await JSONBody.decode(Withdraw.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.vehicles.actOnPass(
                id: id, expectedVersion: body.version, .withdraw(reason: body.reason), by: context.actor,
                metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID), render: self.render())
            return TransitionResponder.response(outcome)
        }
    }

    func render(status: HTTPResponse.Status = .ok) -> TransitionStore.Render<PassApplication> {
        let clock = self.clock
        return TransitionResponder.render(status: status) { transitioned in
            PassView(transitioned.stored.machine, version: transitioned.stored.version, now: clock.now())
        }
    }
}
