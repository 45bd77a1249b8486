import Foundation

/// One check at a checkpoint 卡点: a vehicle or person going in or out, let through (放行) with
/// the credential checked, or turned back (劝返) with a reason from the policy, and who was on
/// duty. A record of what happened: it is created in its final state and never moves.
///
/// The store verifies the credential's signature (`CredentialVerifier`) and looks up the
/// roster before starting the machine; the machine checks the rest.
public struct CheckpointCheck: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        /// 放行.
        case released
        /// 劝返.
        case turnedBack = "turned_back"
    }

    public enum Direction: String, Sendable, Codable, Hashable, CaseIterable {
        /// 进: into the township.
        case entering = "in"
        /// 出: out of the township.
        case leaving = "out"

        public var chineseName: String {
            switch self {
            case .entering: "进"
            case .leaving: "出"
            }
        }
    }

    /// The credential shown, as the service found it when the check was recorded.
    public struct CheckedCredential: Sendable, Codable, Hashable {
        public var kind: Credential.Kind
        public var number: String
        public var subject: String
        public var validUntil: Date
        public var keyID: String
        /// `valid`, `expired`, `not_yet_valid`, `revoked` or `key_not_current`: the signature held.
        public var verdict: String

        public init(kind: Credential.Kind, number: String, subject: String, validUntil: Date, keyID: String, verdict: String) {
            self.kind = kind
            self.number = number
            self.subject = subject
            self.validUntil = validUntil
            self.keyID = keyID
            self.verdict = verdict
        }

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind
            case number
            case subject
            case validUntil = "valid_until"
            case keyID = "key_id"
            case verdict
        }

        /// From a verification whose signature held; nil for a forged, unknown or malformed one.
        public init?(_ verification: CredentialVerification) {
            let (credential, verdict): (Credential, String)
            switch verification {
            case .valid(let found): (credential, verdict) = (found, "valid")
            case .expired(let found): (credential, verdict) = (found, "expired")
            case .notYetValid(let found): (credential, verdict) = (found, "not_yet_valid")
            case .revoked(let found): (credential, verdict) = (found, "revoked")
            case .keyNotCurrent(let found): (credential, verdict) = (found, "key_not_current")
            case .badSignature, .unknownKey, .malformed: return nil
            }
            self.init(kind: credential.kind, number: credential.number, subject: credential.subject,
                      validUntil: credential.validUntil, keyID: credential.keyID, verdict: verdict)
        }
    }

    /// A leader on the roster for the checkpoint and shift when the check was made.
    public struct OnDuty: Sendable, Codable, Hashable {
        public var userID: UUID
        public var name: String

        public init(userID: UUID, name: String) {
            self.userID = userID
            self.name = name
        }

        /// The stored form's field names: a contract.
        enum CodingKeys: String, CodingKey, CaseIterable {
            case userID = "user_id"
            case name
        }
    }

    public enum Decision: Sendable, Equatable {
        case release
        case turnBack(reason: String)
    }

    public struct Start: Sendable {
        public var checkpoint: String
        public var direction: Direction
        /// The plate, or the person (name, and what identifies them).
        public var subject: String
        public var decision: Decision
        public var credential: CheckedCredential?
        public var note: String?
        /// When the check happened on the phone (a check queued offline is sent later); nil means now.
        public var checkedAt: Date?
        /// The roster for the checkpoint at `checkedAt`, looked up by the store.
        public var onDuty: [OnDuty]
        public var policy: CheckpointPolicy
        /// The township's path: checkpoints belong to the township.
        public var townshipPath: UnitPath

        public init(checkpoint: String, direction: Direction, subject: String, decision: Decision, credential: CheckedCredential?,
                    note: String?, checkedAt: Date?, onDuty: [OnDuty], policy: CheckpointPolicy, townshipPath: UnitPath) {
            self.checkpoint = checkpoint
            self.direction = direction
            self.subject = subject
            self.decision = decision
            self.credential = credential
            self.note = note
            self.checkedAt = checkedAt
            self.onDuty = onDuty
            self.policy = policy
            self.townshipPath = townshipPath
        }
    }

    /// A check is never changed once recorded; a mistake is corrected by a new record.
    public typealias Command = Never

    public static let kind = "checkpoint_check"
    /// How far back a check queued offline may be dated, and how far ahead a phone's clock may be.
    public static let maximumDelay: TimeInterval = 7 * 86_400
    public static let maximumClockSkew: TimeInterval = 10 * 60

    public private(set) var state: State
    public let checkID: UUID
    public let unitPath: UnitPath
    public let checkpointCode: String
    public let checkpointName: String
    public let direction: Direction
    public let subject: String
    public let credential: CheckedCredential?
    public let reasonCode: String?
    public let reasonName: String?
    public let note: String?
    public let checkedAt: Date
    /// The China-time day and the shift the check belongs to.
    public let day: String
    public let shiftCode: String?
    public let onDuty: [OnDuty]
    public let recordedAt: Date
    public let recordedBy: UUID
    public let recordedByName: String
    public let policyVersion: String

    public var stateName: String { self.state.rawValue }

    public var projection: Projection {
        Projection(unitPath: self.unitPath, policyVersion: self.policyVersion, serialNumber: nil, category: self.checkpointCode)
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let policy = start.policy
        guard let acting = actor.assignments.first(where: { policy.dutyRoles.contains($0.role) })
                ?? actor.assignments.first(where: { policy.recorderRoles.contains($0.role) })
        else {
            throw SignoffError(.forbiddenRole, "Only township and village officials record checkpoint checks.")
        }
        guard let checkpoint = policy.checkpoint(start.checkpoint) else {
            throw SignoffError.invalidValue("checkpoint", "Choose one of the township's checkpoints.")
        }
        let subject = try DomainFormat.required(start.subject, field: "subject", what: "The plate or person 车牌或人员", limit: 64)
        let note = try DomainFormat.optional(start.note, field: "note", what: "The note", limit: 500)
        let checkedAt = start.checkedAt ?? now
        guard checkedAt <= now.addingTimeInterval(Self.maximumClockSkew), checkedAt >= now.addingTimeInterval(-Self.maximumDelay) else {
            throw SignoffError.invalidValue("checked_at", "The time of the check must lie within the last 7 days.")
        }
        let state: State
        var reason: CheckpointPolicy.Reason?
        switch start.decision {
        case .release:
            guard let credential = start.credential else {
                throw SignoffError(.missingField, "A release 放行 needs the credential that was checked.", extra: ["field": "credential"])
            }
            // Letting through on a credential that is not valid is a leader's call, and must say why.
            if credential.verdict != "valid", note == nil {
                throw SignoffError(.reasonRequired, "The credential is not valid (\(credential.verdict)); say why it was let through.",
                                   extra: ["field": "note"])
            }
            state = .released
        case .turnBack(let code):
            guard let found = policy.reason(code) else {
                throw SignoffError.invalidValue("reason", "Choose one of the turn-back reasons 劝返原因 of the policy.")
            }
            reason = found
            state = .turnedBack
        }
        let slot = policy.shift(at: checkedAt)
        let check = CheckpointCheck(
            state: state, checkID: id, unitPath: start.townshipPath, checkpointCode: checkpoint.code, checkpointName: checkpoint.name,
            direction: start.direction, subject: subject, credential: start.credential, reasonCode: reason?.code,
            reasonName: reason?.name, note: note, checkedAt: checkedAt, day: slot?.day ?? CheckpointPolicy.day(checkedAt),
            shiftCode: slot?.shift.code, onDuty: start.onDuty, recordedAt: now, recordedBy: actor.userID,
            recordedByName: actor.displayName, policyVersion: policy.version)
        var payload: [String: JSONValue] = [
            "checkpoint": .string(checkpoint.code), "direction": .string(start.direction.rawValue), "subject": .string(subject),
            "checked_at": .string(DomainFormat.timestamp(checkedAt)), "day": .string(check.day),
            "on_duty": .array(start.onDuty.map { .string($0.name) }),
        ]
        if let credential = start.credential {
            payload["credential_number"] = .string(credential.number)
            payload["credential_verdict"] = .string(credential.verdict)
        }
        if let reason { payload["reason_code"] = .string(reason.code) }
        return (check, Effect(event: state == .released ? "release" : "turn_back", actingAs: acting,
                              reason: reason.map { [$0.name, note].compactMap { $0 }.joined(separator: "：") } ?? note,
                              payload: payload))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {}

    private init(
        state: State, checkID: UUID, unitPath: UnitPath, checkpointCode: String, checkpointName: String, direction: Direction,
        subject: String, credential: CheckedCredential?, reasonCode: String?, reasonName: String?, note: String?, checkedAt: Date,
        day: String, shiftCode: String?, onDuty: [OnDuty], recordedAt: Date, recordedBy: UUID, recordedByName: String,
        policyVersion: String
    ) {
        self.state = state
        self.checkID = checkID
        self.unitPath = unitPath
        self.checkpointCode = checkpointCode
        self.checkpointName = checkpointName
        self.direction = direction
        self.subject = subject
        self.credential = credential
        self.reasonCode = reasonCode
        self.reasonName = reasonName
        self.note = note
        self.checkedAt = checkedAt
        self.day = day
        self.shiftCode = shiftCode
        self.onDuty = onDuty
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
        self.recordedByName = recordedByName
        self.policyVersion = policyVersion
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case checkID = "check_id"
        case unitPath = "unit_path"
        case checkpointCode = "checkpoint_code"
        case checkpointName = "checkpoint_name"
        case direction
        case subject
        case credential
        case reasonCode = "reason_code"
        case reasonName = "reason_name"
        case note
        case checkedAt = "checked_at"
        case day
        case shiftCode = "shift_code"
        case onDuty = "on_duty"
        case recordedAt = "recorded_at"
        case recordedBy = "recorded_by"
        case recordedByName = "recorded_by_name"
        case policyVersion = "policy_version"
    }
}

// MARK: - DiagrammedMachine
extension CheckpointCheck: DiagrammedMachine {
    public static let title = "卡点核验 checkpoint check"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "release", .released, when: "credential checked; a note if not valid"),
        Transition(nil, "turn_back", .turnedBack, when: "reason from the policy"),
    ]

    public static let finalStates: [State] = [.released, .turnedBack]

    public static func describe(_ state: State) -> String {
        switch state {
        case .released: "放行 released"
        case .turnedBack: "劝返 turned back"
        }
    }
}
