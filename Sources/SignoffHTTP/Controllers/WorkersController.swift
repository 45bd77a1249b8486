import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SignoffCore
import SignoffStore

/// Migrant workers 务工人员: accounts with one-time activation, health-certificate requests
/// 健康证 and directed transport 定向运输. A worker reaches only their own records: anyone
/// else's answers 404, as if it did not exist.
struct WorkersController {
    let workers: WorkersStore

    // MARK: Requests

    struct CreateAccount: StrictRequest {
        var personID: UUID
        var phone: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case personID = "person_id"
            case phone
        }
    }

    struct Activate: StrictRequest {
        var login: String
        var activationCode: String
        var password: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case login, password
            case activationCode = "activation_code"
        }
    }

    struct FileRequest: StrictRequest {
        var personID: UUID?
        var destinationProvince: String
        var destinationCity: String
        var employer: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case personID = "person_id"
            case destinationProvince = "destination_province"
            case destinationCity = "destination_city"
            case employer
        }
    }

    struct Note: StrictRequest {
        var note: String?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case note, version }
    }

    struct Reasoned: StrictRequest {
        var reason: String?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case reason, version }
    }

    struct Exam: StrictRequest {
        enum Result: String, Decodable { case pass, fail }
        var result: Result
        var reason: String?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case result, reason, version }
    }

    struct FileTrip: StrictRequest {
        var unitID: UUID?
        var destinationProvince: String
        var destinationCity: String
        var employer: String
        var departureDate: Date
        var vehiclePlate: String
        var driverName: String
        var driverPhone: String?
        var workerIDs: [UUID]
        enum CodingKeys: String, CodingKey, CaseIterable {
            case unitID = "unit_id"
            case destinationProvince = "destination_province"
            case destinationCity = "destination_city"
            case employer
            case departureDate = "departure_date"
            case vehiclePlate = "vehicle_plate"
            case driverName = "driver_name"
            case driverPhone = "driver_phone"
            case workerIDs = "worker_ids"
        }
    }

    struct Depart: StrictRequest {
        var boarded: Int
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case boarded, version }
    }

    // MARK: Views

    struct RequestView: Encodable {
        var id: UUID
        var version: Int
        var state: String
        /// Where the request stands, in words a worker understands.
        var status: String
        var personId: UUID
        var destinationProvince: String
        var destinationCity: String
        var employer: String?
        var scope: String
        var filedAt: Date
        var verifiedAt: Date?
        var examinedAt: Date?
        var certificateNumber: String?
        var issuedAt: Date?
        var validUntil: Date?
        var failReason: String?
        var cancelReason: String?

        init(_ stored: Stored<CertificateRequest>, now: Date) {
            let request = stored.machine
            self.id = stored.id
            self.version = stored.version
            self.state = request.displayStatus(at: now).rawValue
            self.status = switch request.displayStatus(at: now) {
            case .filed: "已提交，等待村里核实身份和居住情况 (filed; the village will verify identity and residence)"
            case .verified: "已核实，请到卫生院体检 (verified; go to the township health centre for the exam)"
            case .certified: "已发健康证 \(request.certificateNumber ?? "") (certificate issued)"
            case .expired: "健康证已过期 (certificate expired; file a new request)"
            case .failed: "体检未通过 (exam not passed): \(request.failReason ?? "")"
            case .cancelled: "已撤回 (cancelled)"
            case .revoked: "健康证已注销 (certificate revoked): \(request.revokeReason ?? "")"
            }
            self.personId = request.personID
            self.destinationProvince = request.destination.province
            self.destinationCity = request.destination.city
            self.employer = request.destination.employer
            self.scope = request.scope.rawValue
            self.filedAt = request.filedAt
            self.verifiedAt = request.verifiedAt
            self.examinedAt = request.examinedAt
            self.certificateNumber = request.certificateNumber
            self.issuedAt = request.issuedAt
            self.validUntil = request.validUntil
            self.failReason = request.failReason
            self.cancelReason = request.cancelReason
        }
    }

    struct TripView: Encodable {
        struct Worker: Encodable {
            var personId: UUID
            var name: String
            var poorHousehold: Bool
            var certificateNumber: String
        }

        var id: UUID
        var version: Int
        var state: String
        var unitPath: String
        var destinationProvince: String
        var destinationCity: String
        var employer: String?
        var scope: String
        var departureDate: Date
        var vehiclePlate: String
        var driverName: String
        var workers: [Worker]
        var poorHouseholdWorkers: Int
        var boarded: Int?
        var rejectReason: String?
        var cancelReason: String?

        init(_ stored: Stored<TransportTrip>) {
            let trip = stored.machine
            self.id = stored.id
            self.version = stored.version
            self.state = trip.stateName
            self.unitPath = trip.unitPath.description
            self.destinationProvince = trip.destination.province
            self.destinationCity = trip.destination.city
            self.employer = trip.destination.employer
            self.scope = trip.requiredScope.rawValue
            self.departureDate = trip.departureDate
            self.vehiclePlate = trip.vehiclePlate
            self.driverName = trip.driverName
            self.workers = trip.workers.map { .init(personId: $0.personID, name: $0.name, poorHousehold: $0.poor, certificateNumber: $0.certificateNumber) }
            self.poorHouseholdWorkers = trip.poorHouseholdWorkers
            self.boarded = trip.boarded
            self.rejectReason = trip.rejectReason
            self.cancelReason = trip.cancelReason
        }
    }

    // MARK: Routes

    func addRoutes(to router: Router<AppRequestContext>, authenticated group: RouterGroup<AuthenticatedContext>) {
        router.post("/auth/activate") { request, _ in
            let (body, _) = try await JSONBody.decode(Activate.self, from: request, maxSize: 16 * 1024)
            try await self.workers.activate(login: body.login.trimmingCharacters(in: .whitespaces), code: body.activationCode, password: body.password)
            return Response(status: .noContent)
        }
        group.post("/worker-accounts") { request, context in
            let (body, _) = try await JSONBody.decode(CreateAccount.self, from: request, maxSize: 16 * 1024)
            let created = try await self.workers.createWorkerAccount(personID: body.personID, phone: body.phone, by: context.actor, requestID: context.requestID)
            return try JSONBody.response(created, status: .created)
        }
        self.addRequestRoutes(group)
        self.addTripRoutes(group)
    }

    private var now: Date { self.workers.transitions.clock.now() }

    private func requestRender(status: HTTPResponse.Status = .ok) -> TransitionStore.Render<CertificateRequest> {
        let clock = self.workers.transitions.clock
        return TransitionResponder.render(status: status) { RequestView($0.stored, now: clock.now()) }
    }

    private func addRequestRoutes(_ group: RouterGroup<AuthenticatedContext>) {
        group.post("/certificate-requests") { request, context in
            let (body, raw) = try await JSONBody.decode(FileRequest.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.workers.fileRequest(
                personID: body.personID,
                destination: .init(province: body.destinationProvince, city: body.destinationCity, employer: body.employer),
                by: context.actor, metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID),
                render: self.requestRender(status: .created))
            return TransitionResponder.response(outcome)
        }
        group.get("/certificate-requests") { request, context in
            let state = try request.uri.queryParameters["state"].map { text -> CertificateRequest.State in
                guard let state = CertificateRequest.State(rawValue: String(text)) else {
                    throw SignoffError.invalidValue("state", "Unknown state ‘\(text)’; one of \(CertificateRequest.State.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                return state
            }
            let now = self.now
            let found = try await self.workers.requests(for: context.actor, state: state)
            return try JSONBody.response(["requests": found.map { RequestView($0, now: now) }])
        }
        group.get("/certificate-requests/:id") { _, context in
            let id = try context.parameters.uuid("id")
            return try JSONBody.response(RequestView(try await self.workers.request(id, for: context.actor), now: self.now))
        }
        group.post("/certificate-requests/:id/verify") { request, context in
            let (body, raw) = try await JSONBody.decode(Note.self, from: request, maxSize: 16 * 1024)
            return try await self.act(.verify(note: body.note), version: body.version, request, raw, context)
        }
        group.post("/certificate-requests/:id/exam") { request, context in
            let (body, raw) = try await JSONBody.decode(Exam.self, from: request, maxSize: 16 * 1024)
            let action: WorkersStore.RequestAction = body.result == .pass ? .pass : .fail(reason: body.reason)
            return try await self.act(action, version: body.version, request, raw, context)
        }
        group.post("/certificate-requests/:id/cancel") { request, context in
            let (body, raw) = try await JSONBody.decode(Reasoned.self, from: request, maxSize: 16 * 1024)
            return try await self.act(.cancel(reason: body.reason), version: body.version, request, raw, context)
        }
        group.post("/certificate-requests/:id/revoke") { request, context in
            let (body, raw) = try await JSONBody.decode(Reasoned.self, from: request, maxSize: 16 * 1024)
            return try await self.act(.revoke(reason: body.reason), version: body.version, request, raw, context)
        }
    }

    private func act(
        _ action: WorkersStore.RequestAction, version: Int?, _ request: Request, _ raw: Data, _ context: AuthenticatedContext
    ) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let outcome = try await self.workers.apply(
            action, toRequest: id, expectedVersion: version, by: context.actor,
            metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID), render: self.requestRender())
        return TransitionResponder.response(outcome)
    }

    private func addTripRoutes(_ group: RouterGroup<AuthenticatedContext>) {
        let tripRender: TransitionStore.Render<TransportTrip> = TransitionResponder.render { TripView($0.stored) }
        group.transition("/transport-trips", body: FileTrip.self, maxSize: 64 * 1024) { context, body, metadata in
            return try await self.workers.fileTrip(
                .init(unitID: body.unitID,
                      destination: .init(province: body.destinationProvince, city: body.destinationCity, employer: body.employer),
                      departureDate: body.departureDate, vehiclePlate: body.vehiclePlate, driverName: body.driverName,
                      driverPhone: body.driverPhone, workerIDs: body.workerIDs),
                by: context.actor, metadata: metadata,
                render: TransitionResponder.render(status: .created) { TripView($0.stored) })
        }
        group.get("/transport-trips/:id") { _, context in
            let id = try context.parameters.uuid("id")
            return try JSONBody.response(TripView(try await self.workers.trip(id, for: context.actor)))
        }
        func trip(_ action: String, _ command: @escaping @Sendable (Data) throws -> (TransportTrip.Command, Int?)) {
            group.post("/transport-trips/:id/\(action)") { request, context in
                let id = try context.parameters.uuid("id")
                let raw = Data(buffer: try await request.body.collect(upTo: 16 * 1024))
                let (parsed, version) = try command(raw)
                let outcome = try await self.workers.apply(
                    parsed, toTrip: id, expectedVersion: version, by: context.actor,
                    metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID), render: tripRender)
                return TransitionResponder.response(outcome)
            }
        }
        trip("approve") { let body = try JSONBody.decode(Note.self, from: $0); return (.approve(note: body.note), body.version) }
        trip("reject") { let body = try JSONBody.decode(Reasoned.self, from: $0); return (.reject(reason: body.reason), body.version) }
        trip("depart") { let body = try JSONBody.decode(Depart.self, from: $0); return (.depart(boarded: body.boarded), body.version) }
        trip("arrive") { let body = try JSONBody.decode(Note.self, from: $0); return (.arrive(note: body.note), body.version) }
        trip("cancel") { let body = try JSONBody.decode(Reasoned.self, from: $0); return (.cancel(reason: body.reason), body.version) }
    }
}

/// The township report: administrators see their whole unit, a branch secretary their village.
struct ReportsController {
    let reports: ReportStore

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("/reports/township") { request, context in
            let readers: [Role] = [.admin, .chiefLeader, .branchSecretary]
            guard let scope = context.actor.assignments.filter({ readers.contains($0.role) })
                .min(by: { $0.unitPath.labels.count < $1.unitPath.labels.count })
            else {
                throw SignoffError(.forbiddenRole, "The township report needs the role 乡政府办公室 (admin), 主要领导 (chief_leader) or 支部书记 (branch_secretary).",
                                   extra: ["required_roles": .array(readers.map { .string($0.rawValue) })])
            }
            let period = try TownshipReport.Period.parse(from: request.uri.queryParameters["from"].map(String.init),
                                                         to: request.uri.queryParameters["to"].map(String.init))
            let report = try await self.reports.township(under: scope.unitPath, period: period)
            if request.uri.queryParameters["format"] == "csv" {
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: .init(string: report.csv())))
            }
            return try JSONBody.response(report)
        }
    }
}
