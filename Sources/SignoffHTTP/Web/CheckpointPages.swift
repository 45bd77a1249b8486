import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// The checkpoints 卡点 in the web app: 卡点核验 (verify a credential in the page, offline too,
/// and log a check or turn-back through the outbox), the duty roster 值班 and the turn-back report
/// for the township office, and the signed credential shown on a pass, certificate or
/// agricultural pass page.
struct CheckpointPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var services: SignoffServices { self.app.services }
    var checkpoints: CheckpointStore { self.services.checkpoints }

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/checkpoint") { request, context in try await self.checkpointPage(request, context) }
        group.get("/checkpoint/lookup") { request, context in try await self.lookup(request, context) }
        group.post("/checkpoint/checks") { request, context in
            try self.requireRecorder(context.actor)
            return try await FieldPages(app: self.app).act(request, context, fallback: "/app/checkpoint?done=logged") { form, metadata in
                let outcome = try await self.checkpoints.record(try Self.checkRequest(form), by: context.actor, metadata: metadata,
                                                                render: CheckpointController.render())
                return FieldPages.location(outcome) { "/app/checkpoint?done=\($0.stored.machine.state.rawValue)" }
            }
        }
        group.get("/admin/duty") { request, context in try await self.dutyPage(request, context, notice: nil) }
        group.post("/admin/duty") { request, context in try await self.assign(request, context) }
        group.post("/admin/duty/:id/remove") { request, context in try await self.unassign(request, context) }
        group.get("/admin/checkpoints") { _, context in try await self.reportPage(context) }
        group.get("/admin/checkpoints.csv") { _, context in try await self.reportCSV(context) }
        group.get("/agricultural-passes/:id") { _, context in try await self.agriculturalPassPage(context) }
    }

    // MARK: The credential card

    /// What the pass, certificate and agricultural pass pages show of their signed credential.
    struct CredentialCard {
        var kindName: String
        var number: String
        var subjectLabel: String
        var subject: String
        var scope: String
        var validity: String
        var checkCode: String
        var keyID: String
        var signed: String
        var qrPath: String
        var qrSize: Int
        var revoked: Bool
        var expired: Bool

        init?(_ issued: IssuedCredential?, now: Date) {
            guard let issued, let qr = QRCodeSVG(issued.signed) else { return nil }
            self.kindName = Credential.Kind.chineseName(issued.kind)
            self.number = issued.number
            self.subjectLabel = issued.kind == .healthCertificate ? "持证人" : "车辆"
            self.subject = issued.subject
            self.scope = issued.scope
            self.validity = "\(WebText.time(issued.validFrom)) 至 \(WebText.time(issued.validUntil))"
            self.checkCode = issued.checkCode
            self.keyID = issued.keyID
            self.signed = issued.signed
            self.qrPath = qr.path
            self.qrSize = qr.viewBox
            self.revoked = issued.revokedAt != nil
            self.expired = issued.revokedAt == nil && now > issued.validUntil
        }
    }

    /// Adds the record's credential card to a page model, when it has one.
    static func addCredential(of id: UUID, to model: inout [String: Any], app: WebApp) async throws {
        if let card = CredentialCard(try await app.services.credentials.credential(ofInstance: id), now: app.clock.now()) {
            model["credential"] = card
        }
    }

    // MARK: 卡点核验

    func requireRecorder(_ actor: Principal) throws {
        let roles = try self.checkpoints.policy().recorderRoles
        guard actor.assignments.contains(where: { roles.contains($0.role) }) else {
            throw SignoffError(.forbiddenRole, "Only township and village officials work at the checkpoints.")
        }
    }

    static func seesCheckpoint(_ actor: Principal, policy: CheckpointPolicy?) -> Bool {
        guard let policy else { return false }
        return actor.assignments.contains { policy.recorderRoles.contains($0.role) }
    }

    static func checkRequest(_ form: WebForm) throws -> CheckpointStore.CheckRequest {
        guard let direction = form.text("direction").flatMap(CheckpointCheck.Direction.init(rawValue:)) else {
            throw SignoffError.invalidValue("direction", "Choose 进 or 出.")
        }
        let decision: CheckpointCheck.Decision
        switch form.text("decision") {
        case "release": decision = .release
        case "turn_back":
            guard let reason = form.text("reason") else {
                throw SignoffError(.reasonRequired, "Choose the reason for the turn-back 劝返原因.", extra: ["field": "reason"])
            }
            decision = .turnBack(reason: reason)
        default: throw SignoffError.invalidValue("decision", "Choose 放行 or 劝返.")
        }
        let checkedAt = try form.text("checked_at").map { text in
            guard let date = try? Date(text, strategy: .iso8601) else { throw SignoffError.invalidValue("checked_at", "The time of the check is not readable.") }
            return date
        }
        return CheckpointStore.CheckRequest(
            checkpoint: form.text("checkpoint") ?? "", direction: direction, subject: form.text("subject") ?? "", decision: decision,
            credential: form.text("credential"), note: form.text("note"), checkedAt: checkedAt)
    }

    struct Verdict {
        var word: String
        var kind: String
        var detail: String
        var kindName: String
        var number: String
        var subject: String
        var scope: String
        var validity: String
        var sample: Bool
    }

    /// The server's reading of a code, for a phone without JavaScript (the page's script checks
    /// the same code itself, offline too).
    func verdict(_ text: String) async throws -> (Verdict, String?) {
        var signedText = text
        if SignedCredential.parse(text) == nil, let found = try await self.services.credentials.credential(checkCode: text) {
            signedText = found.signed
        }
        let result = try await self.checkpoints.verify(signedText, at: self.app.clock.now())
        func shown(_ credential: Credential, _ word: String, _ kind: String, _ detail: String) -> Verdict {
            Verdict(word: word, kind: kind, detail: detail, kindName: Credential.Kind.chineseName(credential.kind),
                    number: credential.number, subject: credential.subject, scope: credential.scope,
                    validity: "\(WebText.time(credential.validFrom)) 至 \(WebText.time(credential.validUntil))",
                    sample: credential.number.hasPrefix("样例-"))
        }
        let bad = Verdict(word: "签名无效", kind: "invalid", detail: "不是本乡签发的凭证，或内容被改动。不予放行。", kindName: "", number: "",
                          subject: "", scope: "", validity: "", sample: false)
        switch result {
        case .valid(let credential): return (shown(credential, "有效", "valid", "签名正确，在有效期内，未被撤销。"), signedText)
        case .expired(let credential): return (shown(credential, "已过期", "expired", "已超过有效期。"), signedText)
        case .notYetValid(let credential): return (shown(credential, "未生效", "expired", "尚未到有效期开始时间。"), signedText)
        case .revoked(let credential): return (shown(credential, "已撤销", "revoked", "已被撤销，不予放行。"), signedText)
        case .keyNotCurrent: return (bad, nil)
        case .badSignature, .unknownKey, .malformed: return (bad, nil)
        }
    }

    func checkpointPage(_ request: Request, _ context: WebContext) async throws -> Response {
        try self.requireRecorder(context.actor)
        let policy = try self.checkpoints.policy()
        let done = request.uri.queryParameters["done"].map(String.init)
        let code = AdminPages.query(request, "code")
        var model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "卡点核验", back: "/app"),
            "checkpoints": policy.checkpoints.map { ["code": $0.code, "name": $0.name, "place": $0.place] },
            "reasons": policy.turnBackReasons.map { ["code": $0.code, "name": $0.name] },
            "key": WebApp.newKey(), "code": code ?? "",
            "notice": Self.doneNotice(done) ?? SignerPages.Notice.none, "hasNotice": Self.doneNotice(done) != nil,
        ]
        if let code {
            let (verdict, signed) = try await self.verdict(code)
            model["verdict"] = verdict
            model["credentialText"] = signed ?? ""
        }
        let now = self.app.clock.now()
        let today = CheckpointPolicy.day(now)
        let slot = policy.shift(at: now)
        let roster = try await self.checkpoints.roster(from: today, days: 1)
        model["duty"] = policy.checkpoints.map { checkpoint in
            let names = roster.filter { $0.checkpoint == checkpoint.code && $0.shift == slot?.shift.code && $0.day == slot?.day }.map(\.name)
            return ["name": checkpoint.name, "leaders": names.isEmpty ? "未排班" : names.joined(separator: "、")]
        }
        model["shift"] = slot.map { "\($0.shift.name)（\($0.shift.hours)）" } ?? ""
        model["recent"] = try await self.checkpoints.recent(limit: 10).map { stored -> [String: Any] in
            let check = stored.machine
            return [
                "decision": check.state == .released ? "放行" : "劝返", "turned": check.state == .turnedBack,
                "checkpoint": check.checkpointName, "direction": check.direction.chineseName, "subject": check.subject,
                "reason": check.reasonName ?? "", "at": WebText.time(check.checkedAt), "by": check.recordedByName,
            ]
        }
        return self.renderer.page("checkpoint", model)
    }

    static func doneNotice(_ done: String?) -> SignerPages.Notice? {
        switch done {
        case "released": SignerPages.Notice(kind: "ok", text: "已记录：放行。")
        case "turned_back": SignerPages.Notice(kind: "ok", text: "已记录：劝返。")
        case "logged": SignerPages.Notice(kind: "ok", text: "已记录。")
        default: nil
        }
    }

    /// The signed text of a read-out short code, for the page's script (online only).
    func lookup(_ request: Request, _ context: WebContext) async throws -> Response {
        try self.requireRecorder(context.actor)
        let code = AdminPages.query(request, "code") ?? ""
        guard let found = try await self.services.credentials.credential(checkCode: code) else {
            return WebOutcome(result: .refused, message: "没有找到这个短码。请核对后重新输入，或扫码。").response(status: .notFound)
        }
        return WebOutcome(result: .ok, message: found.signed).response()
    }

    // MARK: 值班

    func dutyPage(_ request: Request, _ context: WebContext, notice: SignerPages.Notice?,
                  status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let policy = try self.checkpoints.policy()
        let now = self.app.clock.now()
        let first = AdminPages.query(request, "from").flatMap { CheckpointStore.isDay($0) ? $0 : nil } ?? CheckpointPolicy.day(now)
        let roster = try await self.checkpoints.roster(from: first, days: 7)
        let days = (0..<7).map { offset -> String in
            CheckpointPolicy.day((try? Date("\(first)T12:00:00+08:00", strategy: .iso8601))?.addingTimeInterval(Double(offset) * 86_400) ?? now)
        }
        let rows: [[String: Any]] = days.map { day in
            [
                "day": day,
                "slots": policy.checkpoints.flatMap { checkpoint in
                    policy.shifts.map { shift -> [String: Any] in
                        let people = roster.filter { $0.day == day && $0.checkpoint == checkpoint.code && $0.shift == shift.code }
                        return [
                            "checkpoint": checkpoint.name, "shift": "\(shift.name) \(shift.hours)", "empty": people.isEmpty,
                            "people": people.map { ["id": $0.id.uuidString.lowercased(), "name": $0.name, "key": WebApp.newKey()] },
                        ]
                    }
                },
            ]
        }
        let leaders = try await self.checkpoints.leaders()
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "卡点值班", back: "/app"),
            "days": rows, "first": first, "today": days.first ?? "",
            "checkpoints": policy.checkpoints.map { ["code": $0.code, "name": $0.name] },
            "shifts": policy.shifts.map { ["code": $0.code, "name": "\($0.name)（\($0.hours)）"] },
            "leaders": leaders.map { ["id": $0.userID.uuidString.lowercased(), "name": "\($0.name)（\($0.roles.map(\.chineseName).joined(separator: "、"))）"] },
            "key": WebApp.newKey(),
            "notice": notice ?? SignerPages.Notice.none, "hasNotice": notice != nil,
        ]
        return self.renderer.page("admin_duty", model, status: status)
    }

    func assign(_ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        let day = form.text("day") ?? ""
        do {
            let assignment = CheckpointStore.Assignment(checkpoint: form.text("checkpoint") ?? "", day: day, shift: form.text("shift") ?? "",
                                                        userID: try form.uuid("user_id"))
            _ = try await self.services.transitions.write(metadata: metadata, actor: context.actor) { connection in
                let made = try await self.checkpoints.assign(assignment, by: context.actor, on: connection)
                return StoredResponse(status: 201, body: try JSONBody.data(["id": made.id.uuidString.lowercased()]))
            }
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated {
            return try await self.dutyPage(request, context, notice: .init(kind: "error", text: WebText.message(for: error)),
                                           status: .init(code: error.code.httpStatus))
        }
        return WebRenderer.redirect("/app/admin/duty?from=\(CheckpointStore.isDay(day) ? day : "")&done=1")
    }

    func unassign(_ request: Request, _ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let id = try SignerPages.pathID(context)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        _ = try await self.services.transitions.write(metadata: metadata, actor: context.actor) { connection in
            try await self.checkpoints.unassign(id, by: context.actor, on: connection)
            return StoredResponse(status: 204, body: Data())
        }
        return WebRenderer.redirect("/app/admin/duty?from=\(form.text("from") ?? "")")
    }

    // MARK: 劝返统计

    func reportRows() async throws -> (policy: CheckpointPolicy, rows: [CheckpointStore.DayCount]) {
        (try self.checkpoints.policy(), try await self.checkpoints.report())
    }

    func reportPage(_ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let (policy, rows) = try await self.reportRows()
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "卡点劝返统计", back: "/app"),
            "rows": rows.map { row -> [String: Any] in
                ["day": row.day, "checkpoint": policy.checkpoint(row.checkpoint)?.name ?? row.checkpoint,
                 "released": row.released, "turnedBack": row.turnedBack, "total": row.released + row.turnedBack]
            },
            "empty": rows.isEmpty,
            "totals": policy.checkpoints.map { checkpoint in
                ["name": checkpoint.name, "turnedBack": rows.filter { $0.checkpoint == checkpoint.code }.reduce(0) { $0 + $1.turnedBack }] as [String: Any]
            },
        ]
        return self.renderer.page("admin_checkpoints", model)
    }

    func reportCSV(_ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let (policy, rows) = try await self.reportRows()
        let lines = [["日期", "卡点", "卡点代码", "劝返", "放行", "合计"]] + rows.map { row in
            [row.day, policy.checkpoint(row.checkpoint)?.name ?? row.checkpoint, row.checkpoint, String(row.turnedBack), String(row.released),
             String(row.released + row.turnedBack)]
        }
        return AdminPages.csv(lines, filename: "checkpoint-turn-backs.csv")
    }

    // MARK: 农用车通行证明

    func agriculturalPassPage(_ context: WebContext) async throws -> Response {
        let id = try SignerPages.pathID(context)
        let stored = try await self.services.agriculturalPasses.transitions.load(AgriculturalPass.self, id: id)
        let pass = stored.machine
        _ = try context.actor.assignment(asAnyOf: VehiclesController.readers, covering: pass.gridPath)
        let now = self.app.clock.now()
        let status: String = switch pass.displayStatus(at: now) {
        case .requested: "待支部书记签发"
        case .issued: "已签发"
        case .expired: "已过期"
        case .refused: "不予签发"
        case .revoked: "已撤销"
        }
        var model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "农用车通行证明", back: "/app"),
            "status": status, "serial": pass.serialNumber ?? "", "vehicle": pass.vehicleDescription, "plate": pass.plate ?? "",
            "purpose": pass.purpose, "route": pass.route,
            "validUntil": WebText.time(pass.validUntil), "issued": WebText.time(pass.issuedAt), "closedReason": pass.closedReason ?? "",
        ]
        try await Self.addCredential(of: id, to: &model, app: self.app)
        return self.renderer.page("agricultural_pass", model)
    }
}

extension Credential.Kind {
    static func chineseName(_ kind: Credential.Kind) -> String { kind.chineseName }
}
