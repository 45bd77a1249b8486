import Foundation

/// One line of a household's autonomy-credit ledger 自治积分: points earned, for example
/// for taking part in prevention work.
///
/// A separate type from `InfractionEntry` on purpose: credit never offsets infraction
/// points, and no function takes both.
public struct AutonomyCredit: Sendable, Codable, Hashable, Identifiable {
    public var id: UUID
    public var householdID: UUID
    public var personID: UUID?
    public var gridPath: UnitPath
    public var kind: AutonomyCreditKind
    public var points: Int
    /// What the household did, such as "参与卡口值守".
    public var note: String
    public var recordedAt: Date
    public var recordedBy: UUID
    public var recordedByName: String
    public var policyVersion: String

    public init(
        id: UUID, householdID: UUID, personID: UUID?, gridPath: UnitPath, kind: AutonomyCreditKind, points: Int,
        note: String, recordedAt: Date, recordedBy: UUID, recordedByName: String, policyVersion: String
    ) {
        self.id = id
        self.householdID = householdID
        self.personID = personID
        self.gridPath = gridPath
        self.kind = kind
        self.points = points
        self.note = note
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
        self.recordedByName = recordedByName
        self.policyVersion = policyVersion
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case householdID = "household_id"
        case personID = "person_id"
        case gridPath = "grid_path"
        case kind
        case points
        case note
        case recordedAt = "recorded_at"
        case recordedBy = "recorded_by"
        case recordedByName = "recorded_by_name"
        case policyVersion = "policy_version"
    }
}

/// The rules of the autonomy-credit ledger.
public enum AutonomyCreditLedger {
    public struct Request: Sendable, Hashable {
        public var householdID: UUID
        public var personID: UUID?
        public var gridPath: UnitPath
        public var kind: AutonomyCreditKind
        /// Required: credit is given for something someone did.
        public var note: String

        public init(householdID: UUID, personID: UUID?, gridPath: UnitPath, kind: AutonomyCreditKind, note: String) {
            self.householdID = householdID
            self.personID = personID
            self.gridPath = gridPath
            self.kind = kind
            self.note = note
        }
    }

    /// Builds the credit a grid worker of the household's grid grants, with the policy's points.
    public static func record(
        _ request: Request, policy: IsolationPolicy, id: UUID, by actor: Principal, at now: Date
    ) throws(SignoffError) -> AutonomyCredit {
        _ = try actor.assignment(as: .gridWorker, covering: request.gridPath)
        let note = try DomainFormat.required(request.note, field: "note", what: "What the household did", limit: 1_000)
        return AutonomyCredit(
            id: id, householdID: request.householdID, personID: request.personID, gridPath: request.gridPath,
            kind: request.kind, points: policy.points(for: request.kind), note: note, recordedAt: now,
            recordedBy: actor.userID, recordedByName: actor.displayName, policyVersion: policy.version)
    }

    public static func total(of credits: [AutonomyCredit]) -> Int {
        credits.reduce(0) { $0 + $1.points }
    }
}
