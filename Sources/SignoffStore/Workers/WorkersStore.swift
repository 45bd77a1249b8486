import Crypto
import Foundation
import HummingbirdBcrypt
import Logging
import PostgresNIO
import SignoffCore

/// A worker account just created: the activation code is shown once and only its hash is kept.
public struct WorkerActivation: Sendable, Codable, Equatable {
    public var user: UserSummary
    public var activationCode: String
    public var expiresAt: Date
}

/// Why one listed worker cannot travel on a trip.
public struct TripRefusal: Sendable, Equatable {
    public typealias Reason = TripEligibility.Reason

    public var personID: UUID
    public var name: String?
    public var reason: Reason
    public var message: String
}

/// Migrant workers: their accounts, health-certificate requests and directed transport.
///
/// Every state change goes through `TransitionStore`; this store adds the lookups a machine
/// cannot make (who the person is, their certificates, their other trips, the next number)
/// inside the same transaction, and hides other people's records from workers (404).
public struct WorkersStore: Sendable {
    public let transitions: TransitionStore
    public let policies: PolicyCatalog
    /// The bcrypt cost used when a worker sets a password.
    public let accountSettings: AccountSettings

    public init(transitions: TransitionStore, policies: PolicyCatalog, accountSettings: AccountSettings = .init()) {
        self.transitions = transitions
        self.policies = policies
        self.accountSettings = accountSettings
    }

    /// The policy new requests, trips and activation codes use.
    public func policy() throws -> WorkerPolicy {
        try self.policies.workerPolicy()
    }

    var database: Database { self.transitions.database }
    var logger: Logger { self.database.logger }

    // MARK: Worker accounts

    /// A grid worker creates the account of a person of their grid: role `worker` at the grid,
    /// login by phone, no password until the worker activates it with the returned code.
    public func createWorkerAccount(personID: UUID, phone: String, by actor: Principal, requestID: String?, reason: String? = nil) async throws -> WorkerActivation {
        try UnitRules.validatePhone(phone)
        let now = self.transitions.clock.now()
        let code = Self.activationCode()
        let accounts = AccountStore(transitions: self.transitions)
        return try await self.database.transaction { connection in
            let person = try await self.person(personID, on: connection)
            _ = try actor.assignment(asAnyOf: [.gridWorker, .admin], covering: person.gridPath)
            let user = try await accounts.createUser(
                .init(username: phone, displayName: person.name, phone: phone, password: nil, personID: personID,
                      roles: [(.worker, person.gridID)], reason: reason),
                by: actor, metadata: RequestMetadata(requestID: requestID), on: connection)
            let expires = now.addingTimeInterval(try self.policy().activationCodeValidity)
            try await connection.query("""
                INSERT INTO worker_activations (user_id, code_hash, expires_at, created_by, created_at)
                VALUES (\(user.id), \(Self.digest(code)), \(expires), \(actor.userID), \(now))
                """, logger: self.logger)
            return WorkerActivation(user: user, activationCode: code, expiresAt: expires)
        }
    }

    /// The worker sets a password with the one-time code. Wrong, used or expired codes all
    /// answer `invalid_credentials`; five wrong tries void the code.
    public func activate(login: String, code: String, password: String) async throws {
        try AccountStore.validatePassword(password)
        let now = self.transitions.clock.now()
        let outcome: SignoffError? = try await self.database.transaction { connection in
            let rows = try await connection.query("""
                SELECT a.user_id, a.code_hash, a.expires_at, a.failures, a.used_at, u.password_hash
                  FROM worker_activations a JOIN users u ON u.id = a.user_id
                 WHERE u.username = \(login) OR u.phone = \(login)
                 FOR UPDATE OF a
                """, logger: self.logger)
            var found: (UUID, Data, Date, Int, Date?, String?)?
            for try await row in rows.decode((UUID, Data, Date, Int, Date?, String?).self) { found = row }
            let wrong = SignoffError(.invalidCredentials, "The phone number or the activation code 激活码 is wrong, used or expired. Ask your grid worker 网格员 for a new one.")
            guard let (userID, hash, expires, failures, used, current) = found else { return wrong }
            // A phone that lost the answer sends the same code and password again: the account is
            // activated with that password already, so the retry succeeds without a change.
            if used != nil, failures < 5, hash == Self.digest(code), let current, try await Passwords.verify(password, hash: current) {
                return nil
            }
            guard used == nil, expires > now, failures < 5 else { return wrong }
            guard hash == Self.digest(code) else {
                try await connection.query("UPDATE worker_activations SET failures = failures + 1 WHERE user_id = \(userID)", logger: self.logger)
                return wrong
            }
            let passwordHash = try await Passwords.hash(password, cost: self.accountSettings.bcryptCost)
            // The worker sets it themselves, with the code: audited on their account as theirs.
            let holder = try await AccountStore.activeActor(userID: userID, on: connection, logger: self.logger) ?? .system
            try await AccountStore(transitions: self.transitions, settings: self.accountSettings)
                .setPassword(userID: userID, hash: passwordHash, by: holder, on: connection)
            try await connection.query("UPDATE worker_activations SET used_at = \(now) WHERE user_id = \(userID)", logger: self.logger)
            return nil
        }
        if let outcome { throw outcome }
    }

