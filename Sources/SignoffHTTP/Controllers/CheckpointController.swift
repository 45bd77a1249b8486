import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// The checkpoints 卡点 in the JSON API: the revocation list (no sign-in, as the key list), and
/// the checkpoint log (a check or turn-back is one `CheckpointCheck` transition).
struct CheckpointController {
    let checkpoints: CheckpointStore
    let credentials: CredentialStore
    let clock: any WallClock

    struct RevocationList: Encodable {
        var generatedAt: Date
        var revoked: [RevokedCredential]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case generatedAt = "generated_at"
            case revoked
        }
    }

    struct Record: StrictRequest {
        var checkpoint: String
        var direction: CheckpointCheck.Direction
        var subject: String
        var decision: Decision
        var reason: String?
        var credential: String?
        var note: String?
        var checkedAt: Date?

        enum Decision: String, Codable, Sendable {
            case release
            case turnBack = "turn_back"
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case checkpoint, direction, subject, decision, reason, credential, note
            case checkedAt = "checked_at"
        }

        func request() throws(SignoffError) -> CheckpointStore.CheckRequest {
            let decision: CheckpointCheck.Decision
            switch self.decision {
            case .release: decision = .release
            case .turnBack:
                guard let reason = self.reason?.trimmedReason else {
                    throw SignoffError(.reasonRequired, "A turn-back 劝返 names its reason.", extra: ["field": "reason"])
                }
                decision = .turnBack(reason: reason)
            }
            return CheckpointStore.CheckRequest(checkpoint: self.checkpoint, direction: self.direction, subject: self.subject,
                                                decision: decision, credential: self.credential, note: self.note,
                                                checkedAt: self.checkedAt)
        }
    }

    struct CheckView: Encodable {
        struct CredentialView: Encodable {
            var kind: String
            var number: String
            var subject: String
            var validUntil: Date
            var verdict: String

            enum CodingKeys: String, CodingKey, CaseIterable {
                case kind, number, subject
                case validUntil = "valid_until"
                case verdict
            }
        }

        var id: UUID
        var decision: String
        var checkpoint: String
        var checkpointName: String
        var direction: String
        var subject: String
        var reasonCode: String?
        var reasonName: String?
        var note: String?
        var credential: CredentialView?
        var checkedAt: Date
        var day: String
        var shift: String?
        var onDuty: [String]
        var recordedBy: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, decision, checkpoint
            case checkpointName = "checkpoint_name"
            case direction, subject
            case reasonCode = "reason_code"
            case reasonName = "reason_name"
            case note, credential
            case checkedAt = "checked_at"
            case day, shift
            case onDuty = "on_duty"
            case recordedBy = "recorded_by"
        }

        init(_ stored: Stored<CheckpointCheck>) {
            let check = stored.machine
            self.id = stored.id
            self.decision = check.state == .released ? "release" : "turn_back"
            self.checkpoint = check.checkpointCode
            self.checkpointName = check.checkpointName
            self.direction = check.direction.rawValue
            self.subject = check.subject
            self.reasonCode = check.reasonCode
            self.reasonName = check.reasonName
            self.note = check.note
            self.credential = check.credential.map {
                CredentialView(kind: $0.kind.rawValue, number: $0.number, subject: $0.subject, validUntil: $0.validUntil, verdict: $0.verdict)
            }
            self.checkedAt = check.checkedAt
            self.day = check.day
            self.shift = check.shiftCode
            self.onDuty = check.onDuty.map(\.name)
            self.recordedBy = check.recordedByName
        }
    }

    static func render() -> TransitionStore.Render<CheckpointCheck> {
        TransitionResponder.render(status: .created) { CheckView($0.stored) }
    }

    func addRoutes(to router: Router<AppRequestContext>, authenticated group: RouterGroup<AuthenticatedContext>) {
        router.get("/credentials/revocations") { _, _ in
            let list = RevocationList(generatedAt: self.clock.now(), revoked: try await self.credentials.revocations())
            var response = try JSONBody.response(list)
            // Fetched by every checkpoint page whenever it is online; the page shows the list's age.
            response.headers[.cacheControl] = "no-cache"
            return response
        }
        group.transition("/checkpoint/checks", body: Record.self) { context, body, metadata in
            try await self.checkpoints.record(try body.request(), by: context.actor, metadata: metadata, render: Self.render())
        }
        group.get("/checkpoint/checks") { request, context in
            let roles = try self.checkpoints.policy().recorderRoles
            guard context.actor.assignments.contains(where: { roles.contains($0.role) }) else {
                throw SignoffError(.forbiddenRole, "Only township and village officials read the checkpoint log.")
            }
            let limit = request.uri.queryParameters["limit"].flatMap { Int($0) }.map { min(max($0, 1), 200) } ?? 50
            let found = try await self.checkpoints.recent(limit: limit)
            return try JSONBody.response(["checks": found.map(CheckView.init)])
        }
    }
}
