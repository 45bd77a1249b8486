import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// The grid worker's field actions: vehicles and their 停放承诺书, 钥匙代管, violations, the
/// 通行证 application, the 农用车通行证明 request, and returnees with their temperatures and
/// the household's points. Each is one call of the stores' transition path with the form's key.
struct FieldPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var services: SignoffServices { self.app.services }
    var now: Date { self.app.clock.now() }

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/vehicles") { request, context in try await self.vehicleList(request, context) }
        group.get("/vehicles/new") { _, context in try await self.newVehicle(context) }
        group.post("/vehicles") { request, context in
            try await self.act(request, context, replayKey: "vehicle_id", replayPrefix: "/app/vehicles/") { form, metadata in
                let outcome = try await self.services.vehicles.register(
                    .init(plate: form.text("plate") ?? "", ownerPersonID: try form.uuid("owner_person_id"),
                          parkingPlace: form.text("parking_place") ?? ""),
                    by: context.actor, metadata: metadata, render: VehiclesController.pledge(status: .created, self.app.clock))
                return Self.location(outcome) { "/app/vehicles/\($0.stored.machine.vehicleID.uuidString.lowercased())?done=registered" }
            }
        }
        group.get("/vehicles/:id") { request, context in
            try await self.vehiclePage(try SignerPages.pathID(context), context, done: request.uri.queryParameters["done"].map(String.init))
        }
        group.post("/vehicles/:id/key-deposit") { request, context in
            let id = try SignerPages.pathID(context)
            return try await self.act(request, context, fallback: Self.vehicleLocation(id)) { form, metadata in
                Self.location(try await self.services.vehicles.depositKey(
                    vehicleID: id, custodian: .init(userID: nil, name: form.text("custodian")),
                    receiptNumber: form.text("receipt_number") ?? "", storagePlace: form.text("storage_place") ?? "",
                    by: context.actor, metadata: metadata, render: VehiclesController.key())) { _ in Self.vehicleLocation(id, "key") }
            }
        }
        group.post("/vehicles/:id/key-decline") { request, context in
            let id = try SignerPages.pathID(context)
            return try await self.act(request, context, fallback: Self.vehicleLocation(id)) { form, metadata in
                Self.location(try await self.services.vehicles.declineKey(
                    vehicleID: id, note: form.text("note"), by: context.actor, metadata: metadata,
                    render: VehiclesController.key())) { _ in Self.vehicleLocation(id, "declined") }
            }
        }
        group.post("/vehicles/:id/key-transfer") { request, context in
            let id = try SignerPages.pathID(context)
            return try await self.act(request, context, fallback: Self.vehicleLocation(id)) { form, metadata in
                guard let name = form.text("custodian") else {
                    throw SignoffError(.missingField, "Name the new custodian.", extra: ["field": "custodian"])
                }
                return Self.location(try await self.services.vehicles.transferKey(
                    vehicleID: id, to: .init(userID: nil, name: name), storagePlace: form.text("storage_place"),
                    receiptNumber: form.text("receipt_number"), by: context.actor, metadata: metadata,
                    render: VehiclesController.key())) { _ in Self.vehicleLocation(id, "transferred") }
            }
        }
        group.post("/vehicles/:id/key-return") { request, context in
            let id = try SignerPages.pathID(context)
            return try await self.act(request, context, fallback: Self.vehicleLocation(id)) { _, metadata in
                Self.location(try await self.services.vehicles.returnKey(
                    vehicleID: id, by: context.actor, metadata: metadata, render: VehiclesController.key())) { _ in
                    Self.vehicleLocation(id, "returned")
                }
            }
        }
        group.post("/vehicles/:id/violation") { request, context in
            let id = try SignerPages.pathID(context)
            return try await self.act(request, context, fallback: Self.vehicleLocation(id)) { form, metadata in
                guard let note = form.text("note") else {
                    throw SignoffError(.reasonRequired, "Say what happened.", extra: ["field": "note"])
                }
                return Self.location(try await self.services.vehicles.recordViolation(
                    vehicleID: id, note: note, by: context.actor, metadata: metadata,
                    render: VehiclesController.pledge(status: .ok, self.app.clock))) { _ in Self.vehicleLocation(id, "violation") }
            }
        }
        group.post("/vehicles/:id/pass") { request, context in
            let id = try SignerPages.pathID(context)
            return try await self.act(request, context, replayKey: "id", replayPrefix: "/app/passes/") { _, metadata in
                Self.location(try await self.services.vehicles.applyForPass(
                    vehicleID: id, by: context.actor, metadata: metadata, render: SignerPages(app: self.app).render())) {
                    "/app/passes/\($0.stored.id.uuidString.lowercased())?done=applied"
                }
            }
        }
        group.get("/agricultural-passes/new") { _, context in try await self.newAgriculturalPass(context) }
        group.post("/agricultural-passes") { request, context in
            try await self.act(request, context, fallback: "/app/agricultural-passes/new?done=requested") { form, metadata in
                let plate = form.text("plate")
                let outcome = try await self.services.agriculturalPasses.request(
                    .init(householdID: try form.uuid("household_id"), vehicleDescription: form.text("vehicle_description") ?? "",
                          plate: plate, purpose: form.text("purpose") ?? "", route: form.text("route") ?? ""),
                    by: context.actor, metadata: metadata, render: AgriculturalPassesController(
                        passes: self.services.agriculturalPasses, clock: self.app.clock).render(status: .created))
                return Self.location(outcome) { _ in "/app/agricultural-passes/new?done=requested" }
            }
        }
        group.get("/returnees") { request, context in try await self.returneeList(request, context) }
        group.get("/returnees/new") { request, context in try await self.newReturnee(request, context) }
        group.post("/returnees") { request, context in
            try await self.act(request, context, replayKey: "id", replayPrefix: "/app/returnees/") { form, metadata in
                let returnee: IsolationStore.Returnee
                if let person = form.text("person_id").flatMap(UUID.init(uuidString:)) {
                    returnee = .person(person)
                } else if let name = form.text("name") {
                    returnee = .newPerson(householdID: try form.uuid("household_id"), name: name, idNumber: nil, phone: form.text("phone"))
                } else {
                    throw SignoffError(.missingField, "Choose the person or give a name.", extra: ["field": "person_id"])
                }
                guard let arrived = form.text("arrived_at").flatMap(WebText.parseLocalInput) else {
                    throw SignoffError.invalidValue("arrived_at", "Give the time of arrival.")
                }
                let outcome = try await self.services.isolation.register(
                    .init(returnee: returnee, fromProvince: form.text("from_province") ?? "", fromCity: form.text("from_city"),
                          arrivedAt: arrived),
                    by: context.actor, metadata: metadata, render: IsolationController.render(status: .created, clock: self.app.clock))
                return Self.location(outcome) { "/app/returnees/\($0.stored.id.uuidString.lowercased())?done=registered" }
            }
        }
        group.get("/returnees/:id") { request, context in
            try await self.returneePage(try SignerPages.pathID(context), context, done: request.uri.queryParameters["done"].map(String.init))
        }
        group.post("/returnees/:id/temperature") { request, context in
            let id = try SignerPages.pathID(context)
            return try await self.act(request, context, fallback: "/app/returnees/\(id.uuidString.lowercased())") { form, metadata in
                guard let text = form.text("celsius")?.replacingOccurrences(of: "，", with: "."), let celsius = Double(text) else {
                    throw SignoffError.invalidValue("celsius", "Give the temperature in °C, such as 36.6.")
                }
                let outcome = try await self.services.isolation.transitions.apply(
                    ReturneeIsolation.self, id: id, .recordTemperature(celsius: celsius, takenAt: nil), by: context.actor,
                    metadata: metadata, render: IsolationController.render(status: .ok, clock: self.app.clock))
                return Self.location(outcome) { transitioned in
                    let fever = transitioned.stored.machine.readings.last?.isFever == true
                    return "/app/returnees/\(id.uuidString.lowercased())?done=\(fever ? "fever" : "reading")"
                }
            }
        }
        group.get("/households/:id") { request, context in
            try await self.householdPage(try SignerPages.pathID(context), context, done: request.uri.queryParameters["done"].map(String.init))
        }
        group.post("/households/:id/infractions") { request, context in
            let id = try SignerPages.pathID(context)
            let location = "/app/households/\(id.uuidString.lowercased())?done=infraction"
            return try await self.act(request, context, fallback: location) { form, metadata in
                guard let kind = form.text("kind").flatMap(InfractionKind.init(rawValue:)) else {
                    throw SignoffError.invalidValue("kind", "Choose the kind of infraction.")
                }
                let threshold = try self.services.isolation.policy().threshold
                let outcome = try await self.services.isolation.recordInfraction(
                    .init(householdID: id, personID: form.text("person_id").flatMap(UUID.init(uuidString:)), kind: kind,
                          note: form.text("note")),
                    by: context.actor, metadata: metadata,
                    render: { recorded in
                        StoredResponse(status: 201, body: try JSONBody.data(IsolationController.InfractionView(recorded, threshold: threshold)))
                    })
                return Self.location(outcome, location)
            }
        }
    }

    // MARK: One field action

    /// Reads the form (CSRF), runs the action, and answers with a redirect to where the user
    /// goes next, or JSON for the outbox. A replay goes to `fallback`, or to the record named
    /// by `replayKey` in the stored response.
    func act(
        _ request: Request, _ context: WebContext, fallback: String = "/app", replayKey: String? = nil, replayPrefix: String = "",
        _ perform: @escaping @Sendable (WebForm, RequestMetadata) async throws -> Next
    ) async throws -> Response {
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        do {
            let location: String
            let replayed: Bool
            switch try await perform(form, metadata) {
            case .done(let done):
                location = done
                replayed = false
            case .replayed(let stored):
                location = Self.replayLocation(stored, key: replayKey, prefix: replayPrefix) ?? fallback
                replayed = true
            }
            if WebOutcome.wantsJSON(request) {
                return WebOutcome(result: replayed ? .replayed : .ok, message: "已保存。", location: location).response()
            }
            return WebRenderer.redirect(location)
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated {
            guard WebOutcome.wantsJSON(request) else { throw error }
            let conflict = WebText.isHandledElsewhere(error)
            return WebOutcome(result: conflict ? .conflict : .refused,
                              message: conflict ? "该记录已由他人更新，请刷新后查看。" : WebText.message(for: error))
                .response(status: .init(code: error.code.httpStatus))
        }
    }

    /// Where the user goes after an action: the place it leads, or for a replay the record
    /// its stored response names.
    enum Next: Sendable {
        case done(String)
        case replayed(StoredResponse)
    }

    static func location<Machine: AuditedMachine>(_ outcome: TransitionOutcome<Machine>, _ place: (Transitioned<Machine>) -> String) -> Next {
        switch outcome {
        case .applied(let transitioned, _): .done(place(transitioned))
        case .replayed(let stored): .replayed(stored)
        }
    }

    static func location<Value>(_ outcome: WriteOutcome<Value>, _ place: String) -> Next {
        switch outcome {
        case .applied: .done(place)
        case .replayed(let stored): .replayed(stored)
        }
    }

    static func vehicleLocation(_ id: UUID, _ done: String? = nil) -> String {
        "/app/vehicles/\(id.uuidString.lowercased())" + (done.map { "?done=\($0)" } ?? "")
    }

    /// The record a replayed response names, read from the response kept with the key.
    static func replayLocation(_ stored: StoredResponse, key: String?, prefix: String) -> String? {
        guard let key, let object = try? JSONSerialization.jsonObject(with: stored.body) as? [String: Any],
              let id = object[key] as? String else { return nil }
        return prefix + id.lowercased()
    }

    var gridPaths: @Sendable (WebContext) throws -> [UnitPath] {
        { context in
            let paths = context.actor.assignments.filter { $0.role == .gridWorker }.map(\.unitPath)
            guard !paths.isEmpty else { _ = try context.actor.assignment(as: .gridWorker, covering: UnitPath(labels: [])); return [] }
            return paths
        }
    }

    static let doneText: [String: String] = [
        "registered": "已登记，停放承诺书已签。", "key": "钥匙已交村代管。", "declined": "已记录：车主拒交钥匙。",
        "transferred": "钥匙已转交。", "returned": "钥匙已归还车主。", "violation": "已记录违规，停放重新计时。",
        "requested": "农用车通行证明申请已提交，待支部书记签发。", "reading": "体温已记录。",
        "fever": "体温偏高（发热），已立即上报卫生院！", "infraction": "已记入积分。",
    ]

    static func notice(_ done: String?) -> SignerPages.Notice? {
        guard let done, let text = Self.doneText[done] else { return nil }
        return SignerPages.Notice(kind: done == "fever" ? "error" : "ok", text: text)
    }

    // MARK: Vehicles

    struct VehicleCard {
        var id: String
        var plate: String
        var owner: String
        var pledge: String
        var clearance: String
        var cleared: Bool
        var key: String
        var pass: String
    }

    func vehicleList(_ request: Request, _ context: WebContext) async throws -> Response {
        let paths = try self.gridPaths(context)
        let now = self.now
        let overviews = try await self.app.directory.vehicles(under: paths)
        let cards = overviews.map { overview -> VehicleCard in
            let pledge = overview.pledge?.machine
            let openPass = overview.pass.map { $0.machine.state == .pending || $0.machine.state == .rejected || $0.machine.state == .effective } ?? false
            let cleared = pledge.map { $0.state == .parked && $0.isCleared(at: now) } ?? false
            return VehicleCard(
                id: overview.vehicle.id.uuidString.lowercased(), plate: overview.vehicle.plate, owner: overview.ownerName,
                pledge: pledge.map { WebText.pledgeState($0.state) } ?? "",
                clearance: pledge.map { $0.state == .parked ? ($0.isCleared(at: now) ? "停放已满期限" : "\(WebText.day($0.clearanceDueAt)) 起可申请通行证") : "" } ?? "",
                cleared: cleared && !openPass,
                key: overview.key.map { WebText.keyState($0.machine.state) } ?? "钥匙未登记",
                pass: overview.pass.map { "通行证" + WebText.passState($0.machine, at: now) } ?? "")
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "车辆与钥匙"),
            "cards": cards, "empty": cards.isEmpty, "count": cards.count,
            "ready": cards.filter(\.cleared).count,
        ]
        return self.renderer.page("vehicles", model)
    }

    struct OwnerOption {
        var id: String
        var label: String
    }

    func owners(_ context: WebContext) async throws -> [OwnerOption] {
        let households = try await self.app.directory.households(under: try self.gridPaths(context))
        return households.flatMap { household in
            household.members.map { OwnerOption(id: $0.id.uuidString.lowercased(),
                                                label: "\($0.name)（\(household.code)，户主 \(household.headName)\(household.poor ? "，贫困户" : "")）") }
        }
    }

    func newVehicle(_ context: WebContext) async throws -> Response {
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "登记车辆", back: "/app/vehicles"),
            "owners": try await self.owners(context), "key": WebApp.newKey(),
        ]
        return self.renderer.page("vehicle_new", model)
    }

    func vehiclePage(_ id: UUID, _ context: WebContext, done: String?) async throws -> Response {
        let readers = context.actor.assignments.filter { VehiclesController.readers.contains($0.role) }.map(\.unitPath)
        let overview: VehicleOverview
        do {
            overview = try await self.app.directory.vehicle(id: id, under: readers)
        } catch let error as SignoffError where error.code == .notFound {
            // Tell "not yours" from "no such vehicle", as the API does.
            _ = try await self.services.vehicles.vehicle(id: id)
            throw SignoffError(.outOfJurisdiction, "This vehicle lies outside your units.")
        }
        let now = self.now
        let pledge = overview.pledge?.machine
        let key = overview.key?.machine
        let pass = overview.pass
        let applicant = (try? context.actor.assignment(as: .gridWorker, covering: overview.vehicle.gridPath)) != nil
        let passOpen = pass.map { [.pending, .rejected].contains($0.machine.state) || ($0.machine.state == .effective && !$0.machine.isExpired(at: now)) } ?? false
        let parked = pledge?.state == .parked
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: overview.vehicle.plate, back: "/app/vehicles"),
            "id": id.uuidString.lowercased(), "plate": overview.vehicle.plate, "owner": overview.ownerName,
            "household": overview.householdCode, "householdID": overview.vehicle.householdID.uuidString.lowercased(),
            "notice": Self.notice(done) ?? .none, "hasNotice": Self.notice(done) != nil,
            "pledge": pledge.map { WebText.pledgeState($0.state) } ?? "", "parkingPlace": overview.vehicle.parkingPlace,
            "parkedSince": WebText.time(pledge?.parkedSince), "clearanceDue": WebText.time(pledge?.clearanceDueAt),
            "violations": pledge?.violations.map { ["at": WebText.time($0.at), "note": $0.note, "by": $0.recordedByName] } ?? [],
            "keyState": key.map { WebText.keyState($0.state) } ?? "钥匙未登记",
            "keyHolder": key?.custodian?.name ?? "", "keyPlace": key?.storagePlace ?? "", "receipt": key?.receiptNumber ?? "",
            "canDeposit": applicant && parked && key?.state != .held,
            "canDecline": applicant && parked && (key == nil || key?.state == .returned),
            "canTransfer": applicant && key?.state == .held,
            "canReturn": applicant && key?.state == .held && (pledge?.state == .released || pass?.machine.state == .effective),
            "canViolate": applicant && parked,
            "canApply": applicant && parked && !passOpen && (pledge?.isCleared(at: now) ?? false),
            "applyFrom": applicant && parked && !passOpen && !(pledge?.isCleared(at: now) ?? true) ? WebText.time(pledge?.clearanceDueAt) : "",
            "passID": pass?.id.uuidString.lowercased() ?? "", "passState": pass.map { WebText.passState($0.machine, at: now) } ?? "",
            "key0": WebApp.newKey(), "key1": WebApp.newKey(), "key2": WebApp.newKey(), "key3": WebApp.newKey(),
            "key4": WebApp.newKey(), "key5": WebApp.newKey(),
            "hasViolations": !(pledge?.violations.isEmpty ?? true),
        ]
        return self.renderer.page("vehicle", model)
    }

    // MARK: Agricultural pass

    func newAgriculturalPass(_ context: WebContext) async throws -> Response {
        let households = try await self.app.directory.households(under: try self.gridPaths(context))
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "农用车通行证明", back: "/app"),
            "households": households.map { ["id": $0.id.uuidString.lowercased(), "label": "\($0.code) 户主 \($0.headName)"] },
            "key": WebApp.newKey(),
        ]
        return self.renderer.page("agricultural_new", model)
    }

    // MARK: Returnees

    func returneeList(_ request: Request, _ context: WebContext) async throws -> Response {
        let found = try await self.app.directory.returnees(under: try self.gridPaths(context))
        let now = self.now
        let cards = found.map { stored, name in
            [
                "id": stored.id.uuidString.lowercased(), "name": name, "placement": Self.placement(stored.machine),
                "fever": stored.machine.openFever != nil,
                "due": stored.machine.nextReadingDue.map { $0 < now ? "体温检测已超时" : "下次测体温 \(WebText.time($0))" } ?? "",
            ] as [String: Any]
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "返乡人员"), "cards": cards, "empty": cards.isEmpty,
        ]
        return self.renderer.page("returnees", model)
    }

    static func placement(_ isolation: ReturneeIsolation) -> String {
        switch isolation.state {
        case .home: "居家隔离"
        case .centralCompulsory: "集中隔离（重点疫区，强制）"
        case .centralSelfPaid: "集中隔离（积分满分，自费）"
        case .released: "已解除隔离"
        }
    }

    /// The registration form; a visit that found a returnee links here with the household, and
    /// the person or their name, filled in (`household_id`, `person_id`, `name`).
    func newReturnee(_ request: Request, _ context: WebContext) async throws -> Response {
        let households = try await self.app.directory.households(under: try self.gridPaths(context))
        let query = request.uri.queryParameters
        let household = query["household_id"].map { String($0).lowercased() }
        let person = query["person_id"].map { String($0).lowercased() }
        let name = query["name"].map { String($0).removingPercentEncoding ?? String($0) } ?? ""
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "返乡人员登记", back: "/app/returnees"),
            "people": try await self.owners(context).map { ["id": $0.id, "label": $0.label, "selected": $0.id == person] as [String: Any] },
            "households": households.map {
                ["id": $0.id.uuidString.lowercased(), "label": "\($0.code) 户主 \($0.headName)",
                 "selected": person == nil && $0.id.uuidString.lowercased() == household] as [String: Any]
            },
            "prefillName": person == nil ? name : "", "fromVisit": household != nil,
            "now": WebText.localInput(self.now), "key": WebApp.newKey(),
            "keyAreas": (try? self.services.isolation.policy().keyAreas.map(\.name).joined(separator: "、")) ?? "",
        ]
        return self.renderer.page("returnee_new", model)
    }

    func returneePage(_ id: UUID, _ context: WebContext, done: String?) async throws -> Response {
        let stored = try await self.services.isolation.transitions.load(ReturneeIsolation.self, id: id)
        let isolation = stored.machine
        _ = try context.actor.assignment(asAnyOf: IsolationController.readers, covering: isolation.gridPath)
        let explanation = isolation.explanation
        let name = try await self.app.directory.personName(isolation.personID) ?? ""
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "返乡人员 \(name)", back: "/app/returnees"),
            "id": id.uuidString.lowercased(), "name": name, "placement": Self.placement(isolation),
            "notice": Self.notice(done) ?? .none, "hasNotice": Self.notice(done) != nil,
            "summary": String(explanation.summary.prefix { $0 != "。" }) + "。",
            "from": [isolation.fromProvince, isolation.fromCity ?? ""].joined(separator: " "),
            "arrived": WebText.time(isolation.arrivedAt), "ends": WebText.time(explanation.isolationEndsAt),
            "total": explanation.total, "threshold": explanation.threshold,
            "hasEntries": !explanation.entries.isEmpty,
            "entries": explanation.entries.map { ["kind": $0.kind.chineseName, "points": $0.points, "at": WebText.time($0.recordedAt)] as [String: Any] },
            "readings": isolation.readings.reversed().map {
                ["celsius": String(format: "%.1f", $0.celsius), "at": WebText.time($0.takenAt), "fever": $0.isFever, "by": $0.recordedByName] as [String: Any]
            },
            "fever": isolation.openFever != nil,
            "canRecord": isolation.state != .released && (try? context.actor.assignment(as: .gridWorker, covering: isolation.gridPath)) != nil,
            "householdID": isolation.householdID.uuidString.lowercased(), "key": WebApp.newKey(),
        ]
        return self.renderer.page("returnee", model)
    }

    func householdPage(_ id: UUID, _ context: WebContext, done: String?) async throws -> Response {
        let ledgers = try await self.services.isolation.ledgers(ofHousehold: id)
        _ = try context.actor.assignment(asAnyOf: IsolationController.readers, covering: ledgers.gridPath)
        let threshold = try self.services.isolation.policy().threshold
        let total = ledgers.infractions.reduce(0) { $0 + $1.points }
        let household = try await self.app.directory.households(under: [ledgers.gridPath]).first { $0.id == id }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "户积分", back: "/app/returnees"),
            "id": id.uuidString.lowercased(), "household": household.map { "\($0.code) 户主 \($0.headName)" } ?? "",
            "notice": Self.notice(done) ?? .none, "hasNotice": Self.notice(done) != nil,
            "total": total, "threshold": threshold, "over": total >= threshold,
            "credit": ledgers.credits.reduce(0) { $0 + $1.points },
            "entries": ledgers.infractions.reversed().map {
                ["kind": $0.kind.chineseName, "points": $0.points, "at": WebText.time($0.recordedAt), "note": $0.note ?? ""] as [String: Any]
            },
            "kinds": InfractionKind.allCases.map { ["value": $0.rawValue, "label": "\($0.chineseName)（\((try? self.services.isolation.policy().points(for: $0)) ?? 0)分）"] },
            "members": household?.members.map { ["id": $0.id.uuidString.lowercased(), "name": $0.name] } ?? [],
            "canRecord": (try? context.actor.assignment(as: .gridWorker, covering: ledgers.gridPath)) != nil,
            "key": WebApp.newKey(),
        ]
        return self.renderer.page("household", model)
    }
}
