import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// The result of a write that is not one transition (a ledger entry), or the response kept
/// under the same `Idempotency-Key`.
public enum WriteOutcome<Value: Sendable>: Sendable {
    case applied(Value, response: StoredResponse?)
    case replayed(StoredResponse)
}

/// An infraction entry as stored, with what it changed.
public struct InfractionRecorded: Sendable {
    public var entry: InfractionEntry
    /// The household's points after the entry.
    public var householdTotal: Int
    /// Every open isolation of the household, after `record_infraction`.
    public var returnees: [Transitioned<ReturneeIsolation>]
}

/// An autonomy credit as stored, with the household's credit total after it.
public struct CreditRecorded: Sendable {
    public var credit: AutonomyCredit
    public var householdCredit: Int
}

/// A household's two ledgers, kept apart.
public struct HouseholdLedgers: Sendable {
    public var householdID: UUID
    public var gridPath: UnitPath
    public var infractions: [InfractionEntry]
    public var credits: [AutonomyCredit]
}

/// Something an administrator must look at now.
public struct UrgentIsolationItem: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// A fever report waiting for the health centre 发热待处置.
        case fever
        /// The daily reading is late 体温监测逾期.
        case overdueReading = "overdue_reading"
    }

    public var kind: Kind
    public var returneeID: UUID
    public var personID: UUID
    public var personName: String
    public var householdID: UUID
    public var gridPath: UnitPath
    public var state: String
    /// When the fever was first read, or when the reading was due.
    public var since: Date
}

/// Returnee isolation: registration, the two household ledgers and the urgent list.
///
/// Every change goes through `TransitionStore`: an entry or a credit is a transition of the
/// household's `HouseholdLedger` (whose reaction inserts the ledger row), in the same
/// transaction as the `record_infraction` of each open isolation of the household. Writes lock the household row, so a registration and an entry of the same
/// household never miss each other.
public struct IsolationStore: Sendable {
    public let transitions: TransitionStore
    private let policies: PolicyCatalog
    /// Set to pin one policy, as tests do; otherwise the catalog's policy in force is used.
    private let pinned: IsolationPolicy?

    public init(transitions: TransitionStore, policies: PolicyCatalog) {
        self.transitions = transitions
        self.policies = policies
        self.pinned = nil
    }

    public init(transitions: TransitionStore, policy: IsolationPolicy) {
        self.transitions = transitions
        self.policies = PolicyCatalog()
        self.pinned = policy
    }

    /// The policy new registrations and new entries use.
    public func policy() throws(SignoffError) -> IsolationPolicy {
        if let pinned { return pinned }
        do {
            return try self.policies.isolationPolicy()
        } catch let error as SignoffError {
            throw error
        } catch {
            throw SignoffError(.policyInvalid, "The isolation policy could not be loaded.")
        }
    }

    var database: Database { self.transitions.database }
    var logger: Logger { self.transitions.database.logger }

    // MARK: Registration

    /// The person who returned: one already on record, or a new member of a household.
    public enum Returnee: Sendable {
        case person(UUID)
        case newPerson(householdID: UUID, name: String, idNumber: String?, phone: String?)
    }

    public struct Registration: Sendable {
        public var returnee: Returnee
        public var fromProvince: String
        public var fromCity: String?
        public var arrivedAt: Date

        public init(returnee: Returnee, fromProvince: String, fromCity: String?, arrivedAt: Date) {
            self.returnee = returnee
            self.fromProvince = fromProvince
            self.fromCity = fromCity
            self.arrivedAt = arrivedAt
        }
    }

