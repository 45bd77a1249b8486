import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// The daily visits 上下午走访: a grid worker's calls at each household of the grid, morning and
/// afternoon (China time), and what the township office reads of them.
///
/// A visit is one `household_visit` instance per household and half-day, written through the
/// one transition path. A change found on the doorstep opens its workflow in the same
/// transaction: a returnee with a known origin is registered (`IsolationStore.register`), a
/// fever of someone in isolation is that isolation's temperature reading. The reads use the
/// projection (`subject_ref` = household, `category` = half-day) and `instances_visit_slot`.
public struct VisitStore: Sendable {
    public let transitions: TransitionStore
    public let isolation: IsolationStore

    public init(transitions: TransitionStore, isolation: IsolationStore) {
        self.transitions = transitions
        self.isolation = isolation
    }

    var database: Database { self.transitions.database }
    var logger: Logger { self.transitions.database.logger }

    // MARK: Recording

    /// What the grid worker found at a household in a half-day.
    public struct Report: Sendable {
        public var householdID: UUID
        /// The half-day the worker's screen showed; nil means the one now.
        public var slot: VisitSlot?
        public var finding: HouseholdVisit.Finding

        public init(householdID: UUID, slot: VisitSlot?, finding: HouseholdVisit.Finding) {
            self.householdID = householdID
            self.slot = slot
            self.finding = finding
        }
    }