    static func activationCode() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%08d", Int.random(in: 0..<100_000_000, using: &generator))
    }

    static func digest(_ code: String) -> Data {
        Data(SHA256.hash(data: Data(code.utf8)))
    }

    // MARK: Persons

    public struct PersonRecord: Sendable {
        public var id: UUID
        public var name: String
        public var householdID: UUID
        public var poor: Bool
        public var gridID: UUID
        public var gridPath: UnitPath
    }

    public func person(_ id: UUID, on connection: PostgresConnection) async throws -> PersonRecord {
        guard let person = try await self.persons([id], on: connection)[id] else { throw SignoffError.notFound("This person") }
        return person
    }

    func persons(_ ids: [UUID], on connection: PostgresConnection) async throws -> [UUID: PersonRecord] {
        let rows = try await connection.query("""
            SELECT p.id, p.name, h.id, h.poor, u.id, u.path::text
              FROM persons p JOIN households h ON h.id = p.household_id JOIN units u ON u.id = h.grid_id
             WHERE p.id = ANY(\(ids))
            """, logger: self.logger)
        var found: [UUID: PersonRecord] = [:]
        for try await (id, name, household, poor, gridID, path) in rows.decode((UUID, String, UUID, Bool, UUID, String).self) {
            found[id] = PersonRecord(id: id, name: name, householdID: household, poor: poor, gridID: gridID, gridPath: try UnitPath(path))
        }
        return found
    }

    // MARK: Certificate requests

    /// Files a request for `personID`, or for the worker's own person when nil. A worker naming
    /// anyone else gets 404, as if the person did not exist.
    public func fileRequest(
        personID: UUID?, destination: CertificateRequest.Destination, by actor: Principal,
        metadata: RequestMetadata = .init(), render: TransitionStore.Render<CertificateRequest>? = nil,
        on connection: PostgresConnection
    ) async throws -> TransitionOutcome<CertificateRequest> {
        guard let personID = personID ?? actor.personID else {
            throw SignoffError(.missingField, "The field ‘person_id’ is required.", extra: ["field": "person_id"])
        }
        if actor.isWorkerOnly, personID != actor.personID { throw SignoffError.notFound("This person") }
        let person = try await self.person(personID, on: connection)
        do {
            return try await self.transitions.start(
                CertificateRequest.self,
                .init(personID: personID, householdID: person.householdID, gridPath: person.gridPath, destination: destination, policy: try self.policy()),
                by: actor, metadata: metadata, render: render, on: connection)
        } catch let error as SignoffError where error.code == .duplicate {
            throw SignoffError(.duplicate, "\(person.name) already has an open health certificate request 健康证申请. Follow or cancel that one first.",
                               extra: ["person_id": .string(personID.uuidString)])
        }
    }

    public func fileRequest(
        personID: UUID?, destination: CertificateRequest.Destination, by actor: Principal,
        metadata: RequestMetadata = .init(), render: TransitionStore.Render<CertificateRequest>? = nil
    ) async throws -> TransitionOutcome<CertificateRequest> {
        try await self.database.transaction { connection in
            try await self.fileRequest(personID: personID, destination: destination, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// A request as its reader may see it: a worker sees only their own (others are 404),
    /// an official only inside their jurisdiction.
    public func request(_ id: UUID, for actor: Principal, on connection: PostgresConnection) async throws -> Stored<CertificateRequest> {
        let stored = try await self.transitions.load(CertificateRequest.self, id: id, on: connection)
        try Self.reveal(stored.machine, to: actor)
        return stored
    }

    public func request(_ id: UUID, for actor: Principal) async throws -> Stored<CertificateRequest> {
        try await self.database.withConnection { try await self.request(id, for: actor, on: $0) }
    }

    static func reveal(_ request: CertificateRequest, to actor: Principal) throws(SignoffError) {
        if actor.personID == request.personID { return }
        if actor.isWorkerOnly { throw SignoffError.notFound("This health certificate request") }
        _ = try actor.assignment(asAnyOf: Role.allCases.filter { $0 != .worker }, covering: request.gridPath)
    }

    /// Verify, exam, cancel. A pass takes the next certificate number in the same transaction.
    public enum RequestAction: Sendable {
        case verify(note: String?)
        case pass
        case fail(reason: String?)
        case cancel(reason: String?)
        /// 注销 an issued certificate (the health centre).
        case revoke(reason: String?)
    }

    public func apply(
        _ action: RequestAction, toRequest id: UUID, expectedVersion: Int? = nil, by actor: Principal,
        metadata: RequestMetadata = .init(), render: TransitionStore.Render<CertificateRequest>? = nil
    ) async throws -> TransitionOutcome<CertificateRequest> {
        try await self.database.transaction { connection in
            try await self.apply(action, toRequest: id, expectedVersion: expectedVersion, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    public func apply(
        _ action: RequestAction, toRequest id: UUID, expectedVersion: Int? = nil, by actor: Principal,
        metadata: RequestMetadata = .init(), render: TransitionStore.Render<CertificateRequest>? = nil,
        on connection: PostgresConnection
    ) async throws -> TransitionOutcome<CertificateRequest> {
        _ = try await self.request(id, for: actor, on: connection)
        let command: CertificateRequest.Command
        switch action {
        case .verify(let note): command = .verify(note: note)
        case .fail(let reason): command = .recordExam(.fail(reason: reason))
        case .cancel(let reason): command = .cancel(reason: reason)
        case .revoke(let reason): command = .revoke(reason: reason)
        case .pass:
            let number = try await self.certificateNumbers(1, on: connection)[0]
            command = .recordExam(.pass(certificateNumber: number))
        }
        return try await self.transitions.apply(CertificateRequest.self, id: id, expectedVersion: expectedVersion, command, by: actor,
                                                metadata: metadata, render: render, on: connection)
    }

    /// The next `count` health-certificate numbers, such as `LH-JK-2020-00042`, in one statement.
    public func certificateNumbers(_ count: Int, on connection: PostgresConnection) async throws -> [String] {
        let year = ChinaDay(containing: self.transitions.clock.now()).year
        let series = "health_certificate:\(year)"
        let rows = try await connection.query("""
            INSERT INTO serial_counters AS c (series, last) VALUES (\(series), \(count))
            ON CONFLICT (series) DO UPDATE SET last = c.last + \(count)
            RETURNING last
            """, logger: self.logger)
        var last = count
        for try await value in rows.decode(Int.self) { last = value }
        return ((last - count + 1)...last).map { CertificateRequest.certificateNumber(year: year, number: $0) }
    }

    /// Requests a reader may see, newest first: a worker's own, or an official's jurisdiction.
    public func requests(for actor: Principal, state: CertificateRequest.State?, limit: Int = 200) async throws -> [Stored<CertificateRequest>] {
        try await self.database.withConnection { connection in
            let paths = actor.assignments.filter { $0.role != .worker }.map(\.unitPath.description)
            let person = actor.personID
            let rows = try await connection.query("""
                SELECT state::text, version, created_at, updated_at, id FROM instances
                 WHERE kind = \(CertificateRequest.kind)
                   AND (subject_ref = \(person) OR unit_path <@ \(paths)::ltree[])
                   AND (\(state?.rawValue)::text IS NULL OR state_name = \(state?.rawValue))
                 ORDER BY created_at DESC, id LIMIT \(limit)
                """, logger: self.logger)
            return try await Self.decode(rows)
        }
    }

    static func decode<Machine: AuditedMachine>(_ rows: PostgresRowSequence) async throws -> [Stored<Machine>] {
        var result: [Stored<Machine>] = []
        let decoder = StoredForm.decoder()
        for try await (state, version, created, updated, id) in rows.decode((String, Int, Date, Date, UUID).self) {
            result.append(Stored(id: id, machine: try decoder.decode(Machine.self, from: Data(state.utf8)), version: version,
                                 createdAt: created, updatedAt: updated))
        }
        return result
    }

    // MARK: Directed transport

    public struct TripFiling: Sendable {
        public var unitID: UUID?
        public var destination: CertificateRequest.Destination
        public var departureDate: Date
        public var vehiclePlate: String
        public var driverName: String
        public var driverPhone: String?
        public var workerIDs: [UUID]

        public init(unitID: UUID?, destination: CertificateRequest.Destination, departureDate: Date, vehiclePlate: String,
                    driverName: String, driverPhone: String?, workerIDs: [UUID]) {
            self.unitID = unitID
            self.destination = destination
            self.departureDate = departureDate
            self.vehiclePlate = vehiclePlate
            self.driverName = driverName
            self.driverPhone = driverPhone
            self.workerIDs = workerIDs
        }
    }

    /// Files a trip after checking every listed worker; refuses naming each one who fails.
    public func fileTrip(
        _ filing: TripFiling, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<TransportTrip>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<TransportTrip> {
        let organisation = OrganisationStore(database: self.database)
        let unitPath: UnitPath
        if let unitID = filing.unitID {
            unitPath = try await organisation.unit(id: unitID, on: connection).path
        } else {
            // The organiser's own unit: the most specific organiser role they hold.
            guard let own = actor.assignments.filter({ TransportTrip.organiserRoles.contains($0.role) })
                .max(by: { $0.unitPath.labels.count < $1.unitPath.labels.count })
            else {
                _ = try actor.assignment(asAnyOf: TransportTrip.organiserRoles, covering: UnitPath(labels: []))
                throw SignoffError.notFound("Unit")
            }
            unitPath = own.unitPath
        }
        _ = try actor.assignment(asAnyOf: TransportTrip.organiserRoles, covering: unitPath)
        // Serialise trips that list the same person, so two filings cannot both book them.
        for id in Set(filing.workerIDs).sorted(by: { $0.uuidString < $1.uuidString }) {
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\("trip-worker:\(id.uuidString)"), 0))", logger: self.logger)
        }
        let now = self.transitions.clock.now()
        let checkTime = max(now, filing.departureDate)
        let scope = try self.policy().scope(forProvince: filing.destination.province)
        let persons = try await self.persons(filing.workerIDs, on: connection)
        var refusals: [TripRefusal] = []
        var roster: [TransportTrip.Worker] = []
        for id in filing.workerIDs {
            let person = persons[id]
            let livesHere = person.map { unitPath.contains($0.gridPath) } ?? false
            let certificates = livesHere ? try await self.certificates(of: id, on: connection) : []
            let otherTrip = livesHere ? try await self.openTrip(containing: id, on: connection) : nil
            switch TripEligibility.decide(id: id, name: person?.name, livesInTripUnit: livesHere, certificates: certificates,
                                          otherOpenTrip: otherTrip, scope: scope, at: checkTime) {
            case .eligible(let number):
                if let person {
                    roster.append(.init(personID: id, name: person.name, householdID: person.householdID, poor: person.poor,
                                        certificateNumber: number))
                }
            case .refused(let reason, let message):
                refusals.append(TripRefusal(personID: id, name: person?.name, reason: reason, message: message))
            }
        }
        if !refusals.isEmpty {
            throw SignoffError(.invalidValue, "\(refusals.count) of the listed workers cannot travel on this trip: "
                               + refusals.map(\.message).joined(separator: " "), extra: [
                "field": "workers",
                "workers": .array(refusals.map { refusal in
                    .object(["person_id": .string(refusal.personID.uuidString.lowercased()),
                             "name": refusal.name.map(JSONValue.string) ?? .null,
                             "reason": .string(refusal.reason.rawValue), "message": .string(refusal.message)])
                }),
            ])
        }
        return try await self.transitions.start(
            TransportTrip.self,
            .init(unitPath: unitPath, destination: filing.destination, departureDate: filing.departureDate,
                  vehiclePlate: filing.vehiclePlate, driverName: filing.driverName, driverPhone: filing.driverPhone,
                  workers: roster, policy: try self.policy()),
            by: actor, metadata: metadata, render: render, on: connection)
    }

    public func fileTrip(
        _ filing: TripFiling, by actor: Principal, metadata: RequestMetadata = .init(), render: TransitionStore.Render<TransportTrip>? = nil
    ) async throws -> TransitionOutcome<TransportTrip> {
        try await self.database.transaction { try await self.fileTrip(filing, by: actor, metadata: metadata, render: render, on: $0) }
    }

    /// Issued certificates of a person, newest first.
    func certificates(of personID: UUID, on connection: PostgresConnection) async throws -> [CertificateRequest] {
        let rows = try await connection.query("""
            SELECT state::text, version, created_at, updated_at, id FROM instances
             WHERE subject_ref = \(personID) AND kind = \(CertificateRequest.kind) AND state_name = \(CertificateRequest.State.certified.rawValue)
             ORDER BY created_at DESC
            """, logger: self.logger)
        let stored: [Stored<CertificateRequest>] = try await Self.decode(rows)
        return stored.map(\.machine)
    }

    func openTrip(containing personID: UUID, on connection: PostgresConnection) async throws -> UUID? {
        let open = TransportTrip.openStates.map(\.rawValue)
        let rows = try await connection.query("""
            SELECT id FROM instances
             WHERE kind = \(TransportTrip.kind) AND member_ids @> ARRAY[\(personID)]::uuid[] AND state_name = ANY(\(open))
             LIMIT 1
            """, logger: self.logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    /// A trip as its reader may see it: a worker only a trip they are on (others are 404).
    public func trip(_ id: UUID, for actor: Principal, on connection: PostgresConnection) async throws -> Stored<TransportTrip> {
        let stored = try await self.transitions.load(TransportTrip.self, id: id, on: connection)
        try Self.reveal(stored.machine, to: actor)
        return stored
    }

    public func trip(_ id: UUID, for actor: Principal) async throws -> Stored<TransportTrip> {
        try await self.database.withConnection { try await self.trip(id, for: actor, on: $0) }
    }

    static func reveal(_ trip: TransportTrip, to actor: Principal) throws(SignoffError) {
        if let person = actor.personID, trip.workers.contains(where: { $0.personID == person }), actor.isWorkerOnly { return }
        if actor.isWorkerOnly { throw SignoffError.notFound("This transport trip") }
        _ = try actor.assignment(asAnyOf: Role.allCases.filter { $0 != .worker }, covering: trip.unitPath)
    }

    public func apply(
        _ command: TransportTrip.Command, toTrip id: UUID, expectedVersion: Int? = nil, by actor: Principal,
        metadata: RequestMetadata = .init(), render: TransitionStore.Render<TransportTrip>? = nil
    ) async throws -> TransitionOutcome<TransportTrip> {
        try await self.database.transaction { connection in
            try await self.apply(command, toTrip: id, expectedVersion: expectedVersion, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    public func apply(
        _ command: TransportTrip.Command, toTrip id: UUID, expectedVersion: Int? = nil, by actor: Principal,
        metadata: RequestMetadata = .init(), render: TransitionStore.Render<TransportTrip>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<TransportTrip> {
        let stored = try await self.trip(id, for: actor, on: connection)
        if actor.isWorkerOnly { _ = try actor.assignment(asAnyOf: TransportTrip.organiserRoles, covering: stored.machine.unitPath) }
        return try await self.transitions.apply(TransportTrip.self, id: id, expectedVersion: expectedVersion, command, by: actor,
                                                metadata: metadata, render: render, on: connection)
    }
}

extension Principal {
    /// A migrant worker's account, holding no official role: other people's records are hidden from it.
    public var isWorkerOnly: Bool {
        !self.assignments.contains { $0.role != .worker }
    }
}
