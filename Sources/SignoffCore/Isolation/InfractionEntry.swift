import Foundation

/// One line of a household's infraction ledger: what happened, how many points it scored
/// under the policy in force, and who recorded it.
public struct InfractionEntry: Sendable, Codable, Hashable, Identifiable {
    public var id: UUID
    public var householdID: UUID
    /// The person who did it, when known; points always count for the whole household.
    public var personID: UUID?
    /// The household's grid, for jurisdiction and subtree queries.
    public var gridPath: UnitPath
    public var kind: InfractionKind
    public var points: Int
    public var note: String?
    /// The published fact this entry came from, such as `vehicle.violation:<pledge>:<n>`;
    /// nil for entries recorded by hand. The same fact delivered twice has the same key,
    /// so a unique index on it makes consumption idempotent.
    public var sourceKey: String?
    public var recordedAt: Date
    public var recordedBy: UUID
    public var recordedByName: String
    /// The policy whose weight `points` is.
    public var policyVersion: String

    public init(
        id: UUID, householdID: UUID, personID: UUID?, gridPath: UnitPath, kind: InfractionKind, points: Int,
        note: String?, sourceKey: String?, recordedAt: Date, recordedBy: UUID, recordedByName: String,
        policyVersion: String
    ) {
        self.id = id
        self.householdID = householdID
        self.personID = personID
        self.gridPath = gridPath
        self.kind = kind
        self.points = points
        self.note = note
        self.sourceKey = sourceKey
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
        self.recordedByName = recordedByName
        self.policyVersion = policyVersion
    }

    /// The entry as audit payloads and explanations show it.
    public var json: JSONValue {
        [
            "id": .string(self.id.uuidString), "kind": .string(self.kind.rawValue), "label": .string(self.kind.chineseName),
            "points": .int(self.points), "note": self.note.map(JSONValue.string) ?? .null,
            "person_id": self.personID.map { .string($0.uuidString) } ?? .null,
            "source_key": self.sourceKey.map(JSONValue.string) ?? .null,
            "recorded_at": .string(DomainFormat.timestamp(self.recordedAt)), "recorded_by": .string(self.recordedByName),
        ]
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
        case sourceKey = "source_key"
        case recordedAt = "recorded_at"
        case recordedBy = "recorded_by"
        case recordedByName = "recorded_by_name"
        case policyVersion = "policy_version"
    }
}
