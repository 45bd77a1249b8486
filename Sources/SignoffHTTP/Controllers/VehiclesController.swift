import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// The vehicle register, parking pledges 停放承诺书, violations and key custody 钥匙代管.
struct VehiclesController {
    let vehicles: VehicleStore
    let clock: any WallClock

    /// Officials who may read vehicle records in their jurisdiction.
    static let readers: [Role] = [.admin, .chiefLeader, .villageLeader, .branchSecretary, .groupLeader, .gridWorker]

    struct Register: StrictRequest {
        var plate: String
        var ownerPersonID: UUID
        var parkingPlace: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case plate
            case ownerPersonID = "owner_person_id"
            case parkingPlace = "parking_place"
        }
    }

    struct NewPledge: StrictRequest {
        var parkingPlace: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case parkingPlace = "parking_place" }
    }

    struct Violation: StrictRequest {
        var note: String
        enum CodingKeys: String, CodingKey, CaseIterable { case note }
    }

    struct Deposit: StrictRequest {
        var custodianUserID: UUID?
        var custodianName: String?
        var receiptNumber: String
        var storagePlace: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case custodianUserID = "custodian_user_id"
            case custodianName = "custodian_name"
            case receiptNumber = "receipt_number"
            case storagePlace = "storage_place"
        }
    }

    struct Decline: StrictRequest {
        var note: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case note }
    }

    struct Transfer: StrictRequest {
        var custodianUserID: UUID?
        var custodianName: String?
        var receiptNumber: String?
        var storagePlace: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case custodianUserID = "custodian_user_id"
            case custodianName = "custodian_name"
            case receiptNumber = "receipt_number"
            case storagePlace = "storage_place"
        }
    }

    struct VehicleView: Encodable {
        var id: UUID
        var plate: String
        var plateKind: String
        var ownerPersonId: UUID
        var householdId: UUID
        var gridId: UUID
        var gridPath: String
        var parkingPlace: String
        var registeredAt: Date
        var pledges: [PledgeView]
        var keys: [KeyCustodyView]
        var passes: [PassView]
    }

    struct RegisteredView: Encodable {
        var vehicleId: UUID
        var pledge: PledgeView
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        let clock = self.clock
        group.post("/vehicles") { request, context in
            let (body, raw) = try await JSONBody.decode(Register.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.vehicles.register(
                .init(plate: body.plate, ownerPersonID: body.ownerPersonID, parkingPlace: body.parkingPlace),
                by: context.actor, metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID),
                render: TransitionResponder.render(status: .created) { transitioned in
                    let pledge = transitioned.stored.machine
                    return RegisteredView(vehicleId: pledge.vehicleID,
                                          pledge: PledgeView(pledge, version: transitioned.stored.version, now: clock.now()))
                })
            return TransitionResponder.response(outcome)
        }
        group.get("/vehicles/:id") { _, context in
            let id = try context.parameters.uuid("id")
            let vehicle = try await self.vehicles.vehicle(id: id)
            _ = try context.actor.assignment(asAnyOf: Self.readers, covering: vehicle.gridPath)
            let now = clock.now()
            var view = VehicleView(
                id: vehicle.id, plate: vehicle.plate, plateKind: vehicle.plateKind, ownerPersonId: vehicle.ownerPersonID,
                householdId: vehicle.householdID, gridId: vehicle.gridID, gridPath: vehicle.gridPath.description,
                parkingPlace: vehicle.parkingPlace, registeredAt: vehicle.registeredAt, pledges: [], keys: [], passes: [])
            for record in try await self.vehicles.records(vehicleID: id) {
                switch record.kind {
                case ParkingPledge.kind:
                    view.pledges.append(PledgeView(try VehicleStore.decode(ParkingPledge.self, record.state), version: record.version, now: now))
                case KeyCustody.kind:
                    view.keys.append(KeyCustodyView(try VehicleStore.decode(KeyCustody.self, record.state), version: record.version))
                default:
                    view.passes.append(PassView(try VehicleStore.decode(PassApplication.self, record.state), version: record.version, now: now))
                }
            }
            return try JSONBody.response(view)
        }
        group.transition("/vehicles/:id/pledges", body: NewPledge.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            return try await self.vehicles.pledgeAgain(
                vehicleID: id, parkingPlace: body.parkingPlace, by: context.actor,
                metadata: metadata,
                render: Self.pledge(status: .created, clock))
        }
        group.transition("/vehicles/:id/violations", body: Violation.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            return try await self.vehicles.recordViolation(
                vehicleID: id, note: body.note, by: context.actor,
                metadata: metadata,
                render: Self.pledge(status: .created, clock))
        }
        group.transition("/vehicles/:id/key/deposit", body: Deposit.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            return try await self.vehicles.depositKey(
                vehicleID: id, custodian: .init(userID: body.custodianUserID, name: body.custodianName),
                receiptNumber: body.receiptNumber, storagePlace: body.storagePlace, by: context.actor,
                metadata: metadata, render: Self.key())
        }
        group.transition("/vehicles/:id/key/decline", body: Decline.self) { context, body, metadata in
            let id = try context.parameters.uuid("id")
            return try await self.vehicles.declineKey(
                vehicleID: id, note: body.note, by: context.actor,
                metadata: metadata, render: Self.key())
        }
        group.post("/vehicles/:id/key/transfer") { request, context in
            let id = try context.parameters.uuid("id")
            let (body, raw) = try await JSONBody.decode(Transfer.self, from: request, maxSize: 16 * 1024)
            guard body.custodianUserID != nil || body.custodianName != nil else {
                throw SignoffError(.missingField, "Name the new custodian: custodian_user_id or custodian_name.",
                                   extra: ["field": "custodian_user_id"])
            }
            let outcome = try await self.vehicles.transferKey(
                vehicleID: id, to: .init(userID: body.custodianUserID, name: body.custodianName),
                storagePlace: body.storagePlace, receiptNumber: body.receiptNumber, by: context.actor,
                metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID), render: Self.key())
            return TransitionResponder.response(outcome)
        }
        group.post("/vehicles/:id/key/return") { request, context in
            let id = try context.parameters.uuid("id")
            let (_, raw) = try await JSONBody.decode(EmptyRequest.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.vehicles.returnKey(
                vehicleID: id, by: context.actor,
                metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID), render: Self.key())
            return TransitionResponder.response(outcome)
        }
        group.get("/keys") { _, context in
            let scopes = context.actor.assignments.filter { Self.readers.contains($0.role) }.map(\.unitPath)
            guard !scopes.isEmpty else {
                _ = try context.actor.assignment(asAnyOf: Self.readers, covering: UnitPath(labels: []))
                return Response(status: .forbidden)
            }
            let keys = try await self.vehicles.keys(under: scopes)
            return try JSONBody.response(["keys": keys.map(KeyWhereaboutsView.init)])
        }
    }

    static func pledge(status: HTTPResponse.Status, _ clock: any WallClock) -> TransitionStore.Render<ParkingPledge> {
        TransitionResponder.render(status: status) { transitioned in
            PledgeView(transitioned.stored.machine, version: transitioned.stored.version, now: clock.now())
        }
    }

    static func key() -> TransitionStore.Render<KeyCustody> {
        TransitionResponder.render { transitioned in
            KeyCustodyView(transitioned.stored.machine, version: transitioned.stored.version)
        }
    }
}
