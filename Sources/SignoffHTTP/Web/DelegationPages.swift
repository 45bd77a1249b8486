import Foundation
import HTTPTypes
import Hummingbird
import SignoffCore
import SignoffStore

/// 委托代签: a signer names a delegate for a period, sees and revokes their delegations; and
/// 转交: the township office hands an overdue level to another holder of its role, with a reason.
/// Each form is one transition with its Idempotency-Key, queued by the outbox when offline.
struct DelegationPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var delegations: DelegationStore { self.app.services.delegations }

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/delegations") { request, context in
            try await self.listPage(context, notice: Self.doneText[AdminPages.query(request, "done") ?? ""], isError: false)
        }
        group.post("/delegations") { request, context in try await self.create(request, context) }
        group.post("/delegations/:number/revoke") { request, context in try await self.revoke(request, context) }
        group.get("/admin/passes/:id/reassign") { _, context in try await self.reassignPage(context, notice: nil) }
        group.post("/admin/passes/:id/reassign") { request, context in try await self.reassign(request, context) }
    }

    static let doneText = ["created": "委托已生效。被委托人在期限内可以代您签字。", "revoked": "委托已撤销。"]

    // MARK: Delegations

    struct Row {
        var number: Int
        var text: String
        var period: String
        var status: String
        var statusKey: String
        var reason: String
        var createdBy: String
        var revoked: String
        var canRevoke: Bool
        var key: String
    }

    struct Choice {
        var value: String
        var label: String
    }

    func listPage(_ context: WebContext, notice: String?, isError: Bool, draft: WebForm? = nil,
                  status: HTTPResponse.Status = .ok) async throws -> Response {
        let actor = context.actor
        let now = self.app.clock.now()
        let signerRoles = actor.assignments.filter { VehiclePolicy.signerRoles.contains($0.role) }
        guard !signerRoles.isEmpty || actor.holds(.admin) else {
            throw SignoffError(.forbiddenRole, "This needs a signer role.")
        }
        let names = try await self.app.directory.unitNames(Set(signerRoles.map(\.unitPath.description)))
        // Whom each of my signer roles may be delegated to: other holders of it over my unit.
        var choices: [Choice] = []
        for assignment in signerRoles {
            let unit = names[assignment.unitPath.description] ?? assignment.unitPath.description
            for holder in try await self.delegations.holders(of: assignment.role, covering: assignment.unitPath)
            where holder.userID != actor.userID {
                choices.append(Choice(
                    value: "\(assignment.role.rawValue)|\(assignment.unitID.uuidString.lowercased())|\(holder.userID.uuidString.lowercased())",
                    label: "\(holder.name)（\(holder.unitName)）— 代我任\(unit)\(assignment.role.chineseName)"))
            }
        }
        let list = try await self.delegations.list(for: actor)
        let rows = list.map { stored -> Row in
            let d = stored.delegation
            let statusKey = d.status(at: now)
            let mayRevoke = d.state == .active && now < d.until
                && (actor.userID == d.delegator.userID || actor.userID == d.delegate.userID
                    || (try? actor.assignment(as: .admin, covering: d.unitPath)) != nil)
            return Row(
                number: d.number,
                text: "\(d.delegator.name) 委托 \(d.delegate.name) 代签（\(d.role.chineseName)）",
                period: "\(WebText.time(d.from)) 至 \(WebText.time(d.until))",
                status: Self.statusText(statusKey), statusKey: statusKey, reason: d.reason,
                createdBy: d.createdByAdmin ? "由乡政府办公室 \(d.createdBy.name) 设立" : "由本人设立",
                revoked: d.revokedAt.map { "\(d.revokedBy?.name ?? "") \(WebText.time($0)) 撤销\(d.revokedReason.map { "：\($0)" } ?? "")" } ?? "",
                canRevoke: mayRevoke, key: WebApp.newKey())
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "委托代签", back: "/app"),
            "notice": notice ?? "", "isError": isError,
            "rows": rows, "empty": rows.isEmpty, "choices": choices, "canCreate": !choices.isEmpty,
            "noChoice": !signerRoles.isEmpty && choices.isEmpty,
            "from": draft?.text("from") ?? WebText.localInput(now),
            "until": draft?.text("until") ?? WebText.localInput(now.addingTimeInterval(7 * 86_400)),
            "reason": draft?.text("reason") ?? "", "key": WebApp.newKey(),
        ]
        return self.renderer.page("delegations", model, status: status)
    }

    static func statusText(_ key: String) -> String {
        switch key {
        case "active": "生效中"
        case "scheduled": "未开始"
        case "expired": "已到期"
        case "revoked": "已撤销"
        default: key
        }
    }

    func create(_ request: Request, _ context: WebContext) async throws -> Response {
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        do {
            let parts = (form.text("delegate") ?? "").split(separator: "|").map(String.init)
            guard parts.count == 3, let role = Role(rawValue: parts[0]), let unitID = UUID(uuidString: parts[1]),
                  let delegateID = UUID(uuidString: parts[2]) else {
                throw SignoffError(.missingField, "Choose a delegate.", extra: ["field": "delegate"])
            }
            guard let from = form.text("from").flatMap(WebText.parseLocalInput) else {
                throw SignoffError.invalidValue("from", "The start is a date and time.")
            }
            guard let until = form.text("until").flatMap(WebText.parseLocalInput) else {
                throw SignoffError.invalidValue("until", "The end is a date and time.")
            }
            let outcome = try await self.delegations.create(
                .init(delegatorID: nil, delegateID: delegateID, role: role, unitID: unitID, from: from, until: until,
                      reason: form.text("reason")),
                by: context.actor, metadata: metadata, render: Self.render(self.app.clock))
            return Self.done(request, outcome, message: Self.doneText["created"]!, location: "/app/delegations?done=created")
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated {
            if WebOutcome.wantsJSON(request) {
                return WebOutcome(result: .refused, message: WebText.message(for: error), location: "/app/delegations")
                    .response(status: .init(code: error.code.httpStatus))
            }
            return try await self.listPage(context, notice: WebText.message(for: error), isError: true, draft: form,
                                           status: .init(code: error.code.httpStatus))
        }
    }

    func revoke(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let number = context.parameters.get("number").flatMap({ Int($0) }) else {
            throw SignoffError.notFound("This delegation")
        }
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        do {
            let outcome = try await self.delegations.revoke(number: number, reason: form.text("reason"), by: context.actor,
                                                            metadata: metadata, render: Self.render(self.app.clock))
            return Self.done(request, outcome, message: Self.doneText["revoked"]!, location: "/app/delegations?done=revoked")
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated && error.code != .notFound {
            let message = WebText.isHandledElsewhere(error) ? "该委托已由他人更新。下面是它现在的状态。" : WebText.message(for: error)
            if WebOutcome.wantsJSON(request) {
                return WebOutcome(result: .refused, message: message, location: "/app/delegations")
                    .response(status: .init(code: error.code.httpStatus))
            }
            return try await self.listPage(context, notice: message, isError: true, status: .init(code: error.code.httpStatus))
        }
    }

    static func render(_ clock: any WallClock) -> TransitionStore.Render<Delegation> {
        TransitionResponder.render { transitioned in
            DelegationsController.DelegationView(
                StoredDelegation(id: transitioned.stored.id, version: transitioned.stored.version,
                                 delegation: transitioned.stored.machine), now: clock.now())
        }
    }

    static func done<Machine: AuditedMachine>(_ request: Request, _ outcome: TransitionOutcome<Machine>, message: String,
                                              location: String) -> Response {
        guard WebOutcome.wantsJSON(request) else { return WebRenderer.redirect(location) }
        if case .replayed = outcome { return WebOutcome(result: .replayed, message: message, location: location).response() }
        return WebOutcome(result: .ok, message: message, location: location).response()
    }

    // MARK: 转交

    func reassignPage(_ context: WebContext, notice: String?, draftReason: String? = nil,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = try SignerPages.pathID(context)
        let stored = try await self.app.services.vehicles.transitions.load(PassApplication.self, id: id)
        let application = stored.machine
        _ = try context.actor.assignment(as: .admin, covering: application.gridPath)
        let now = self.app.clock.now()
        guard let level = application.pendingLevel else {
            throw SignoffError.invalidTransition("reassign", from: application.stateName)
        }
        let current = application.pendingReassignment?.to.userID
        let holders = try await self.delegations.holders(of: level.role, covering: application.gridPath)
            .filter { holder in
                holder.userID != current
                    && !application.actsOfUser(holder.userID).contains { $0.level != level.level }
            }
        let names = try await self.app.directory.unitNames([application.gridPath.description])
        let overdue = application.pendingDueAt.map { $0 <= now } ?? false
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "转交 \(application.plate.text)", back: "/app/admin"),
            "id": id.uuidString.lowercased(), "plate": application.plate.text, "version": stored.version,
            "place": SignerPages.placeName(application.gridPath.description, names: names),
            "level": level.level, "roleName": level.role.chineseName,
            "waited": application.pendingSince.map { WebText.duration(now.timeIntervalSince($0)) } ?? "",
            "due": WebText.time(application.pendingDueAt), "overdue": overdue,
            "assigned": application.pendingReassignment.map { "当前已转交给 \($0.to.name)" } ?? "",
            "holders": holders.map { Choice(value: $0.userID.uuidString.lowercased(), label: "\($0.name)（\($0.unitName)）") },
            "hasHolders": !holders.isEmpty, "notice": notice ?? "", "reason": draftReason ?? "", "key": WebApp.newKey(),
        ]
        return self.renderer.page("admin_reassign", model, status: status)
    }

    func reassign(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try SignerPages.pathID(context)
        let form = try await WebForm.read(request, csrf: context.session.csrfToken)
        let metadata = try form.metadata(path: request.uri.path, requestID: context.requestID)
        let location = "/app/passes/\(id.uuidString.lowercased())"
        do {
            guard let to = form.text("to").flatMap(UUID.init(uuidString:)) else {
                throw SignoffError(.missingField, "Choose the new holder.", extra: ["field": "to"])
            }
            guard let level = form.int("level") else { throw SignoffError(.missingField, "The level is missing.", extra: ["field": "level"]) }
            let clock = self.app.clock
            let outcome = try await self.delegations.reassign(
                passID: id, level: level, toUserID: to, reason: form.text("reason"), expectedVersion: form.int("version"),
                by: context.actor, metadata: metadata,
                render: TransitionResponder.render { PassView($0.stored.machine, version: $0.stored.version, now: clock.now()) })
            return Self.done(request, outcome, message: "已转交。", location: "\(location)?done=reassign")
        } catch let error as SignoffError where error.code.httpStatus < 500 && error.code != .unauthenticated && error.code != .notFound
            && error.code != .forbiddenRole && error.code != .outOfJurisdiction {
            let message = WebText.isHandledElsewhere(error) ? "该事项已由他人处理。下面是它现在的状态。" : WebText.message(for: error)
            if WebOutcome.wantsJSON(request) {
                return WebOutcome(result: WebText.isHandledElsewhere(error) ? .conflict : .refused, message: message, location: location)
                    .response(status: .init(code: error.code.httpStatus))
            }
            return try await self.reassignPage(context, notice: message, draftReason: form.text("reason"),
                                               status: .init(code: error.code.httpStatus))
        }
    }
}