    /// Records a visit (or a second call at a household not at home), with the workflow a
    /// change opens. A retry with the same `Idempotency-Key` replays; a second visit of the same
    /// half-day with another key is refused (`invalid_transition`, or `duplicate` in a race).
    public func record(
        _ report: Report, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<HouseholdVisit>? = nil
    ) async throws -> TransitionOutcome<HouseholdVisit> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.record(report, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds.
    public func record(
        _ report: Report, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<HouseholdVisit>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<HouseholdVisit> {
        let policy = try self.isolation.policy()
        let rules = HouseholdVisit.Rules(validReadings: policy.validReadings, feverCelsius: policy.feverCelsius)
        if let replay = try await self.transitions.replay(metadata, actor: actor, on: connection) { return .replayed(replay) }
        let now = self.transitions.clock.now()
        let slot = report.slot ?? VisitSlot(containing: now)
        let gridPath = try await self.gridPath(ofHousehold: report.householdID, on: connection)
        // Before any follow-up is written; the machine checks it again.
        _ = try actor.assignment(as: .gridWorker, covering: gridPath)
        let existing = try await self.visitID(household: report.householdID, slot: slot, on: connection)
        if let existing {
            let stored = try await self.transitions.load(HouseholdVisit.self, id: existing, on: connection)
            guard stored.machine.state == .notAtHome else {
                throw SignoffError(.invalidTransition, "这一户\(slot.chineseName)已走访（\(stored.machine.state.chineseName)）。This household's visit of \(slot.label) is recorded already.",
                                   extra: ["current_state": .string(stored.machine.stateName), "visit_id": .string(existing.uuidString)])
            }
        }
        let finding = try await self.followUp(report, household: report.householdID, actor: actor, metadata: metadata, now: now,
                                              on: connection)
        if let existing {
            return try await self.transitions.apply(HouseholdVisit.self, id: existing, .callAgain(finding, rules: rules),
                                                    by: actor, metadata: metadata, render: render, on: connection)
        }
        let start = HouseholdVisit.Start(householdID: report.householdID, gridPath: gridPath, slot: slot, finding: finding, rules: rules)
        return try await self.transitions.start(HouseholdVisit.self, start, by: actor, metadata: metadata, render: render, on: connection)
    }

    /// Opens what a change needs, and returns the finding with its follow-up named.
    private func followUp(
        _ report: Report, household: UUID, actor: Principal, metadata: RequestMetadata, now: Date, on connection: PostgresConnection
    ) async throws -> HouseholdVisit.Finding {
        guard case .changed(var change) = report.finding else { return report.finding }
        // The follow-up is part of this request; only the visit keeps the request's response.
        let inner = RequestMetadata(requestID: metadata.requestID)
        switch change.kind {
        case .returned:
            guard let province = change.fromProvince?.trimmedReason else { break }
            let returnee: IsolationStore.Returnee
            if let person = change.personID {
                try await self.requireMember(person, of: household, on: connection)
                returnee = .person(person)
            } else if let name = change.personName?.trimmedReason {
                returnee = .newPerson(householdID: household, name: name, idNumber: nil, phone: nil)
            } else {
                break  // the machine refuses a return without a person
            }
            let outcome = try await self.isolation.register(
                .init(returnee: returnee, fromProvince: province, fromCity: change.fromCity, arrivedAt: now),
                by: actor, metadata: inner, on: connection)
            if case .applied(let registered, _) = outcome {
                change.followUp = .init(kind: ReturneeIsolation.kind, id: registered.stored.id)
                change.personID = registered.stored.machine.personID
            }
        case .fever:
            guard let person = change.personID, let celsius = change.celsius else { break }
            try await self.requireMember(person, of: household, on: connection)
            guard let isolation = try await self.openIsolation(of: person, on: connection) else { break }
            _ = try await self.transitions.apply(ReturneeIsolation.self, id: isolation, .recordTemperature(celsius: celsius, takenAt: nil),
                                                 by: actor, metadata: inner, on: connection)
            change.followUp = .init(kind: ReturneeIsolation.kind, id: isolation)
        case .departed:
            if let person = change.personID { try await self.requireMember(person, of: household, on: connection) }
        }
        if let person = change.personID, change.personName == nil {
            change.personName = try await self.personName(person, on: connection)
        }
        return .changed(change)
    }

    private func gridPath(ofHousehold id: UUID, on connection: PostgresConnection) async throws -> UnitPath {
        let rows = try await connection.query("""
            SELECT u.path::text FROM households h JOIN units u ON u.id = h.grid_id WHERE h.id = \(id)
            """, logger: self.logger)
        for try await path in rows.decode(String.self) { return try UnitPath(path) }
        throw SignoffError.notFound("This household")
    }

    private func visitID(household: UUID, slot: VisitSlot, on connection: PostgresConnection) async throws -> UUID? {
        let rows = try await connection.query("""
            SELECT id FROM instances WHERE kind = 'household_visit' AND category = \(slot.label) AND subject_ref = \(household)
            """, logger: self.logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    private func requireMember(_ person: UUID, of household: UUID, on connection: PostgresConnection) async throws {
        let rows = try await connection.query("SELECT household_id FROM persons WHERE id = \(person)", logger: self.logger)
        for try await found in rows.decode(UUID.self) where found == household { return }
        throw SignoffError.invalidValue("person_id", "该人员不是这一户的成员。The person is not a member of this household.")
    }

    private func personName(_ person: UUID, on connection: PostgresConnection) async throws -> String? {
        let rows = try await connection.query("SELECT name FROM persons WHERE id = \(person)", logger: self.logger)
        for try await name in rows.decode(String.self) { return name }
        return nil
    }

    /// The person's isolation in progress, by its exclusive key (one at a time per person).
    private func openIsolation(of person: UUID, on connection: PostgresConnection) async throws -> UUID? {
        let rows = try await connection.query("""
            SELECT id FROM instances WHERE kind = \(ReturneeIsolation.kind) AND exclusive_key = \(ExclusiveKey.person(person).text)
            """, logger: self.logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    // MARK: A grid worker's day

    /// A household with its visits of one day.
    public struct HouseholdDay: Sendable {
        public struct Visit: Sendable {
            public var id: UUID
            public var state: HouseholdVisit.State
        }

        public var householdID: UUID
        public var code: String
        public var headName: String
        public var poor: Bool
        public var gridName: String
        public var members: [(id: UUID, name: String)]
        public var morning: Visit?
        public var afternoon: Visit?

        public func visit(_ half: VisitSlot.Half) -> Visit? { half == .morning ? self.morning : self.afternoon }
    }

    /// The households of the grids under `paths`, each with its visits of `day`, in code order.
    public func day(_ day: ChinaDay, under paths: [UnitPath]) async throws -> [HouseholdDay] {
        guard !paths.isEmpty else { return [] }
        let slots = VisitSlot.both(of: day)
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT h.id, h.code, h.head_name, h.poor, g.name, p.id, p.name,
                       am.id, am.state_name, pm.id, pm.state_name
                  FROM households h
                  JOIN units g ON g.id = h.grid_id
                  LEFT JOIN persons p ON p.household_id = h.id
                  LEFT JOIN instances am ON am.kind = 'household_visit' AND am.category = \(slots[0].label) AND am.subject_ref = h.id
                  LEFT JOIN instances pm ON pm.kind = 'household_visit' AND pm.category = \(slots[1].label) AND pm.subject_ref = h.id
                 WHERE g.path <@ \(paths.map(\.description))::ltree[]
                 ORDER BY g.path, h.code, p.name, p.id
                """, logger: self.logger)
            var days: [HouseholdDay] = []
            for try await (id, code, head, poor, grid, person, name, amID, amState, pmID, pmState)
                in rows.decode((UUID, String, String, Bool, String, UUID?, String?, UUID?, String?, UUID?, String?).self) {
                if days.last?.householdID != id {
                    func visit(_ id: UUID?, _ state: String?) -> HouseholdDay.Visit? {
                        guard let id, let state = state.flatMap(HouseholdVisit.State.init(rawValue:)) else { return nil }
                        return .init(id: id, state: state)
                    }
                    days.append(HouseholdDay(householdID: id, code: code, headName: head, poor: poor, gridName: grid, members: [],
                                             morning: visit(amID, amState), afternoon: visit(pmID, pmState)))
                }
                if let person, let name { days[days.count - 1].members.append((person, name)) }
            }
            return days
        }
    }

    // MARK: The township office's view

    /// One grid's coverage of a day: households visited in the morning and in the afternoon.
    public struct GridCoverage: Sendable, Equatable {
        public var gridID: UUID
        public var gridName: String
        public var groupName: String
        public var villageName: String
        public var households: Int
        public var morning: Int
        public var afternoon: Int
        /// Calls that found nobody home (both halves).
        public var notAtHome: Int
        /// Visits that reported a change (both halves).
        public var changes: Int
    }

    /// Every grid under `scope`, in tree order, with its coverage of `day`.
    public func coverage(of day: ChinaDay, under scope: UnitPath) async throws -> [GridCoverage] {
        let slots = VisitSlot.both(of: day)
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT g.id, g.name, grp.name, vil.name, count(h.id)::int, count(am.id)::int, count(pm.id)::int,
                       (count(*) FILTER (WHERE am.state_name = 'not_at_home') + count(*) FILTER (WHERE pm.state_name = 'not_at_home'))::int,
                       (count(*) FILTER (WHERE am.state_name = 'changed') + count(*) FILTER (WHERE pm.state_name = 'changed'))::int
                  FROM units g
                  JOIN units grp ON grp.id = g.parent_id
                  JOIN units vil ON vil.id = grp.parent_id
                  LEFT JOIN households h ON h.grid_id = g.id
                  LEFT JOIN instances am ON am.kind = 'household_visit' AND am.category = \(slots[0].label) AND am.subject_ref = h.id
                  LEFT JOIN instances pm ON pm.kind = 'household_visit' AND pm.category = \(slots[1].label) AND pm.subject_ref = h.id
                 WHERE g.kind = 'grid' AND g.path <@ \(scope.description)::ltree
                 GROUP BY g.id, g.name, g.path, grp.name, vil.name
                 ORDER BY g.path
                """, logger: self.logger)
            var grids: [GridCoverage] = []
            for try await row in rows.decode((UUID, String, String, String, Int, Int, Int, Int, Int).self) {
                grids.append(GridCoverage(gridID: row.0, gridName: row.1, groupName: row.2, villageName: row.3, households: row.4,
                                          morning: row.5, afternoon: row.6, notAtHome: row.7, changes: row.8))
            }
            return grids
        }
    }

    /// A household not visited in a half-day of the day that has begun.
    public struct Unvisited: Sendable, Equatable {
        public var householdID: UUID
        public var code: String
        public var headName: String
        public var gridName: String
        public var groupName: String
        public var villageName: String
        public var missingMorning: Bool
        public var missingAfternoon: Bool
    }

    /// The households under `scope` that miss a visit of `day` as of `now`: before noon the
    /// morning's; from noon either half's (a day past misses what it missed). Tree order.
    public func unvisited(on day: ChinaDay, under scope: UnitPath, asOf now: Date, limit: Int = 500) async throws -> (total: Int, households: [Unvisited]) {
        let slots = VisitSlot.both(of: day)
        let afternoonBegun = now >= slots[1].start
        guard now >= slots[0].start else { return (0, []) }
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT h.id, h.code, h.head_name, g.name, grp.name, vil.name, am.id IS NULL, pm.id IS NULL, count(*) OVER ()::int
                  FROM households h
                  JOIN units g ON g.id = h.grid_id
                  JOIN units grp ON grp.id = g.parent_id
                  JOIN units vil ON vil.id = grp.parent_id
                  LEFT JOIN instances am ON am.kind = 'household_visit' AND am.category = \(slots[0].label) AND am.subject_ref = h.id
                  LEFT JOIN instances pm ON pm.kind = 'household_visit' AND pm.category = \(slots[1].label) AND pm.subject_ref = h.id
                 WHERE g.path <@ \(scope.description)::ltree AND (am.id IS NULL OR (\(afternoonBegun) AND pm.id IS NULL))
                 ORDER BY g.path, h.code
                 LIMIT \(max(1, limit))
                """, logger: self.logger)
            var total = 0
            var found: [Unvisited] = []
            for try await row in rows.decode((UUID, String, String, String, String, String, Bool, Bool, Int).self) {
                found.append(Unvisited(householdID: row.0, code: row.1, headName: row.2, gridName: row.3, groupName: row.4,
                                       villageName: row.5, missingMorning: row.6, missingAfternoon: afternoonBegun && row.7))
                total = row.8
            }
            return (total, found)
        }
    }

    /// The latest day with any visit recorded (the demo's visits are of February 2020).
    public func latestDay() async throws -> ChinaDay? {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT max(category) FROM instances WHERE kind = 'household_visit'
                """, logger: self.logger)
            for try await label in rows.decode(String?.self) { return label.flatMap(VisitSlot.init(label:))?.day }
            return nil
        }
    }
}
