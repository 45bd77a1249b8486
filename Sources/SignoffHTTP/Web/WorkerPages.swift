import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// The migrant worker's pages (务工人员): activation with the one-time code, the 健康证 request
/// and its timeline, the certificate with its QR code, and the worker's 定向运输 trip. The
/// village (网格员, 支部书记) and the health centre (卫生院) act on the same request pages.
/// A worker reading any record not their own gets the one "not found" page.
struct WorkerPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var workers: WorkersStore { self.app.services.workers }

    static let officialRoles: [Role] = [.gridWorker, .branchSecretary, .healthOfficer, .admin]

    static func seesCertificates(_ actor: Principal) -> Bool {
        actor.holds(.worker) || actor.assignments.contains { Self.officialRoles.contains($0.role) }
    }

    static func homeSubtitle(_ actor: Principal) -> String {
        if actor.isWorkerOnly { return "申请 · 进度 · 出示证件 · 定向运输" }
        if actor.holds(.healthOfficer) { return "体检 · 发证" }
        return "村委会核实"
    }

    func addRoutes(to group: RouterGroup<WebContext>, anonymous: RouterGroup<AppRequestContext>) {
        anonymous.get("/activate") { request, _ in self.activatePage(request, error: nil, phone: "") }
        anonymous.post("/activate") { request, _ in try await self.activate(request) }
        anonymous.get("/verify/:id") { request, context in try await self.verifyPage(request, context) }

        group.get("/certificates") { request, context in try await self.list(request, context) }
        group.get("/certificates/new") { _, context in try await self.newPage(context, error: nil) }
        group.post("/certificates") { request, context in try await self.file(request, context) }
        group.get("/certificates/:id") { request, context in try await self.requestPage(request, context) }
        group.get("/certificates/:id/certificate") { request, context in try await self.certificatePage(request, context) }
        for action in ["verify", "pass", "fail", "cancel"] {
            group.post("/certificates/:id/\(action)") { request, context in try await self.act(action, request, context) }
        }
        group.get("/trips") { _, context in try await self.trips(context) }
    }

    // MARK: Activation

    func activatePage(_ request: Request, error: String?, phone: String, status: HTTPResponse.Status = .ok) -> Response {
        let nonce = request.cookies[WebSession.loginCookieName]?.value ?? WebApp.randomToken()
        let model: [String: Any] = [
            "chrome": Chrome.anonymous(title: "激活账号"), "nonce": nonce, "phone": phone, "error": error ?? "",
            "minimum": 8, "maximum": 72,
        ]
        var response = self.renderer.page("activate", model, status: status)
        response.setCookie(WebSession.cookie(WebSession.loginCookieName, value: nonce, secure: WebSession.isSecure(request)))
        return response
    }

    /// Sets the password with the one-time code, then signs the worker in.
    func activate(_ request: Request) async throws -> Response {
        let form = try await WebForm.read(request)
        let phone = form.text("phone") ?? ""
        guard let nonce = request.cookies[WebSession.loginCookieName]?.value, form["nonce"] == nonce else {
            return self.activatePage(request, error: "页面已过期，请重新输入后提交。", phone: phone, status: .forbidden)
        }
        let code = form.text("code") ?? ""
        let password = form["password"] ?? ""
        guard !phone.isEmpty, !code.isEmpty, !password.isEmpty else {
            return self.activatePage(request, error: "请填写手机号、激活码和新密码。", phone: phone, status: .unprocessableContent)
        }
        guard password == form["password_again"] else {
            return self.activatePage(request, error: "两次输入的密码不一致。", phone: phone, status: .unprocessableContent)
        }
        do {
            try await self.workers.activate(login: phone, code: code, password: password)
            let issued = try await self.app.services.accounts.login(identifier: phone, password: password)
            var response = WebRenderer.redirect("/app/certificates")
            let lifetime = max(60, Int(issued.expiresAt.timeIntervalSince(self.app.clock.now())))
            response.setCookie(WebSession.cookie(WebSession.cookieName, value: issued.token, secure: WebSession.isSecure(request), maxAge: lifetime))
            return response
        } catch let error as SignoffError where error.code.httpStatus < 500 {
            let message = error.code == .invalidCredentials
                ? "手机号或激活码不对，或激活码已用过、已过期。请向网格员要新的激活码。"
                : WebText.message(for: error)
            return self.activatePage(request, error: message, phone: phone, status: .init(code: error.code.httpStatus))
        }
    }

    // MARK: Requests

    struct Row {
        var id: String
        var name: String
        var destination: String
        var status: String
        var statusKey: String
        var filed: String
    }

    func row(_ stored: Stored<CertificateRequest>, names: [UUID: String]) -> Row {
        let request = stored.machine
        let status = request.displayStatus(at: self.app.clock.now())
        return Row(id: stored.id.uuidString.lowercased(), name: names[request.personID] ?? "",
                   destination: Self.destinationText(request), status: Self.statusText(status), statusKey: status.rawValue,
                   filed: WebText.time(request.filedAt))
    }

    static func destinationText(_ request: CertificateRequest) -> String {
        let scope = request.scope == .inProvince ? "省内" : "省外"
        return "\(request.destination.province) \(request.destination.city)（\(scope)）"
    }

    static func statusText(_ status: CertificateRequest.DisplayStatus) -> String {
        switch status {
        case .filed: "待村委会核实"
        case .verified: "待卫生院体检"
        case .certified: "已发证"
        case .expired: "已过期"
        case .failed: "未通过"
        case .cancelled: "已取消"
        case .revoked: "已注销"
        }
    }

    func names(_ ids: [UUID]) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        return try await self.app.services.database.withConnection { connection in
            var names: [UUID: String] = [:]
            let rows = try await connection.query("SELECT id, name FROM persons WHERE id = ANY(\(ids))", logger: self.app.services.database.logger)
            for try await (id, name) in rows.decode((UUID, String).self) { names[id] = name }
            return names
        }
    }

    func list(_ request: Request, _ context: WebContext) async throws -> Response {
        let actor = context.actor
        guard Self.seesCertificates(actor) else {
            throw SignoffError(.forbiddenRole, "This needs the role 务工人员, 网格员, 支部书记 or 卫生院.")
        }
        // An official sees what waits for their step first; a worker sees their own requests.
        let defaultState: CertificateRequest.State? = actor.isWorkerOnly ? nil : (actor.holds(.healthOfficer) ? .verified : .filed)
        let stateText = AdminPages.query(request, "state")
        let state = stateText == "all" ? nil : stateText.flatMap(CertificateRequest.State.init(rawValue:)) ?? defaultState
        let requests = try await self.workers.requests(for: actor, state: state, limit: 200)
        let names = try await self.names(requests.map(\.machine.personID))
        let open = requests.contains { $0.machine.isOpen && $0.machine.personID == actor.personID }
        let filters: [[String: Any]] = actor.isWorkerOnly ? [] : [
            ["key": "filed", "label": "待核实", "selected": state == .filed],
            ["key": "verified", "label": "待体检", "selected": state == .verified],
            ["key": "certified", "label": "已发证", "selected": state == .certified],
            ["key": "all", "label": "全部", "selected": state == nil],
        ]
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "健康证", back: "/app"),
            "rows": requests.map { self.row($0, names: names) }, "empty": requests.isEmpty,
            "worker": actor.isWorkerOnly, "canFile": actor.isWorkerOnly && !open, "filters": filters,
        ]
        return self.renderer.page("certificates", model)
    }

    func newPage(_ context: WebContext, error: String?, form: WebForm? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard context.actor.isWorkerOnly else { throw SignoffError(.forbiddenRole, "Only a worker files their own request here.") }
        let inside = form?["scope"] != "outside"
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "申请健康证", back: "/app/certificates"),
            "key": WebApp.newKey(), "error": error ?? "", "inside": inside, "outside": !inside,
            "province": form?.text("province") ?? "", "city": form?.text("city") ?? "", "purpose": form?.text("purpose") ?? "",
        ]
        return self.renderer.page("certificate_new", model, status: status)
    }

    /// 省内 means Sichuan; 省外 needs the province named.
    func file(_ request: Request, _ context: WebContext) async throws -> Response {
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        let inside = form["scope"] != "outside"
        let province = inside ? "四川" : (form.text("province") ?? "")
        if !inside, province.isEmpty || (try? self.workers.policy().scope(forProvince: province)) == .inProvince {
            return try await self.newPage(context, error: "去省外务工，请填写目的地省份（四川以外）。", form: form, status: .unprocessableContent)
        }
        guard let city = form.text("city") else {
            return try await self.newPage(context, error: "请填写目的地城市。", form: form, status: .unprocessableContent)
        }
        do {
            let outcome = try await self.workers.fileRequest(
                personID: nil, destination: .init(province: province, city: city, employer: form.text("purpose")),
                by: context.actor, metadata: metadata)
            let location: String
            switch outcome {
            case .applied(let transitioned, _): location = "/app/certificates/\(transitioned.stored.id.uuidString.lowercased())"
            case .replayed: location = "/app/certificates"
            }
            if WebOutcome.wantsJSON(request) { return WebOutcome(result: .ok, message: "已提交。", location: location).response() }
            return WebRenderer.redirect(location)
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .notFound && !WebOutcome.wantsJSON(request) {
            let message = error.code == .duplicate ? "您已有一份正在办理的健康证申请，请先查看那一份。" : WebText.message(for: error)
            return try await self.newPage(context, error: message, form: form, status: .init(code: error.code.httpStatus))
        }
    }

    struct Step {
        var title: String
        var state: String
        var detail: String
    }

    func requestPage(_ request: Request, _ context: WebContext, notice: String? = nil) async throws -> Response {
        let id = try SignerPages.pathID(context)
        let stored = try await self.workers.request(id, for: context.actor)
        let machine = stored.machine
        let actor = context.actor
        let now = self.app.clock.now()
        let status = machine.displayStatus(at: now)
        let name = try await self.names([machine.personID])[machine.personID] ?? ""

        var steps = [Step(title: "提交申请", state: "signed", detail: WebText.time(machine.filedAt))]
        switch machine.state {
        case .filed:
            steps.append(Step(title: "村委会核实", state: "pending", detail: "等待村委会核实身份和居住（网格员或支部书记）"))
            steps.append(Step(title: "卫生院体检", state: "waiting", detail: "核实后到乡卫生院体检"))
        case .verified:
            steps.append(Step(title: "村委会核实", state: "signed", detail: WebText.time(machine.verifiedAt)))
            steps.append(Step(title: "卫生院体检", state: "pending", detail: "请带身份证到乡卫生院体检，由卫生院录入结果"))
        case .certified:
            steps.append(Step(title: "村委会核实", state: "signed", detail: WebText.time(machine.verifiedAt)))
            steps.append(Step(title: "卫生院体检", state: "signed", detail: WebText.time(machine.examinedAt)))
            steps.append(Step(title: status == .expired ? "已过期" : "已发证", state: status == .expired ? "rejected" : "signed",
                              detail: "证号 \(machine.certificateNumber ?? "")，有效期至 \(WebText.time(machine.validUntil))"))
        case .failed:
            steps.append(Step(title: "村委会核实", state: "signed", detail: WebText.time(machine.verifiedAt)))
            steps.append(Step(title: "未通过", state: "rejected", detail: "体检未通过：\(machine.failReason ?? "")"))
        case .cancelled:
            if machine.verifiedAt != nil { steps.append(Step(title: "村委会核实", state: "signed", detail: WebText.time(machine.verifiedAt))) }
            steps.append(Step(title: "已取消", state: "rejected", detail: [WebText.time(machine.cancelledAt), machine.cancelReason ?? ""]
                .filter { !$0.isEmpty }.joined(separator: " ")))
        case .revoked:
            steps.append(Step(title: "村委会核实", state: "signed", detail: WebText.time(machine.verifiedAt)))
            steps.append(Step(title: "卫生院体检", state: "signed", detail: WebText.time(machine.examinedAt)))
            steps.append(Step(title: "已注销", state: "rejected", detail: "证号 \(machine.certificateNumber ?? "")，\(WebText.time(machine.revokedAt)) 注销：\(machine.revokeReason ?? "")"))
        }
        let next: String = switch status {
        case .filed: "下一步：村委会核实（网格员或支部书记）。"
        case .verified: "下一步：到乡卫生院体检。"
        case .certified: "已发证。出行时出示健康证（含二维码）。"
        case .expired: "健康证已过期。如需出行，请重新申请。"
        case .failed: "体检未通过。如有疑问请联系乡卫生院。"
        case .cancelled: "申请已取消。可以重新申请。"
        case .revoked: "健康证已注销，卡点不再放行。如需出行，请重新申请。"
        }
        let canVerify = machine.state == .filed
            && (try? actor.assignment(asAnyOf: CertificateRequest.verifierRoles, covering: machine.gridPath)) != nil
        let canExam = machine.state == .verified && (try? actor.assignment(as: .healthOfficer, covering: machine.gridPath)) != nil
        let canCancel = machine.isOpen && actor.personID == machine.personID
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "健康证申请", back: "/app/certificates"),
            "id": stored.id.uuidString.lowercased(), "version": stored.version, "name": name,
            "destination": Self.destinationText(machine), "purpose": machine.destination.employer ?? "",
            "status": Self.statusText(status), "statusKey": status.rawValue, "steps": steps, "next": next,
            "certified": status == .certified, "canVerify": canVerify, "canExam": canExam, "canCancel": canCancel,
            "key": WebApp.newKey(), "notice": notice ?? Self.doneText[AdminPages.query(request, "done") ?? ""] ?? "",
        ]
        return self.renderer.page("certificate_request", model)
    }

    static let doneText = ["verify": "已核实。", "pass": "体检合格，已发证。", "fail": "已记录体检未通过。", "cancel": "申请已取消。"]

    func act(_ action: String, _ request: Request, _ context: WebContext) async throws -> Response {
        let id = try SignerPages.pathID(context)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        let command: WorkersStore.RequestAction = switch action {
        case "verify": .verify(note: form.text("note"))
        case "pass": .pass
        case "fail": .fail(reason: form.text("reason"))
        default: .cancel(reason: form.text("reason"))
        }
        let location = "/app/certificates/\(id.uuidString.lowercased())"
        do {
            let outcome = try await self.workers.apply(command, toRequest: id, expectedVersion: form.int("version"), by: context.actor,
                                                       metadata: metadata)
            let replayed: Bool
            if case .replayed = outcome { replayed = true } else { replayed = false }
            if WebOutcome.wantsJSON(request) {
                return WebOutcome(result: replayed ? .replayed : .ok, message: Self.doneText[action] ?? "已完成。",
                                  location: "\(location)?done=\(action)").response()
            }
            return WebRenderer.redirect("\(location)?done=\(action)")
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated && error.code != .notFound {
            let conflict = WebText.isHandledElsewhere(error)
            let message = conflict ? "该申请已由他人处理。下面是它现在的状态。" : WebText.message(for: error)
            if WebOutcome.wantsJSON(request) {
                return WebOutcome(result: conflict ? .conflict : .refused, message: message, location: location)
                    .response(status: .init(code: error.code.httpStatus))
            }
            return try await self.requestPage(request, context, notice: message)
        }
    }

    // MARK: The certificate

    /// The address a checkpoint opens from the QR code.
    static func verificationURL(_ request: Request, id: UUID) -> String {
        let host = request.head.authority ?? "127.0.0.1"
        let scheme = WebSession.isSecure(request) ? "https" : "http"
        return "\(scheme)://\(host)/app/verify/\(id.uuidString.lowercased())"
    }

    func certificatePage(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try SignerPages.pathID(context)
        let stored = try await self.workers.request(id, for: context.actor)
        let machine = stored.machine
        guard machine.state == .certified, let number = machine.certificateNumber else {
            throw SignoffError.notFound("This health certificate")
        }
        let url = Self.verificationURL(request, id: id)
        // The QR code holds the signed credential, checked offline; a certificate issued before
        // credentials existed shows its verification address instead.
        let card = CheckpointPages.CredentialCard(try await self.app.services.credentials.credential(ofInstance: id), now: self.app.clock.now())
        guard let qr = QRCodeSVG(card?.signed ?? url) else { throw SignoffError.notFound("This health certificate") }
        let name = try await self.names([machine.personID])[machine.personID] ?? ""
        let expired = machine.isExpired(at: self.app.clock.now())
        var model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "健康证", back: "/app/certificates/\(id.uuidString.lowercased())"),
            "number": number, "name": name, "scope": machine.scope == .inProvince ? "四川省内" : "四川省外",
            "destination": "\(machine.destination.province) \(machine.destination.city)",
            "issued": WebText.time(machine.issuedAt), "validUntil": WebText.time(machine.validUntil), "expired": expired,
            "qrPath": qr.path, "qrSize": qr.viewBox, "url": url,
        ]
        if let card { model["credential"] = card }
        return self.renderer.page("certificate", model)
    }

    /// What a checkpoint sees from the QR code, without signing in: valid or not, the number,
    /// the scope and validity, and the holder's name masked.
    func verifyPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else { throw SignoffError.notFound("This certificate") }
        let stored = try await self.app.services.transitions.load(CertificateRequest.self, id: id)
        let machine = stored.machine
        guard machine.state == .certified, let number = machine.certificateNumber else { throw SignoffError.notFound("This certificate") }
        let name = try await self.names([machine.personID])[machine.personID] ?? ""
        let masked = name.isEmpty ? "" : String(name.prefix(1)) + String(repeating: "*", count: max(1, name.count - 1))
        let valid = !machine.isExpired(at: self.app.clock.now())
        let model: [String: Any] = [
            "chrome": Chrome.anonymous(title: "健康证核验"), "valid": valid, "number": number, "name": masked,
            "scope": machine.scope == .inProvince ? "四川省内" : "四川省外", "validUntil": WebText.time(machine.validUntil),
        ]
        return self.renderer.page("certificate_verify", model)
    }

    // MARK: 定向运输

    struct TripRow {
        var plate: String
        var status: String
        var departure: String
        var from: String
        var destination: String
        var driver: String
        var boarded: String
    }

    static func tripStatus(_ state: TransportTrip.State) -> String {
        switch state {
        case .filed: "待主要领导审批"
        case .approved: "已批准，待出发"
        case .rejected: "未批准"
        case .departed: "已出发"
        case .arrived: "已到达"
        case .cancelled: "已取消"
        }
    }

    func trips(_ context: WebContext) async throws -> Response {
        guard let person = context.actor.personID else { throw SignoffError(.forbiddenRole, "Only a worker has trips here.") }
        let ids = try await WorkerQueries(database: self.app.services.database).tripIDs(listing: person)
        let units = try await self.app.services.organisation.units(under: nil)
        let names = Dictionary(units.map { ($0.path.description, $0.name) }, uniquingKeysWith: { first, _ in first })
        var rows: [TripRow] = []
        for id in ids {
            let trip = try await self.workers.trip(id, for: context.actor).machine
            rows.append(TripRow(
                plate: trip.vehiclePlate, status: Self.tripStatus(trip.state),
                departure: WebText.time(trip.departedAt ?? trip.departureDate),
                from: names[trip.unitPath.description] ?? trip.unitPath.description,
                destination: "\(trip.destination.province) \(trip.destination.city)",
                driver: trip.driverName, boarded: trip.boarded.map { "\($0)人" } ?? "\(trip.workers.count)人（名单）"))
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "定向运输", back: "/app"), "trips": rows, "empty": rows.isEmpty,
        ]
        return self.renderer.page("trips", model)
    }
}
