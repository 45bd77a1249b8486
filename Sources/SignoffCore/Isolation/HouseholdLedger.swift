import Foundation

/// A household's two ledgers as one audited record: infraction points 积分 against the
/// household and autonomy credit 自治积分 it earned, kept apart (credit never offsets points).
///
/// One instance per household, with the household's id. Each entry is a transition, so it
/// is audited like any other; the entry's row in `infraction_entries` or `autonomy_credits`
/// is written by the store's reaction to the emitted event, in the same transaction. The
/// machine keeps the totals, not the entries.
public struct HouseholdLedger: AuditedMachine {
    public enum State: String, Sendable, Codable, Equatable, CaseIterable {
        case open
    }

    /// What opening a household's ledger needs: the totals of the entries stored before it
    /// had one (the store adds them up).
    public struct Start: Sendable, Equatable {
        public var householdID: UUID
        public var gridPath: UnitPath
        public var infractionTotal: Int
        public var entryCount: Int
        public var creditTotal: Int
        public var creditCount: Int

        public init(householdID: UUID, gridPath: UnitPath, infractionTotal: Int = 0, entryCount: Int = 0,
                    creditTotal: Int = 0, creditCount: Int = 0) {
            self.householdID = householdID
            self.gridPath = gridPath
            self.infractionTotal = infractionTotal
            self.entryCount = entryCount
            self.creditTotal = creditTotal
            self.creditCount = creditCount
        }
    }

    public enum Command: Sendable, Equatable {
        /// An entry built by `InfractionLedger.record` (by hand) or `.entry(for:)` (a vehicle event).
        case recordInfraction(InfractionEntry)
        /// A credit built by `AutonomyCreditLedger.record`.
        case recordCredit(AutonomyCredit)
    }

    public static let kind = "household_ledger"

    /// Emitted with the entry; the store inserts its `infraction_entries` row.
    public static let infractionRecordedEvent = "household_ledger.infraction_recorded"
    /// Emitted with the credit; the store inserts its `autonomy_credits` row.
    public static let creditRecordedEvent = "household_ledger.credit_recorded"

    public private(set) var state: State
    public let householdID: UUID
    public let gridPath: UnitPath
    /// The household's points: the sum of its infraction entries.
    public private(set) var infractionTotal: Int
    public private(set) var entryCount: Int
    /// The household's autonomy credit: the sum of its credits.
    public private(set) var creditTotal: Int
    public private(set) var creditCount: Int

    public var stateName: String { self.state.rawValue }

