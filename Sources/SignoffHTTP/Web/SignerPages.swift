import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// The signers' pages: the inbox with its tabs, a pass's timeline of the five levels, and the
/// decisions (同意, 拒绝, 重新提交, 撤回, 批量同意), each one transition with its Idempotency-Key.
struct SignerPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var vehicles: VehicleStore { self.app.services.vehicles }

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/inbox") { request, context in try await self.inbox(request, context) }
        group.post("/inbox/batch") { request, context in try await self.batch(request, context) }
        group.get("/passes/:id") { request, context in
            let id = try Self.pathID(context)
            return try await self.passPage(id: id, context, notice: Self.doneNotice(request))
        }
        group.post("/passes/:id/sign") { request, context in
            try await self.decide(request, context, action: "sign") { form, id, metadata in
                let level = form.int("level")
                return try await self.app.services.delegations.actOnPass(
                    id: id, expectedVersion: form.int("version"), delegationNumber: form.int("delegation"),
                    { .sign(level: level, delegation: $0) }, by: context.actor,
                    metadata: metadata, render: self.render())
            }
        }
        group.post("/passes/:id/reject") { request, context in
            try await self.decide(request, context, action: "reject") { form, id, metadata in
                guard let reason = form.text("reason") else {
                    throw SignoffError(.reasonRequired, "A reason is required.", extra: ["field": "reason"])
                }
                let level = form.int("level")
                return try await self.app.services.delegations.actOnPass(
                    id: id, expectedVersion: form.int("version"), delegationNumber: form.int("delegation"),
                    { .reject(reason: reason, level: level, delegation: $0) },
                    by: context.actor, metadata: metadata, render: self.render())
            }
        }
        group.post("/passes/:id/resubmit") { request, context in
            try await self.decide(request, context, action: "resubmit") { form, id, metadata in
                try await self.vehicles.resubmitPass(id: id, note: form.text("note"), by: context.actor, metadata: metadata,
                                                     render: self.render())
            }
        }
        group.post("/passes/:id/withdraw") { request, context in
            try await self.decide(request, context, action: "withdraw") { form, id, metadata in
                try await self.vehicles.actOnPass(
                    id: id, expectedVersion: form.int("version"), .withdraw(reason: form.text("reason")), by: context.actor,
                    metadata: metadata, render: self.render())
            }
        }
        group.post("/passes/:id/revoke") { request, context in
            try await self.decide(request, context, action: "revoke") { form, id, metadata in
                try await self.vehicles.actOnPass(
                    id: id, expectedVersion: form.int("version"), .revoke(reason: form.text("reason")), by: context.actor,
                    metadata: metadata, render: self.render())
            }
        }
    }

    static func pathID(_ context: WebContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw SignoffError.notFound("This record")
        }
        return id
    }

    /// The stored response kept with the key: the pass as the API shows it.
    func render() -> TransitionStore.Render<PassApplication> {
        let clock = self.app.clock
        return TransitionResponder.render { transitioned in
            PassView(transitioned.stored.machine, version: transitioned.stored.version, now: clock.now())
        }
    }

    // MARK: Decisions

    static let doneText: [String: String] = [
        "sign": "已同意，已签字。", "reject": "已拒绝，申请已退回。", "resubmit": "已重新提交，从第1级重新审批。",
        "withdraw": "已撤回申请。", "revoke": "通行证已吊销，已列入撤销名单。", "reassign": "已转交。新的办理人会收到催办，原办理人不能再签这一级。",
    ]

    static func doneNotice(_ request: Request) -> Notice? {
        guard let done = request.uri.queryParameters["done"].map(String.init) else { return nil }
        if done == "conflict" { return Notice(kind: "conflict", text: "该事项已由他人处理。下面是它现在的状态。") }
        guard let text = Self.doneText[done] else { return nil }
        return Notice(kind: "ok", text: text)
    }

    /// One decision on one pass: the form's CSRF token and key, the transition, and the answer:
    /// a redirect to the pass (or JSON for the outbox); "handled elsewhere" shows the pass as it is now.
    func decide(
        _ request: Request, _ context: WebContext, action: String,
        _ perform: @escaping @Sendable (WebForm, UUID, RequestMetadata) async throws -> TransitionOutcome<PassApplication>
    ) async throws -> Response {
        let id = try Self.pathID(context)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        let location = "/app/passes/\(id.uuidString.lowercased())"
        do {
            let outcome = try await perform(form, id, metadata)
            let replayed: Bool
            if case .replayed = outcome { replayed = true } else { replayed = false }
            if WebOutcome.wantsJSON(request) {
                return WebOutcome(result: replayed ? .replayed : .ok, message: Self.doneText[action] ?? "已完成。",
                                  location: "\(location)?done=\(action)").response()
            }
            return WebRenderer.redirect("\(location)?done=\(action)")
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated {
            let handledElsewhere = WebText.isHandledElsewhere(error)
            if WebOutcome.wantsJSON(request) {
                var message = WebText.message(for: error)
                if handledElsewhere, let now = try? await self.currentState(id) { message = "该事项已由他人处理：\(now)" }
                // After a conflict the phone shows the pass as it is now.
                return WebOutcome(result: handledElsewhere ? .conflict : .refused, message: message,
                                  location: handledElsewhere ? "\(location)?done=conflict" : location)
                    .response(status: .init(code: error.code.httpStatus))
            }
            guard error.code != .notFound, error.code != .outOfJurisdiction, error.code != .forbiddenRole else { throw error }
            let notice = Notice(kind: handledElsewhere ? "conflict" : "error",
                                text: handledElsewhere ? "该事项已由他人处理。下面是它现在的状态。" : WebText.message(for: error))
            return try await self.passPage(id: id, context, notice: notice, draftReason: form.text("reason"),
                                           status: .init(code: error.code.httpStatus))
        }
    }

    /// The pass's state in a few words, for a conflict message.
    func currentState(_ id: UUID) async throws -> String {
        let stored = try await self.vehicles.transitions.load(PassApplication.self, id: id)
        let application = stored.machine
        if let level = application.pendingLevel {
            return "现在第\(level.level)级，待\(level.role.chineseName)签字。"
        }
        return "现在\(WebText.passState(application, at: self.app.clock.now()))。"
    }

    // MARK: Batch

    /// 批量同意: each chosen pass is its own transition at the level it waited at when the page
    /// was shown, and the result is shown per pass.
    func batch(_ request: Request, _ context: WebContext) async throws -> Response {
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let base = form.text("idempotency_key") ?? WebApp.newKey()
        let chosen = form.all("pass").compactMap(BatchItem.init)
        guard !chosen.isEmpty else {
            throw SignoffError(.missingField, "Choose at least one pass.", extra: ["field": "pass"])
        }
        guard chosen.count <= 100 else {
            throw SignoffError.invalidValue("pass", "At most 100 passes at once.")
        }
        guard Set(chosen.map(\.level)).count == 1 else {
            throw SignoffError.invalidValue("pass", "A batch signs one level at a time.")
        }
        var results: [BatchResult] = []
        for item in chosen {
            let path = "/app/passes/\(item.id.uuidString.lowercased())/sign"
            var fields: [(name: String, value: String)] = [
                ("idempotency_key", "\(base):\(item.id.uuidString.lowercased())"), ("level", String(item.level)),
                ("version", String(item.version)),
            ]
            if let number = item.delegation { fields.append(("delegation", String(number))) }
            let itemForm = WebForm(fields: fields)
            let metadata = try itemForm.metadata(path: path, requestID: context.requestID)
            var result = BatchResult(id: item.id.uuidString.lowercased(), plate: "", outcome: "", kind: "ok")
            do {
                let level = item.level
                let outcome = try await self.app.services.delegations.actOnPass(
                    id: item.id, expectedVersion: item.version, delegationNumber: item.delegation,
                    { .sign(level: level, delegation: $0) }, by: context.actor,
                    metadata: metadata, render: self.render())
                switch outcome {
                case .applied(let transitioned, _):
                    result.plate = transitioned.stored.machine.plate.text
                    result.outcome = "已同意"
                case .replayed:
                    result.outcome = "已同意（重复提交，未再签字）"
                }
            } catch let error as SignoffError where error.code.httpStatus < 500 {
                result.kind = WebText.isHandledElsewhere(error) ? "conflict" : "error"
                result.outcome = WebText.isHandledElsewhere(error) ? "该事项已由他人处理" : WebText.message(for: error)
            }
            if result.plate.isEmpty {
                result.plate = (try? await self.vehicles.transitions.load(PassApplication.self, id: item.id).machine.plate.text) ?? "—"
            }
            results.append(result)
        }
        let signed = results.filter { $0.kind == "ok" }.count
        if WebOutcome.wantsJSON(request) {
            return WebOutcome(result: .ok, message: "批量同意：\(signed)/\(results.count) 件已签字。", location: "/app/inbox").response()
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "批量同意结果", back: "/app/inbox"),
            "results": results, "signed": signed, "total": results.count,
        ]
        return self.renderer.page("batch_result", model)
    }

    struct BatchItem {
        var id: UUID
        var version: Int
        var level: Int
        /// The delegation the item is signed under (代签), if any.
        var delegation: Int?

        /// `id:version:level[:delegation]`, as the inbox writes each check box's value.
        init?(_ value: String) {
            let parts = value.split(separator: ":")
            guard parts.count == 3 || parts.count == 4, let id = UUID(uuidString: String(parts[0])), let version = Int(parts[1]),
                  let level = Int(parts[2]) else { return nil }
            self.id = id
            self.version = version
            self.level = level
            if parts.count == 4 {
                guard let number = Int(parts[3]) else { return nil }
                self.delegation = number
            }
        }
    }

    struct BatchResult {
        var id: String
        var plate: String
        var outcome: String
        var kind: String
    }

    // MARK: Inbox

    struct Card {
        var id: String
        var plate: String
        var place: String
        var round: Int
        var levelText: String
        var stateText: String
        var waited: String
        var overdue: Bool
        var pending: Bool
        var batchValue: String
        var mine: String
        /// 「代 X 签（委托 #n）」 when the reader signs it for someone else.
        var onBehalf: String = ""
    }

    func inbox(_ request: Request, _ context: WebContext) async throws -> Response {
        let actor = context.actor
        let tab = request.uri.queryParameters["tab"].map(String.init) ?? "mine"
        let plateQuery = request.uri.queryParameters["plate"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        let plate = Self.normalisedPlateQuery(plateQuery)
        let now = self.app.clock.now()
        let mine = try await self.app.services.inbox.pending(for: actor, cursor: nil, limit: 100)
        var cards: [Card] = []
        var paths = Set<String>()
        switch tab {
        case "done":
            let listings = try await self.app.directory.handled(by: actor.userID, plate: plate, limit: 100)
            for listing in listings {
                paths.insert(listing.unitPath.description)
                var card = self.card(listing.application, id: listing.id, version: listing.version, path: listing.unitPath, now: now)
                card.mine = "我：\(WebText.event(listing.myLastEvent ?? ""))，\(WebText.time(listing.myLastAt))"
                cards.append(card)
            }
        case "all":
            let scopes = actor.assignments.filter { VehiclesController.readers.contains($0.role) }.map(\.unitPath)
            let listings = try await self.app.directory.passes(under: scopes, plate: plate, limit: 100)
            for listing in listings {
                paths.insert(listing.unitPath.description)
                cards.append(self.card(listing.application, id: listing.id, version: listing.version, path: listing.unitPath, now: now))
            }
        default:
            for item in mine.items where plate.map({ item.application.plate.text.contains($0) }) ?? true {
                paths.insert(item.unitPath.description)
                var card = self.card(item.application, id: item.id, version: item.version, path: item.unitPath, now: now)
                if let delegation = item.delegation {
                    card.onBehalf = "代 \(delegation.delegator.name) 签（委托 #\(delegation.number)）"
                    card.batchValue += ":\(delegation.number)"
                }
                cards.append(card)
            }
        }
        let names = try await self.app.directory.unitNames(paths)
        for index in cards.indices {
            cards[index].place = Self.placeName(cards[index].place, names: names)
        }
        let tabs = [("mine", "待我审批"), ("done", "我已处理"), ("all", "全部")].map { key, label in
            Tab(key: key, label: label, selected: key == (["done", "all"].contains(tab) ? tab : "mine"),
                count: key == "mine" ? String(mine.items.count) : "")
        }
        let isMine = !["done", "all"].contains(tab)
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "审批", badge: mine.items.count),
            "tabs": tabs, "tab": isMine ? "mine" : tab, "isMine": isMine, "plate": plateQuery,
            "cards": cards, "empty": cards.isEmpty, "count": cards.count,
            "batch": isMine && cards.count > 1, "batchKey": WebApp.newKey(),
        ]
        return self.renderer.page("inbox", model)
    }

    struct Tab {
        var key: String
        var label: String
        var selected: Bool
        var count: String
    }

    /// A search for 川Q12345 also finds "Q123" typed in lower case.
    static func normalisedPlateQuery(_ text: String) -> String? {
        let cleaned = String(text.filter { !" ·•-\t".contains($0) }.uppercased())
        return cleaned.isEmpty ? nil : String(cleaned.prefix(20))
    }

    func card(_ application: PassApplication, id: UUID, version: Int, path: UnitPath, now: Date) -> Card {
        let level = application.pendingLevel
        let waited = application.pendingSince.map { now.timeIntervalSince($0) }
        return Card(
            id: id.uuidString.lowercased(), plate: application.plate.text, place: path.description,
            round: application.rounds.count,
            levelText: level.map { "第\($0.level)级 \($0.role.chineseName)" } ?? "",
            stateText: WebText.passState(application, at: now),
            waited: waited.map { "已等待\(WebText.duration($0))" } ?? "",
            overdue: application.pendingDueAt.map { $0 < now } ?? false,
            pending: level != nil,
            batchValue: level.map { "\(id.uuidString.lowercased()):\(version):\($0.level)" } ?? "",
            mine: "")
    }

    /// 联合村 · 联合村1组 · 第3网格 for a grid's path.
    static func placeName(_ path: String, names: [String: String]) -> String {
        let labels = path.split(separator: ".")
        guard labels.count > 1 else { return names[path] ?? path }
        return (2...labels.count).compactMap { names[labels[..<$0].joined(separator: ".")] }.joined(separator: " · ")
    }

    // MARK: Pass detail

    struct Notice {
        var kind: String
        var text: String

        /// Mustache looks into a value, not an optional: pages pass this with `hasNotice` false.
        static let none = Notice(kind: "", text: "")
    }

    struct LevelRow {
        var level: Int
        var roleName: String
        var status: String
        var statusText: String
        var signer: String
        var at: String
        var reason: String
        var waitingFor: String
        var waited: String
        var overdue: Bool
        var dueAt: String
    }

    struct RoundRow {
        var number: Int
        var startedAt: String
        var startedBy: String
        var note: String
        var steps: [String]
        var rejection: String
    }

    func passPage(id: UUID, _ context: WebContext, notice: Notice?, draftReason: String? = nil,
                  status: HTTPResponse.Status = .ok) async throws -> Response {
        let actor = context.actor
        let stored = try await self.vehicles.transitions.load(PassApplication.self, id: id)
        let application = stored.machine
        _ = try actor.assignment(asAnyOf: VehiclesController.readers, covering: application.gridPath)
        let now = self.app.clock.now()
        var paths = Set([application.gridPath.description])
        for round in application.rounds {
            for signature in round.signatures { paths.insert(signature.unitPath.description) }
            if let rejection = round.rejection { paths.insert(rejection.signer.unitPath.description) }
        }
        let names = try await self.app.directory.unitNames(paths)
        func signer(_ signature: PassApplication.Signature) -> String {
            let unit = names[signature.unitPath.description] ?? signature.unitPath.description
            if let principal = signature.onBehalfOf {
                return "由 \(signature.name) 代 \(principal.name) 签（委托 #\(signature.delegationNumber ?? 0)）（\(signature.role.chineseName)，\(unit)）"
            }
            return "\(signature.name)（\(signature.role.chineseName)，\(unit)）"
        }
        var rows: [LevelRow] = []
        for progress in application.progress {
            var row = LevelRow(level: progress.level.level, roleName: progress.level.role.chineseName, status: progress.status.rawValue,
                               statusText: "", signer: progress.signer.map(signer) ?? "", at: WebText.time(progress.signer?.at),
                               reason: progress.reason ?? "", waitingFor: "", waited: "", overdue: false,
                               dueAt: WebText.time(progress.dueAt))
            switch progress.status {
            case .signed: row.statusText = "已同意"
            case .rejected: row.statusText = "已拒绝"
            case .waiting: row.statusText = "未到"
            case .pending:
                row.statusText = "待签"
                if let assigned = application.pendingReassignment {
                    row.waitingFor = "\(assigned.to.name)（由 \(assigned.by.name) 转交，理由：\(assigned.reason)）"
                } else {
                    let holders = try await self.app.directory.holders(of: progress.level.role, covering: application.gridPath)
                    row.waitingFor = holders.isEmpty ? "（暂无人担任\(progress.level.role.chineseName)）"
                        : holders.map { "\($0.name)（\($0.unit)）" }.joined(separator: "、")
                }
                row.waited = progress.pendingSince.map { WebText.duration(now.timeIntervalSince($0)) } ?? ""
                row.overdue = progress.dueAt.map { $0 < now } ?? false
            }
            rows.append(row)
        }
        let rounds = application.rounds.reversed().dropFirst().map { round in
            RoundRow(number: round.number, startedAt: WebText.time(round.startedAt), startedBy: round.startedByName,
                     note: round.note ?? "", steps: round.signatures.map { "第\($0.level)级 \(signer($0)) 同意，\(WebText.time($0.at))" },
                     rejection: round.rejection.map { "第\($0.signer.level)级 \(signer($0.signer)) 拒绝，\(WebText.time($0.signer.at))：\($0.reason)" } ?? "")
        }
        // What this reader may do now.
        let pending = application.pendingLevel
        let signedElsewhere = application.rounds.contains { round in
            round.signatures.contains { $0.userID == actor.userID && $0.level != pending?.level }
        }
        // A delegation in force for this level and place: the decision is made for its delegator.
        let delegations = try await self.app.services.delegations.inForce(to: actor.userID)
        let assigned = application.pendingReassignment
        let delegation = pending.flatMap { level in
            delegations.first { $0.covers(role: level.role, path: application.gridPath)
                && (assigned == nil || assigned?.to.userID == $0.delegator.userID) }
        }
        let holdsRole = pending.map { level in
            (try? actor.assignment(as: level.role, covering: application.gridPath)) != nil
        } ?? false
        let canSign = holdsRole && (assigned == nil || assigned?.to.userID == actor.userID || delegation != nil)
        let applicant = (try? actor.assignment(as: .gridWorker, covering: application.gridPath)) != nil
        let vehicle = try? await self.app.directory.vehicle(id: application.vehicleID, under: [application.gridPath])
        var model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "通行证 \(application.plate.text)", back: "/app/inbox"),
            "id": id.uuidString.lowercased(), "plate": application.plate.text, "version": stored.version,
            "place": Self.placeName(application.gridPath.description, names: names),
            "stateText": WebText.passState(application, at: now), "state": application.displayStatus(at: now),
            "round": application.rounds.count, "appliedAt": WebText.time(application.appliedAt),
            "passNumber": application.passNumber ?? "",
            "validity": application.effectiveFrom.map { "\(WebText.day($0)) 至 \(WebText.day(application.effectiveUntil))" } ?? "",
            "closedReason": application.closedReason ?? "",
            "note": application.currentRound.note ?? "",
            "levels": rows, "rounds": Array(rounds), "hasRounds": !rounds.isEmpty,
            "notice": notice ?? Notice.none, "hasNotice": notice != nil,
            "canSign": canSign, "signedElsewhere": canSign && signedElsewhere,
            "delegation": delegation.map { String($0.number) } ?? "",
            "onBehalf": delegation.map { "代 \($0.delegator.name) 签（委托 #\($0.number)）" } ?? "",
            "reassignedAway": holdsRole && !canSign ? (assigned.map { "这一级已由 \($0.by.name) 转交给 \($0.to.name) 办理，您不能再签。" } ?? "") : "",
            "canReassign": (try? actor.assignment(as: .admin, covering: application.gridPath)) != nil
                && (application.pendingDueAt.map { $0 <= now } ?? false),
            "pendingLevel": pending?.level ?? 0, "pendingRole": pending?.role.chineseName ?? "",
            "canResubmit": applicant && application.state == .rejected,
            "canWithdraw": applicant && (application.state == .pending || application.state == .rejected),
            "draftReason": draftReason ?? "",
            "key": WebApp.newKey(), "key2": WebApp.newKey(), "key3": WebApp.newKey(),
            "pledge": vehicle?.pledge.map { WebText.pledgeState($0.machine.state) } ?? "",
            "parkedSince": WebText.time(vehicle?.pledge?.machine.parkedSince),
            "parkingPlace": vehicle?.vehicle.parkingPlace ?? "",
            "keyState": vehicle?.key.map { WebText.keyState($0.machine.state) } ?? "未登记",
            "keyHolder": vehicle?.key?.machine.custodian?.name ?? "",
            "keyPlace": vehicle?.key?.machine.storagePlace ?? "",
            "owner": vehicle?.ownerName ?? "",
            "vehicleID": application.vehicleID.uuidString.lowercased(),
            "canRevoke": application.state == .effective && !application.isExpired(at: now)
                && (try? actor.assignment(asAnyOf: PassApplication.revokerRoles, covering: application.gridPath)) != nil,
            "key4": WebApp.newKey(),
        ]
        try await CheckpointPages.addCredential(of: id, to: &model, app: self.app)
        return self.renderer.page("pass", model, status: status)
    }
}
