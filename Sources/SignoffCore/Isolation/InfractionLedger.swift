import Foundation

/// The rules of the household infraction ledger 积分 (points against a household).
///
/// The store inserts the entries these functions build, recomputes the household's total in
/// the same transaction and hands the entry to every open `ReturneeIsolation` of the household.
public enum InfractionLedger {
    /// An infraction a grid worker records by hand.
    public struct Request: Sendable, Hashable {
        public var householdID: UUID
        public var personID: UUID?
        /// The household's grid; the recorder must cover it.
        public var gridPath: UnitPath
        public var kind: InfractionKind
        public var note: String?

        public init(householdID: UUID, personID: UUID?, gridPath: UnitPath, kind: InfractionKind, note: String?) {
            self.householdID = householdID
            self.personID = personID
            self.gridPath = gridPath
            self.kind = kind
            self.note = note
        }
    }

    /// The events of other workflows that score points, and the infraction each one is.
    public static let scoredEvents: [String: InfractionKind] = [
        ParkingPledge.violationEvent: .vehicleOnRoadBeforeClearance,
        KeyCustody.declinedEvent: .keyNotHandedIn,
    ]

    /// Builds the entry for an infraction a grid worker of the household's grid saw.
    ///
    /// The two vehicle infractions are refused here: their workflows publish them, and
    /// recording them by hand as well would score them twice.
    public static func record(
        _ request: Request, policy: IsolationPolicy, id: UUID, by actor: Principal, at now: Date
    ) throws(SignoffError) -> InfractionEntry {
        _ = try actor.assignment(as: .gridWorker, covering: request.gridPath)
        guard !request.kind.comesFromVehicleWorkflow else {
            throw SignoffError.invalidValue(
                "kind",
                "‘\(request.kind.rawValue)’ (\(request.kind.chineseName)) is scored by the vehicle workflow itself; record the violation or the key decline there.")
        }
        let note = try DomainFormat.optional(request.note, field: "note", what: "The note", limit: 1_000)
        return InfractionEntry(
            id: id, householdID: request.householdID, personID: request.personID, gridPath: request.gridPath,
            kind: request.kind, points: policy.points(for: request.kind), note: note, sourceKey: nil, recordedAt: now,
            recordedBy: actor.userID, recordedByName: actor.displayName, policyVersion: policy.version)
    }

    /// The entry a published vehicle event scores, or nil for an event that scores nothing.
    ///
    /// The event's key becomes the entry's `sourceKey`, so a redelivered event maps to the
    /// same key and the ledger's unique index keeps it to one entry. Recorded by the service.
    public static func entry(
        for event: DomainEvent, policy: IsolationPolicy, id: UUID, at now: Date
    ) throws(SignoffError) -> InfractionEntry? {
        guard let kind = Self.scoredEvents[event.name] else { return nil }
        let household = try Self.uuid(event, "household_id")
        let grid = try Self.text(event, "grid_path")
        let gridPath = try UnitPath(grid)
        let person = event.payload["person_id"] == nil || event.payload["person_id"] == .null
            ? nil : try Self.uuid(event, "person_id")
        var note: String?
        if kind == .vehicleOnRoadBeforeClearance {
            let plate = event.payload["plate"]?.stringValue
            let seen = event.payload["note"]?.stringValue
            note = [plate, seen].compactMap { $0 }.joined(separator: ": ").trimmedReason
        }
        return InfractionEntry(
            id: id, householdID: household, personID: person, gridPath: gridPath, kind: kind,
            points: policy.points(for: kind), note: note, sourceKey: event.key, recordedAt: now,
            recordedBy: Principal.systemUserID, recordedByName: Principal.system.displayName, policyVersion: policy.version)
    }

    /// A household's points: the sum of its entries. Autonomy credit is never part of it.
    public static func total(of entries: [InfractionEntry]) -> Int {
        entries.reduce(0) { $0 + $1.points }
    }

    private static func text(_ event: DomainEvent, _ key: String) throws(SignoffError) -> String {
        guard let text = event.payload[key]?.stringValue else {
            throw SignoffError.invalidValue(key, "The event \(event.key) carries no ‘\(key)’.")
        }
        return text
    }

    private static func uuid(_ event: DomainEvent, _ key: String) throws(SignoffError) -> UUID {
        guard let id = UUID(uuidString: try Self.text(event, key)) else {
            throw SignoffError.invalidValue(key, "The event \(event.key) carries no valid ‘\(key)’.")
        }
        return id
    }
}