    public var projection: Projection {
        Projection(unitPath: self.gridPath, subjectRef: self.householdID)
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        guard id == start.householdID else {
            throw SignoffError.invalidValue("household_id", "A household's ledger has the household's id.")
        }
        guard start.infractionTotal >= 0, start.entryCount >= 0, start.creditTotal >= 0, start.creditCount >= 0 else {
            throw SignoffError.invalidValue("household_id", "A ledger's totals cannot be negative.")
        }
        let machine = HouseholdLedger(
            state: .open, householdID: start.householdID, gridPath: start.gridPath, infractionTotal: start.infractionTotal,
            entryCount: start.entryCount, creditTotal: start.creditTotal, creditCount: start.creditCount)
        // Opened by the service when the household's first entry after this change arrives.
        return (machine, Effect(event: "open", actingAs: nil, payload: machine.totals))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .recordInfraction(let entry): try self.record(entry, by: actor)
        case .recordCredit(let credit): try self.record(credit, by: actor)
        }
    }

    /// Adds an entry's points. Recorded by a grid worker of the household's grid, or by the
    /// service for a vehicle event (the entry then has the event's key as its source).
    public mutating func record(_ entry: InfractionEntry, by actor: Principal) throws(SignoffError) -> Effect {
        let acting = try self.recorder(actor, householdID: entry.householdID, gridPath: entry.gridPath,
                                       fromEvent: entry.sourceKey != nil)
        guard entry.points >= 0 else { throw SignoffError.invalidValue("points", "An entry cannot take points away.") }
        switch self.state {
        case .open:
            self.infractionTotal += entry.points
            self.entryCount += 1
        }
        var payload = self.totals
        payload["entry"] = entry.json
        return Effect(event: "record_infraction", actingAs: acting, payload: payload,
                      emitted: [DomainEvent(name: Self.infractionRecordedEvent, key: "\(Self.infractionRecordedEvent):\(entry.id.uuidString)",
                                            payload: ["entry": Self.stored(entry)])])
    }

    /// Adds a credit. Only a grid worker of the household's grid records credit.
    public mutating func record(_ credit: AutonomyCredit, by actor: Principal) throws(SignoffError) -> Effect {
        let acting = try self.recorder(actor, householdID: credit.householdID, gridPath: credit.gridPath, fromEvent: false)
        guard credit.points >= 0 else { throw SignoffError.invalidValue("points", "A credit cannot take points away.") }
        switch self.state {
        case .open:
            self.creditTotal += credit.points
            self.creditCount += 1
        }
        var payload = self.totals
        payload["credit"] = Self.stored(credit)
        return Effect(event: "record_credit", actingAs: acting, payload: payload,
                      emitted: [DomainEvent(name: Self.creditRecordedEvent, key: "\(Self.creditRecordedEvent):\(credit.id.uuidString)",
                                            payload: ["credit": Self.stored(credit)])])
    }

    /// The entry or credit an emitted event carries, as the store's reaction reads it back.
    public static func entry(in event: DomainEvent) throws -> InfractionEntry? {
        guard event.name == Self.infractionRecordedEvent, let value = event.payload["entry"] else { return nil }
        return try StoredForm.decoder().decode(InfractionEntry.self, from: StoredForm.encoder().encode(value))
    }

    public static func credit(in event: DomainEvent) throws -> AutonomyCredit? {
        guard event.name == Self.creditRecordedEvent, let value = event.payload["credit"] else { return nil }
        return try StoredForm.decoder().decode(AutonomyCredit.self, from: StoredForm.encoder().encode(value))
    }

    private func recorder(_ actor: Principal, householdID: UUID, gridPath: UnitPath, fromEvent: Bool) throws(SignoffError) -> RoleAssignment? {
        guard householdID == self.householdID else {
            throw SignoffError.invalidValue("household_id", "The entry belongs to another household.")
        }
        guard gridPath == self.gridPath else {
            throw SignoffError.invalidValue("grid_path", "The entry names grid \(gridPath), but the household is in \(self.gridPath).")
        }
        if actor.isSystem {
            guard fromEvent else { throw SignoffError(.forbiddenRole, "Only a grid worker 网格员 records this by hand.") }
            return nil
        }
        return try actor.assignment(as: .gridWorker, covering: self.gridPath)
    }

    private var totals: [String: JSONValue] {
        ["infraction_total": .int(self.infractionTotal), "entries": .int(self.entryCount),
         "credit_total": .int(self.creditTotal), "credits": .int(self.creditCount)]
    }

    /// A value in its stored form, as a JSON value.
    private static func stored<T: Encodable>(_ value: T) -> JSONValue {
        // Entries and credits are plain values of strings, numbers and times: encoding cannot fail.
        guard let data = try? StoredForm.encoder().encode(value),
              let json = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { fatalError("unreachable: an entry or credit always encodes") }
        return json
    }

    private init(state: State, householdID: UUID, gridPath: UnitPath, infractionTotal: Int, entryCount: Int,
                 creditTotal: Int, creditCount: Int) {
        self.state = state
        self.householdID = householdID
        self.gridPath = gridPath
        self.infractionTotal = infractionTotal
        self.entryCount = entryCount
        self.creditTotal = creditTotal
        self.creditCount = creditCount
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case householdID = "household_id"
        case gridPath = "grid_path"
        case infractionTotal = "infraction_total"
        case entryCount = "entry_count"
        case creditTotal = "credit_total"
        case creditCount = "credit_count"
    }
}