    /// Registers a return: the key-area list or the household's points decide the placement.
    public func register(
        _ registration: Registration,
        id: UUID = UUID(),
        by actor: Principal,
        metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<ReturneeIsolation>? = nil
    ) async throws -> TransitionOutcome<ReturneeIsolation> {
        try await self.database.transaction { connection in
            try await self.register(registration, id: id, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds (a visit that found a returnee registers
    /// them with the visit).
    public func register(
        _ registration: Registration,
        id: UUID = UUID(),
        by actor: Principal,
        metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<ReturneeIsolation>? = nil,
        on connection: PostgresConnection
    ) async throws -> TransitionOutcome<ReturneeIsolation> {
        let policy = try self.policy()
        // Before creating anyone: a retried request must not add a second person.
        if let replay = try await self.transitions.replay(metadata, actor: actor, on: connection) {
            return .replayed(replay)
        }
        let householdID: UUID
        switch registration.returnee {
        case .person(let id): householdID = try await self.household(ofPerson: id, on: connection)
        case .newPerson(let household, _, _, _): householdID = household
        }
        let gridPath = try await self.lockHousehold(householdID, on: connection)
        // Checked before a new person is written; the machine checks it again.
        _ = try actor.assignment(as: .gridWorker, covering: gridPath)
        let personID: UUID
        switch registration.returnee {
        case .person(let id): personID = id
        case .newPerson(let household, let name, let idNumber, let phone):
            personID = try await OrganisationStore(database: self.database)
                .createPerson(householdID: household, name: name, idNumber: idNumber, phone: phone, on: connection).id
        }
        try await self.refuseSecondIsolation(of: personID, on: connection)
        let entries = try await self.infractions(ofHousehold: householdID, on: connection)
        let start = ReturneeIsolation.Start(
            personID: personID, householdID: householdID, gridPath: gridPath,
            fromProvince: registration.fromProvince, fromCity: registration.fromCity,
            arrivedAt: registration.arrivedAt, householdInfractions: entries, policy: policy)
        let outcome = try await self.transitions.start(
            ReturneeIsolation.self, id: id, start, by: actor, metadata: metadata, render: render, on: connection)
        if case .applied(let transitioned, _) = outcome {
            try await connection.query("""
                INSERT INTO returnees (id, person_id, household_id, registered_at)
                VALUES (\(id), \(personID), \(householdID), \(transitioned.stored.machine.registeredAt))
                """, logger: self.logger)
        }
        return outcome
    }

    // MARK: Infraction ledger

    public struct InfractionInput: Sendable {
        public var householdID: UUID
        public var personID: UUID?
        public var kind: InfractionKind
        public var note: String?

        public init(householdID: UUID, personID: UUID?, kind: InfractionKind, note: String?) {
            self.householdID = householdID
            self.personID = personID
            self.kind = kind
            self.note = note
        }
    }

    /// A grid worker records an infraction they saw, against the household or one of its members.
    public func recordInfraction(
        _ input: InfractionInput,
        by actor: Principal,
        metadata: RequestMetadata = .init(),
        render: (@Sendable (InfractionRecorded) throws -> StoredResponse)? = nil
    ) async throws -> WriteOutcome<InfractionRecorded> {
        let policy = try self.policy()
        return try await self.householdWrite(input.householdID, member: input.personID, by: actor, metadata: metadata, render: render) {
            gridPath, now, connection in
            let entry = try InfractionLedger.record(
                .init(householdID: input.householdID, personID: input.personID, gridPath: gridPath, kind: input.kind,
                      note: input.note),
                policy: policy, id: UUID(), by: actor, at: now)
            guard let recorded = try await self.append(entry, by: actor, metadata: metadata, on: connection) else {
                // Unreachable: a hand-recorded entry has no source key, so it is always new.
                throw SignoffError(.internalError, "The infraction entry was not stored.")
            }
            return recorded
        }
    }

    /// One ledger write of a household, in one transaction: replay a repeated Idempotency-Key,
    /// lock the household (so a registration and an entry never miss each other), check the
    /// member, run `body`, and keep the response with the key.
    private func householdWrite<Value: Sendable>(
        _ householdID: UUID,
        member personID: UUID?,
        by actor: Principal,
        metadata: RequestMetadata,
        render: (@Sendable (Value) throws -> StoredResponse)?,
        _ body: @escaping @Sendable (UnitPath, Date, PostgresConnection) async throws -> Value
    ) async throws -> WriteOutcome<Value> {
        try await self.database.transaction { connection in
            if let replay = try await self.transitions.replay(metadata, actor: actor, on: connection) {
                return .replayed(replay)
            }
            let gridPath = try await self.lockHousehold(householdID, on: connection)
            if let personID {
                try await self.requireMember(personID, of: householdID, on: connection)
            }
            let now = self.transitions.clock.now()
            let value = try await body(gridPath, now, connection)
            let response = try render?(value)
            if let response {
                try await self.transitions.remember(response, metadata: metadata, actor: actor, now: now, on: connection)
            }
            return .applied(value, response: response)
        }
    }

    /// Inserts an entry and hands it to every open isolation of its household, in the caller's
    /// transaction, which must hold the household's lock. Nil when an entry with the same
    /// source key is stored already: the fact was counted once and nothing changes.
    func append(
        _ entry: InfractionEntry, by actor: Principal, metadata: RequestMetadata = .init(), on connection: PostgresConnection
    ) async throws -> InfractionRecorded? {
        if let source = entry.sourceKey {
            let rows = try await connection.query("SELECT id FROM infraction_entries WHERE source_key = \(source)", logger: self.logger)
            for try await _ in rows.decode(UUID.self) { return nil }
        }
        // Metadata without the idempotency key: the caller keeps one response for the whole write.
        let inner = RequestMetadata(requestID: metadata.requestID)
        // The ledger's transition; its reaction inserts the `infraction_entries` row.
        try await self.openLedger(entry.householdID, gridPath: entry.gridPath, by: actor, on: connection)
        _ = try await self.transitions.apply(HouseholdLedger.self, id: entry.householdID, .recordInfraction(entry), by: actor,
                                             metadata: inner, on: connection)
        var returnees: [Transitioned<ReturneeIsolation>] = []
        for id in try await self.openReturnees(ofHousehold: entry.householdID, on: connection) {
            let outcome = try await self.transitions.apply(
                ReturneeIsolation.self, id: id, .recordInfraction(entry), by: actor, metadata: inner, on: connection)
            if case .applied(let transitioned, _) = outcome { returnees.append(transitioned) }
        }
        let total = InfractionLedger.total(of: try await self.infractions(ofHousehold: entry.householdID, on: connection))
        return InfractionRecorded(entry: entry, householdTotal: total, returnees: returnees)
    }

    // MARK: Autonomy credit

    public struct CreditInput: Sendable {
        public var householdID: UUID
        public var personID: UUID?
        public var kind: AutonomyCreditKind
        public var note: String

        public init(householdID: UUID, personID: UUID?, kind: AutonomyCreditKind, note: String) {
            self.householdID = householdID
            self.personID = personID
            self.kind = kind
            self.note = note
        }
    }

    /// A grid worker records autonomy credit the household earned. It never touches infraction points.
    public func recordCredit(
        _ input: CreditInput,
        by actor: Principal,
        metadata: RequestMetadata = .init(),
        render: (@Sendable (CreditRecorded) throws -> StoredResponse)? = nil
    ) async throws -> WriteOutcome<CreditRecorded> {
        let policy = try self.policy()
        return try await self.householdWrite(input.householdID, member: input.personID, by: actor, metadata: metadata, render: render) {
            gridPath, now, connection in
            let credit = try AutonomyCreditLedger.record(
                .init(householdID: input.householdID, personID: input.personID, gridPath: gridPath, kind: input.kind,
                      note: input.note),
                policy: policy, id: UUID(), by: actor, at: now)
            // The ledger's transition; its reaction inserts the `autonomy_credits` row.
            try await self.openLedger(input.householdID, gridPath: gridPath, by: actor, on: connection)
            _ = try await self.transitions.apply(HouseholdLedger.self, id: input.householdID, .recordCredit(credit), by: actor,
                                                 metadata: RequestMetadata(requestID: metadata.requestID), on: connection)
            let total = AutonomyCreditLedger.total(of: try await self.credits(ofHousehold: input.householdID, on: connection))
            return CreditRecorded(credit: credit, householdCredit: total)
        }
    }

    /// Opens the household's ledger record the first time an entry comes after it existed
    /// without one, with the totals of the entries stored before. Caller holds the household lock.
    private func openLedger(_ householdID: UUID, gridPath: UnitPath, by actor: Principal, on connection: PostgresConnection) async throws {
        do {
            _ = try await self.transitions.load(HouseholdLedger.self, id: householdID, on: connection)
            return
        } catch let error as SignoffError where error.code == .notFound {}
        let entries = try await self.infractions(ofHousehold: householdID, on: connection)
        let credits = try await self.credits(ofHousehold: householdID, on: connection)
        _ = try await self.transitions.start(
            HouseholdLedger.self, id: householdID,
            .init(householdID: householdID, gridPath: gridPath, infractionTotal: InfractionLedger.total(of: entries),
                  entryCount: entries.count, creditTotal: AutonomyCreditLedger.total(of: credits), creditCount: credits.count),
            by: actor, on: connection)
    }

    // MARK: Reading

    public func ledgers(ofHousehold householdID: UUID) async throws -> HouseholdLedgers {
        try await self.database.withConnection { connection in
            let gridPath = try await self.gridPath(ofHousehold: householdID, on: connection)
            return HouseholdLedgers(
                householdID: householdID, gridPath: gridPath,
                infractions: try await self.infractions(ofHousehold: householdID, on: connection),
                credits: try await self.credits(ofHousehold: householdID, on: connection))
        }
    }

    /// Fevers waiting for the health centre, oldest first, then missed daily readings, most
    /// overdue first, inside any of `scopes`.
    public func urgent(under scopes: [UnitPath]) async throws -> [UrgentIsolationItem] {
        let now = self.transitions.clock.now()
        let paths = scopes.map(\.description)
        let kind = ReturneeIsolation.kind
        return try await self.database.withConnection { connection in
            var items: [UrgentIsolationItem] = []
            let fevers = try await connection.query("""
                SELECT i.id, r.person_id, p.name, r.household_id, i.unit_path::text, i.state_name, i.pending_since
                  FROM instances i JOIN returnees r ON r.id = i.id JOIN persons p ON p.id = r.person_id
                 WHERE i.kind = \(kind) AND i.pending_role = \(Role.healthOfficer.rawValue)
                   AND i.unit_path <@ \(paths)::ltree[]
                 ORDER BY i.pending_since, i.id
                """, logger: self.logger)
            for try await (id, person, name, household, path, state, since)
                in fevers.decode((UUID, UUID, String, UUID, String, String, Date).self)
            {
                items.append(.init(kind: .fever, returneeID: id, personID: person, personName: name, householdID: household,
                                   gridPath: try UnitPath(path), state: state, since: since))
            }
            let overdue = try await connection.query("""
                SELECT i.id, r.person_id, p.name, r.household_id, i.unit_path::text, i.state_name, i.due_at
                  FROM instances i JOIN returnees r ON r.id = i.id JOIN persons p ON p.id = r.person_id
                 WHERE i.kind = \(kind) AND i.due_at IS NOT NULL AND i.due_at < \(now)
                   AND i.unit_path <@ \(paths)::ltree[]
                 ORDER BY i.due_at, i.id
                """, logger: self.logger)
            for try await (id, person, name, household, path, state, due)
                in overdue.decode((UUID, UUID, String, UUID, String, String, Date).self)
            {
                items.append(.init(kind: .overdueReading, returneeID: id, personID: person, personName: name,
                                   householdID: household, gridPath: try UnitPath(path), state: state, since: due))
            }
            return items
        }
    }

    // MARK: Steps

    /// Locks the household for the rest of the transaction and returns its grid's path.
    func lockHousehold(_ householdID: UUID, on connection: PostgresConnection) async throws -> UnitPath {
        try await OrganisationStore(database: self.database).gridPath(ofHousehold: householdID, locking: true, on: connection)
    }

    func gridPath(ofHousehold householdID: UUID, on connection: PostgresConnection) async throws -> UnitPath {
        try await OrganisationStore(database: self.database).gridPath(ofHousehold: householdID, on: connection)
    }

    private func household(ofPerson personID: UUID, on connection: PostgresConnection) async throws -> UUID {
        let rows = try await connection.query("SELECT household_id FROM persons WHERE id = \(personID)", logger: self.logger)
        for try await household in rows.decode(UUID.self) { return household }
        throw SignoffError.notFound("Person \(personID)")
    }

    private func requireMember(_ personID: UUID, of householdID: UUID, on connection: PostgresConnection) async throws {
        guard try await self.household(ofPerson: personID, on: connection) == householdID else {
            throw SignoffError.invalidValue("person_id", "This person is not a member of the household 该人员不属于此户.")
        }
    }

    private func refuseSecondIsolation(of personID: UUID, on connection: PostgresConnection) async throws {
        let rows = try await connection.query("""
            SELECT id FROM instances WHERE kind = \(ReturneeIsolation.kind) AND exclusive_key = \(ExclusiveKey.person(personID).text)
            """, logger: self.logger)
        for try await existing in rows.decode(UUID.self) {
            throw SignoffError(.duplicate, "此人已在隔离中。This person is already in isolation; see the open record.",
                               extra: ["returnee_id": .string(existing.uuidString)])
        }
    }

    private func openReturnees(ofHousehold householdID: UUID, on connection: PostgresConnection) async throws -> [UUID] {
        let rows = try await connection.query("""
            SELECT r.id FROM returnees r JOIN instances i ON i.id = r.id
             WHERE r.household_id = \(householdID) AND i.state_name <> \(ReturneeIsolation.State.released.rawValue)
             ORDER BY r.registered_at, r.id
            """, logger: self.logger)
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }

    func infractions(ofHousehold householdID: UUID, on connection: PostgresConnection) async throws -> [InfractionEntry] {
        let rows = try await connection.query("""
            SELECT id, household_id, person_id, grid_path::text, kind, points, note, source_key, recorded_at, recorded_by,
                   recorded_by_name, policy_version
              FROM infraction_entries WHERE household_id = \(householdID) ORDER BY recorded_at, id
            """, logger: self.logger)
        var entries: [InfractionEntry] = []
        for try await (id, household, person, path, kind, points, note, source, at, by, byName, version)
            in rows.decode((UUID, UUID, UUID?, String, String, Int, String?, String?, Date, UUID, String, String).self)
        {
            guard let kind = InfractionKind(rawValue: kind) else {
                throw SignoffError(.internalError, "Unknown infraction kind ‘\(kind)’ in the ledger.")
            }
            entries.append(InfractionEntry(
                id: id, householdID: household, personID: person, gridPath: try UnitPath(path), kind: kind, points: points,
                note: note, sourceKey: source, recordedAt: at, recordedBy: by, recordedByName: byName, policyVersion: version))
        }
        return entries
    }

    func credits(ofHousehold householdID: UUID, on connection: PostgresConnection) async throws -> [AutonomyCredit] {
        let rows = try await connection.query("""
            SELECT id, household_id, person_id, grid_path::text, kind, points, note, recorded_at, recorded_by,
                   recorded_by_name, policy_version
              FROM autonomy_credits WHERE household_id = \(householdID) ORDER BY recorded_at, id
            """, logger: self.logger)
        var credits: [AutonomyCredit] = []
        for try await (id, household, person, path, kind, points, note, at, by, byName, version)
            in rows.decode((UUID, UUID, UUID?, String, String, Int, String, Date, UUID, String, String).self)
        {
            guard let kind = AutonomyCreditKind(rawValue: kind) else {
                throw SignoffError(.internalError, "Unknown credit kind ‘\(kind)’ in the ledger.")
            }
            credits.append(AutonomyCredit(
                id: id, householdID: household, personID: person, gridPath: try UnitPath(path), kind: kind, points: points,
                note: note, recordedAt: at, recordedBy: by, recordedByName: byName, policyVersion: version))
        }
        return credits
    }
}

/// Writes the ledger rows a `HouseholdLedger` transition stands for, in its transaction: the
/// only writer of `infraction_entries` and `autonomy_credits`.
struct HouseholdLedgerRowsReaction: TransitionReaction {
    static let events: Set<String> = [HouseholdLedger.infractionRecordedEvent, HouseholdLedger.creditRecordedEvent]

    func react(to event: DomainEvent, subjectKind: String, subjectID: UUID, at now: Date,
               on connection: PostgresConnection, logger: Logger) async throws {
        if let entry = try HouseholdLedger.entry(in: event) {
            try await connection.query("""
                INSERT INTO infraction_entries (id, household_id, person_id, grid_path, kind, points, note, source_key,
                                                recorded_at, recorded_by, recorded_by_name, policy_version)
                VALUES (\(entry.id), \(entry.householdID), \(entry.personID), \(entry.gridPath.description)::ltree,
                        \(entry.kind.rawValue), \(entry.points), \(entry.note), \(entry.sourceKey), \(entry.recordedAt),
                        \(entry.recordedBy), \(entry.recordedByName), \(entry.policyVersion))
                """, logger: logger)
        }
        if let credit = try HouseholdLedger.credit(in: event) {
            try await connection.query("""
                INSERT INTO autonomy_credits (id, household_id, person_id, grid_path, kind, points, note, recorded_at,
                                              recorded_by, recorded_by_name, policy_version)
                VALUES (\(credit.id), \(credit.householdID), \(credit.personID), \(credit.gridPath.description)::ltree,
                        \(credit.kind.rawValue), \(credit.points), \(credit.note), \(credit.recordedAt), \(credit.recordedBy),
                        \(credit.recordedByName), \(credit.policyVersion))
                """, logger: logger)
        }
    }
}
