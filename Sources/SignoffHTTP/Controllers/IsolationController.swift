import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Returnee isolation by points 积分管理: registration, temperatures, fevers, release, the
/// household ledgers and the administrators' urgent list.
struct IsolationController {
    let isolation: IsolationStore

    /// Officials who may read a returnee or a household's ledgers in their jurisdiction.
    static let readers: [Role] = [.admin, .chiefLeader, .villageLeader, .branchSecretary, .groupLeader, .gridWorker, .healthOfficer]
    /// Who watches the urgent list.
    static let watchers: [Role] = [.admin, .healthOfficer]

    // MARK: Requests

    struct Register: StrictRequest {
        var personID: UUID?
        var householdID: UUID?
        var name: String?
        var idNumber: String?
        var phone: String?
        var fromProvince: String
        var fromCity: String?
        var arrivedAt: Date
        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, phone
            case personID = "person_id"
            case householdID = "household_id"
            case idNumber = "id_number"
            case fromProvince = "from_province"
            case fromCity = "from_city"
            case arrivedAt = "arrived_at"
        }
    }

    /// A temperature as typed: a number, or text holding one ("37.5", "37,5"). Anything else
    /// becomes NaN, which the machine refuses with the reading's own message.
    struct Celsius: Decodable {
        var value: Double

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                self.value = number
            } else if let text = try? container.decode(String.self),
                let number = Double(text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "."))
            {
                self.value = number
            } else {
                self.value = .nan
            }
        }
    }

    struct Temperature: StrictRequest {
        var celsius: Celsius
        var takenAt: Date?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case celsius, version
            case takenAt = "taken_at"
        }
    }

    struct HandleFever: StrictRequest {
        var note: String
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case note, version }
    }

    struct Release: StrictRequest {
        var note: String?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case note, version }
    }

    struct Infraction: StrictRequest {
        var kind: InfractionKind
        var personID: UUID?
        var note: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, note
            case personID = "person_id"
        }
    }

    struct Credit: StrictRequest {
        var kind: AutonomyCreditKind?
        var personID: UUID?
        var note: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, note
            case personID = "person_id"
        }
    }

    // MARK: Routes

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.transition("/returnees", body: Register.self) { context, body, metadata in
            return try await self.isolation.register(
                .init(returnee: try Self.returnee(body), fromProvince: body.fromProvince, fromCity: body.fromCity,
                      arrivedAt: body.arrivedAt),
                by: context.actor, metadata: metadata,
                render: self.render(status: .created))
        }
        group.get("/returnees/:id") { _, context in
            let id = try context.parameters.uuid("id")
            let stored = try await self.isolation.transitions.load(ReturneeIsolation.self, id: id)
            _ = try context.actor.assignment(asAnyOf: Self.readers, covering: stored.machine.gridPath)
            return try JSONBody.response(ReturneeView(stored, now: self.isolation.transitions.clock.now()))
        }
        self.transition(group, "temperatures", Temperature.self) { body in
            (.recordTemperature(celsius: body.celsius.value, takenAt: body.takenAt), body.version)
        }
        self.transition(group, "handle-fever", HandleFever.self) { body in (.handleFever(note: body.note), body.version) }
        self.transition(group, "release", Release.self) { body in (.release(note: body.note), body.version) }

        group.post("/households/:id/infractions") { request, context in
            let household = try context.parameters.uuid("id")
            let (body, raw) = try await JSONBody.decode(Infraction.self, from: request, maxSize: 16 * 1024)
            let threshold = try self.isolation.policy().threshold
            let outcome = try await self.isolation.recordInfraction(
                .init(householdID: household, personID: body.personID, kind: body.kind, note: body.note),
                by: context.actor, metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID),
                render: { recorded in
                    StoredResponse(status: 201, body: try JSONBody.data(InfractionView(recorded, threshold: threshold)))
                })
            return Self.response(outcome)
        }
        group.post("/households/:id/credits") { request, context in
            let household = try context.parameters.uuid("id")
            let (body, raw) = try await JSONBody.decode(Credit.self, from: request, maxSize: 16 * 1024)
            let outcome = try await self.isolation.recordCredit(
                .init(householdID: household, personID: body.personID, kind: body.kind ?? .preventionWork, note: body.note),
                by: context.actor, metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID),
                render: { recorded in
                    StoredResponse(status: 201, body: try JSONBody.data(CreditView(credit: recorded.credit, householdCredit: recorded.householdCredit)))
                })
            return Self.response(outcome)
        }
        group.get("/households/:id/ledgers") { _, context in
            let household = try context.parameters.uuid("id")
            let ledgers = try await self.isolation.ledgers(ofHousehold: household)
            _ = try context.actor.assignment(asAnyOf: Self.readers, covering: ledgers.gridPath)
            return try JSONBody.response(LedgersView(ledgers, threshold: try self.isolation.policy().threshold))
        }
        group.get("/admin/isolation/urgent") { _, context in
            let scopes = context.actor.assignments.filter { Self.watchers.contains($0.role) }.map(\.unitPath)
            guard !scopes.isEmpty else {
                throw SignoffError(.forbiddenRole, "The urgent list is for the township office 乡政府办公室 and the health centre 卫生院.",
                                   extra: ["required_roles": .array(Self.watchers.map { .string($0.rawValue) })])
            }
            let now = self.isolation.transitions.clock.now()
            let items = try await self.isolation.urgent(under: scopes)
            return try JSONBody.response(UrgentView(items, now: now))
        }
    }

    /// A route that moves one returnee through the transition path, with Idempotency-Key replay.
    private func transition<Body: StrictRequest>(
        _ group: RouterGroup<AuthenticatedContext>,
        _ action: String,
        _ type: Body.Type,
        _ command: @escaping @Sendable (Body) -> (ReturneeIsolation.Command, Int?)
    ) {
        group.post("/returnees/:id/\(action)") { request, context in
            let id = try context.parameters.uuid("id")
            let (body, raw) = try await JSONBody.decode(Body.self, from: request, maxSize: 16 * 1024)
            let (command, version) = command(body)
            let outcome = try await self.isolation.transitions.apply(
                ReturneeIsolation.self, id: id, expectedVersion: version, command, by: context.actor,
                metadata: try TransitionResponder.metadata(request, body: raw, requestID: context.requestID),
                render: self.render(status: .ok))
            return TransitionResponder.response(outcome)
        }
    }

    private func render(status: HTTPResponse.Status) -> TransitionStore.Render<ReturneeIsolation> {
        Self.render(status: status, clock: self.isolation.transitions.clock)
    }

    /// The response kept with a returnee transition's key (the web app keeps the same).
    static func render(status: HTTPResponse.Status, clock: any WallClock) -> TransitionStore.Render<ReturneeIsolation> {
        TransitionResponder.render(status: status) { transitioned in ReturneeView(transitioned.stored, now: clock.now()) }
    }

    static func returnee(_ body: Register) throws(SignoffError) -> IsolationStore.Returnee {
        switch (body.personID, body.householdID, body.name) {
        case (.some(let person), nil, nil) where body.idNumber == nil && body.phone == nil:
            return .person(person)
        case (nil, .some(let household), .some(let name)):
            return .newPerson(householdID: household, name: name, idNumber: body.idNumber, phone: body.phone)
        default:
            throw SignoffError.invalidValue(
                "person_id",
                "请填写已登记人员的 person_id, 或填写户 household_id 和姓名 name 登记新人员。Give either person_id of a registered person, or household_id and name (with optional id_number and phone) for a new member of the household.")
        }
    }

    static func response<Value>(_ outcome: WriteOutcome<Value>) -> Response {
        switch outcome {
        case .applied(_, let response?):
            return JSONBody.response(data: response.body, status: .init(code: response.status))
        case .applied:
            // Unreachable: these routes always pass a renderer, so the store always returns a response.
            return Response(status: .internalServerError)
        case .replayed(let response):
            var replayed = JSONBody.response(data: response.body, status: .init(code: response.status))
            replayed.headers[.idempotentReplayed] = "true"
            return replayed
        }
    }
}
