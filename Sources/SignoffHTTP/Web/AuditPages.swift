import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PostgresNIO
import SignoffCore
import SignoffStore

/// 审计: a record's full history (`/app/audit/{id}`: who, in which role and unit, why, when,
/// with the request id) and the chain check of that record; for the township office the
/// whole-trail check as a background job with its progress (`/app/admin/audit`), and the
/// current chain heads as a dated file with their SHA-256 digests.
struct AuditPages: Sendable {
    let app: WebApp

    var renderer: WebRenderer { self.app.renderer }
    var database: Database { self.app.services.database }
    var checks: AuditCheckStore { AuditCheckStore(database: self.database, clock: self.app.clock) }

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/audit/:id") { _, context in try await self.history(context) }
        group.get("/admin/audit") { _, context in try await self.overview(context) }
        group.post("/admin/audit/checks") { request, context in try await self.startCheck(request, context) }
        group.get("/admin/audit/checks/:id") { _, context in try await self.checkPage(context) }
        group.get("/admin/audit/heads.txt") { _, context in try await self.heads(context) }
        group.post("/admin/audit/checkpoints") { request, context in try await self.writeCheckpoint(request, context) }
        group.get("/admin/audit/checkpoints/:id") { _, context in try await self.checkpointFile(context) }
    }

    var checkpoints: AuditCheckpointStore {
        AuditCheckpointStore(database: self.database, clock: self.app.clock, keys: self.app.services.signingKeys)
    }

    // MARK: One record

    struct Row {
        var seq: Int
        var rowID: Int
        var event: String
        var change: String
        var actor: String
        var role: String
        var unit: String
        var reason: String
        var at: String
        var requestID: String
        var hash: String
        var broken: Bool
    }

    static func eventName(_ event: String) -> String {
        switch event {
        case "create": "创建"
        case "suspend": "停用"
        case "reactivate": "恢复"
        case "close": "注销"
        case "grant_role": "授予角色"
        case "revoke_role": "撤销角色"
        case "set_password": "设置密码"
        case "open": "建立积分台账"
        case "record_credit": "记入自治积分"
        default: WebText.event(event)
        }
    }

    /// A problem found by the chain check, in Chinese.
    static func problemText(_ problem: AuditVerification.Problem) -> String {
        let message = problem.message
        let what: String
        if message.hasPrefix("its hash does not match") {
            what = "内容与哈希不符：这条记录写入后被改动过"
        } else if message.hasPrefix("its prev_hash") {
            what = "与上一条记录的哈希接不上：之前的记录被删除或替换过"
        } else if message.hasPrefix("its sequence number") {
            what = "序号不连续：之前缺少记录"
        } else if message.hasPrefix("its stored chain head") {
            what = "链头与最后一条记录不符：有记录被删除或链头被改动"
        } else if message.hasPrefix("its current state") {
            what = "当前状态与最后一条审计记录不符：状态在流转路径之外被改动"
        } else {
            what = "记录的末尾被截掉了（最后几条审计记录不见了）"
        }
        if let rowID = problem.rowID, let seq = problem.seq {
            return "第\(seq)条（审计行 #\(rowID)）\(what)"
        }
        return what
    }

    /// Who may read a record's history: as the JSON API (`GET /audit`) decides.
    func authorise(_ subject: UUID, kind: String, path: UnitPath, actor: Principal) throws {
        if kind == AccountLifecycle.kind {
            if subject != actor.userID { _ = try actor.assignment(as: .admin, covering: path) }
        } else {
            _ = try actor.assignment(asAnyOf: AuditController.readers, covering: path)
        }
    }

    func history(_ context: WebContext) async throws -> Response {
        let subject = try SignerPages.pathID(context)
        let (instance, records, verification, unitNames) = try await self.database.withConnection {
            connection -> ((kind: String, path: String)?, [AuditRecord], AuditVerification?, [String: String]) in
            let rows = try await connection.query(
                "SELECT kind, unit_path::text FROM instances WHERE id = \(subject)", logger: self.database.logger)
            var instance: (kind: String, path: String)?
            for try await (kind, path) in rows.decode((String, String).self) { instance = (kind, path) }
            guard instance != nil else { return (instance, [AuditRecord](), AuditVerification?.none, [String: String]()) }
            let records = try await AuditLog.history(subjectID: subject, on: connection, logger: self.database.logger)
            let verification = try await AuditLog.verify(.subject(subject), on: connection, logger: self.database.logger)
            let paths = Array(Set(records.compactMap(\.actorUnitPath)))
            var names: [String: String] = [:]
            if !paths.isEmpty {
                let found = try await connection.query(
                    "SELECT path::text, name FROM units WHERE path::text = ANY(\(paths))", logger: self.database.logger)
                for try await (path, name) in found.decode((String, String).self) { names[path] = name }
            }
            return (instance, records, verification, names)
        }
        // A record one may not see answers exactly like one that does not exist.
        guard let instance, let verification, !records.isEmpty else { throw SignoffError.notFound("History") }
        try self.authorise(subject, kind: instance.kind, path: try UnitPath(instance.path), actor: context.actor)
        let brokenRow = verification.firstBrokenRow?.rowID
        let rows = records.map { record in
            Row(seq: record.seq, rowID: record.id, event: Self.eventName(record.event),
                change: record.fromState.map { "\($0) → \(record.toState)" } ?? "→ \(record.toState)",
                actor: record.actorName, role: record.actorRole.flatMap(Role.init(rawValue:))?.chineseName ?? (record.actorRole ?? "系统"),
                unit: record.actorUnitPath.map { unitNames[$0] ?? $0 } ?? "", reason: record.reason ?? "",
                at: WebText.time(record.at), requestID: record.requestID ?? "", hash: String(record.hash.prefix(16)),
                broken: record.id == brokenRow)
        }
        let problems = (verification.firstBrokenRow.map { [$0] } ?? []) + verification.subjectProblems
        let back: String = switch instance.kind {
        case PassApplication.kind: "/app/passes/\(subject.uuidString.lowercased())"
        case AccountLifecycle.kind: context.actor.holds(.admin) ? "/app/admin/users/\(subject.uuidString.lowercased())" : "/app"
        default: "/app"
        }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "审计记录", back: back),
            "subject": subject.uuidString.lowercased(), "kind": instance.kind, "rows": rows, "count": rows.count,
            "intact": verification.isIntact, "problems": problems.map(Self.problemText),
            "admin": context.actor.holds(.admin),
        ]
        return self.renderer.page("audit_history", model)
    }

    // MARK: The whole trail

    /// The whole trail is the township's: only its administrators check or export it.
    func townshipAdmin(_ context: WebContext) throws {
        let scope = try AdminPages.adminScope(context.actor)
        guard scope.labels.count == 1 else {
            throw SignoffError(.forbiddenRole, "The whole audit trail needs the township's administrator.")
        }
    }

    struct CheckView {
        var id: String
        var status: String
        var statusText: String
        var running: Bool
        var intact: Bool
        var broken: Bool
        var failed: Bool
        var startedAt: String
        var finishedAt: String
        var rowsChecked: Int
        var rowsTotal: Int
        var percent: Int
        var subjectsChecked: Int
        var subjectsTotal: Int
        var firstBrokenRow: String
        var subjectProblems: Int
        var hasSubjectProblems: Bool
        var problems: [String]
        var error: String
    }

    static func view(_ check: AuditCheck) -> CheckView {
        let total = max(check.rowsTotal, check.rowsChecked)
        let percent = total == 0 ? (check.status == .running ? 0 : 100) : min(100, check.rowsChecked * 100 / total)
        let text: String = switch check.status {
        case .running: "核验中"
        case .intact: "完整：所有记录的哈希链都对得上"
        case .broken: "发现问题"
        case .failed: "核验中断"
        }
        return CheckView(
            id: check.id.uuidString.lowercased(), status: check.status.rawValue, statusText: text,
            running: check.status == .running, intact: check.status == .intact, broken: check.status == .broken,
            failed: check.status == .failed, startedAt: WebText.time(check.startedAt), finishedAt: WebText.time(check.finishedAt),
            rowsChecked: check.rowsChecked, rowsTotal: total, percent: percent, subjectsChecked: check.subjectsChecked,
            subjectsTotal: max(check.subjectsTotal, check.subjectsChecked), firstBrokenRow: check.firstBrokenRow.map(String.init) ?? "",
            subjectProblems: check.subjectProblems, hasSubjectProblems: check.subjectProblems > 0,
            problems: check.problemsText.split(separator: "\n").prefix(10).map(String.init), error: check.errorText ?? "")
    }

    func overview(_ context: WebContext) async throws -> Response {
        try self.townshipAdmin(context)
        let recent = try await self.checks.recent()
        let statements = try await self.checkpoints.recent()
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "审计核验", back: "/app"),
            "checkpoints": statements.map { checkpoint -> [String: Any] in
                [
                    "id": checkpoint.id.uuidString.lowercased(), "at": WebText.time(checkpoint.createdAt),
                    "trigger": checkpoint.trigger == .daily ? "每日自动" : "手动", "records": checkpoint.records,
                    "subjects": checkpoint.subjects, "root": String(checkpoint.merkleRoot.prefix(16)), "keyID": checkpoint.keyID,
                ]
            },
            "hasCheckpoints": !statements.isEmpty,
            "checks": recent.map(Self.view), "hasChecks": !recent.isEmpty,
            "running": recent.first { $0.status == .running }.map { $0.id.uuidString.lowercased() } ?? "",
        ]
        return self.renderer.page("admin_audit", model)
    }

    func startCheck(_ request: Request, _ context: WebContext) async throws -> Response {
        try self.townshipAdmin(context)
        _ = try await WebForm.read(request, csrf: context.session.csrfToken)
        let check = try await self.checks.start(by: context.actor.userID)
        self.runInBackground(check.id)
        return WebRenderer.redirect("/app/admin/audit/checks/\(check.id.uuidString.lowercased())")
    }

    /// The batches run on this instance; the progress is in the table, so a poll reaching
    /// another instance reads the same, and takes over a job whose instance went quiet.
    func runInBackground(_ id: UUID) {
        let checks = self.checks
        Task.detached { await checks.runToEnd(id: id) }
    }

    func checkPage(_ context: WebContext) async throws -> Response {
        try self.townshipAdmin(context)
        let id = try SignerPages.pathID(context)
        var check = try await self.checks.check(id: id)
        if self.checks.isStale(check) {
            self.runInBackground(check.id)
            check = try await self.checks.check(id: id)
        }
        var broken: [String: Any] = [:]
        if let row = check.firstBrokenRow {
            let found = try await self.database.withConnection { connection in
                let rows = try await connection.query(
                    "SELECT subject_kind, subject_id, seq FROM audit_events WHERE id = \(row)", logger: self.database.logger)
                var found: (String, UUID, Int)?
                for try await item in rows.decode((String, UUID, Int).self) { found = item }
                return found
            }
            if let (kind, subject, seq) = found {
                broken = ["row": row, "kind": kind, "subject": subject.uuidString.lowercased(), "seq": seq]
            }
        }
        var chrome = try await self.app.chrome(context, title: "审计核验", back: "/app/admin/audit")
        if check.status == .running { chrome.refresh = "2" }
        let model: [String: Any] = [
            "chrome": chrome, "check": Self.view(check), "brokenRow": broken, "hasBrokenRow": !broken.isEmpty,
        ]
        return self.renderer.page("admin_audit_check", model)
    }

    /// Writes a signed checkpoint now (the service also writes one every China-time day).
    func writeCheckpoint(_ request: Request, _ context: WebContext) async throws -> Response {
        try self.townshipAdmin(context)
        _ = try await WebForm.read(request, csrf: context.session.csrfToken)
        _ = try await self.checkpoints.write()
        return WebRenderer.redirect("/app/admin/audit")
    }

    /// The signed statement as the file to keep (`signoff audit verify --against` reads it).
    func checkpointFile(_ context: WebContext) async throws -> Response {
        try self.townshipAdmin(context)
        let checkpoint = try await self.checkpoints.checkpoint(id: try SignerPages.pathID(context))
        return Response(status: .ok, headers: [
            .contentType: "text/plain; charset=utf-8", .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"\(checkpoint.filename)\"",
        ], body: .init(byteBuffer: ByteBuffer(string: checkpoint.statement)))
    }

    func heads(_ context: WebContext) async throws -> Response {
        try self.townshipAdmin(context)
        let export = try await self.checks.headsExport()
        return Response(status: .ok, headers: [
            .contentType: "text/plain; charset=utf-8", .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"\(export.filename)\"",
        ], body: .init(byteBuffer: ByteBuffer(string: export.text)))
    }
}
