import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// A registered vehicle 车辆.
public struct VehicleRecord: Sendable, Codable, Equatable {
    public var id: UUID
    public var plate: String
    public var plateKind: String
    public var ownerPersonID: UUID
    public var householdID: UUID
    public var gridID: UUID
    public var gridPath: UnitPath
    public var parkingPlace: String
    public var registeredAt: Date
}

/// Vehicle control: the register, parking pledges, key custody, travel passes.
///
/// Every change is a transition on `TransitionStore`; this store only looks up what a command
/// needs (the active pledge, the open custody record, whether a pass is effective) inside the
/// same transaction, and chains what one transition causes (a pass taking effect releases its
/// pledge) into that transaction too.
public struct VehicleStore: Sendable {
    public let transitions: TransitionStore
    public let policies: PolicyCatalog

    public init(transitions: TransitionStore, policies: PolicyCatalog) {
        self.transitions = transitions
        self.policies = policies
    }

    var database: Database { self.transitions.database }
    var logger: Logger { self.database.logger }

    // MARK: Register and pledge

    public struct Registration: Sendable {
        public var plate: String
        public var ownerPersonID: UUID
        public var parkingPlace: String

        public init(plate: String, ownerPersonID: UUID, parkingPlace: String) {
            self.plate = plate
            self.ownerPersonID = ownerPersonID
            self.parkingPlace = parkingPlace
        }
    }

    /// Registers a vehicle and starts its owner's pledge 停放承诺书, in one transaction.
    public func register(
        _ registration: Registration, by actor: Principal, metadata: RequestMetadata,
        render: @escaping TransitionStore.Render<ParkingPledge>
    ) async throws -> TransitionOutcome<ParkingPledge> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.register(registration, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds (the demo batches many).
    func register(
        _ registration: Registration, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<ParkingPledge>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<ParkingPledge> {
        let policy = try self.policies.vehiclePolicy()
        let owner = try await self.owner(registration.ownerPersonID, on: connection)
        let vehicleID = UUID()
        let outcome = try await self.transitions.start(
            ParkingPledge.self,
            ParkingPledge.Start(vehicleID: vehicleID, plate: registration.plate, ownerPersonID: registration.ownerPersonID,
                                householdID: owner.householdID, parkingPlace: registration.parkingPlace,
                                gridPath: owner.gridPath, policy: policy),
            by: actor, metadata: metadata, render: render, on: connection)
        guard case .applied(let transitioned, _) = outcome else { return outcome }
        let pledge = transitioned.stored.machine
        try await connection.query("""
            INSERT INTO vehicles (id, plate, plate_kind, owner_person_id, household_id, grid_id, grid_path,
                                  parking_place, registered_by, registered_at)
            VALUES (\(vehicleID), \(pledge.plate.text), \(pledge.plate.kind.rawValue), \(pledge.ownerPersonID),
                    \(pledge.householdID), \(owner.gridID), \(owner.gridPath.description)::ltree, \(pledge.parkingPlace),
                    \(actor.userID), \(pledge.parkedSince))
            """, logger: self.logger)
        return outcome
    }

    /// A new pledge for a vehicle already registered (parked again after its pass ended).
    public func pledgeAgain(
        vehicleID: UUID, parkingPlace: String?, by actor: Principal, metadata: RequestMetadata,
        render: @escaping TransitionStore.Render<ParkingPledge>
    ) async throws -> TransitionOutcome<ParkingPledge> {
        let policy = try self.policies.vehiclePolicy()
        return try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            let vehicle = try await self.vehicle(id: vehicleID, on: connection)
            return try await self.transitions.start(
                ParkingPledge.self,
                ParkingPledge.Start(vehicleID: vehicle.id, plate: vehicle.plate, ownerPersonID: vehicle.ownerPersonID,
                                    householdID: vehicle.householdID, parkingPlace: parkingPlace ?? vehicle.parkingPlace,
                                    gridPath: vehicle.gridPath, policy: policy),
                by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    public func recordViolation(
        vehicleID: UUID, note: String, by actor: Principal, metadata: RequestMetadata,
        render: @escaping TransitionStore.Render<ParkingPledge>
    ) async throws -> TransitionOutcome<ParkingPledge> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            let pledgeID = try await self.activePledgeID(vehicleID: vehicleID, on: connection)
            return try await self.transitions.apply(ParkingPledge.self, id: pledgeID, .recordViolation(note: note), by: actor,
                                                    metadata: metadata, render: render, on: connection)
        }
    }

    // MARK: Key custody

    /// Who is to hold a key: a user by id (their name is looked up), or a name, or the actor.
    public struct CustodianChoice: Sendable {
        public var userID: UUID?
        public var name: String?

        public init(userID: UUID?, name: String?) {
            self.userID = userID
            self.name = name
        }
    }

    /// Deposits the key: opens custody, or completes it after a decline.
    public func depositKey(
        vehicleID: UUID, custodian: CustodianChoice, receiptNumber: String, storagePlace: String,
        by actor: Principal, metadata: RequestMetadata, render: @escaping TransitionStore.Render<KeyCustody>
    ) async throws -> TransitionOutcome<KeyCustody> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.depositKey(vehicleID: vehicleID, custodian: custodian, receiptNumber: receiptNumber,
                                      storagePlace: storagePlace, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds (the demo batches many).
    func depositKey(
        vehicleID: UUID, custodian: CustodianChoice, receiptNumber: String, storagePlace: String,
        by actor: Principal, metadata: RequestMetadata = .init(), render: TransitionStore.Render<KeyCustody>? = nil,
        on connection: PostgresConnection
    ) async throws -> TransitionOutcome<KeyCustody> {
        let holder = try await self.custodian(custodian, actor: actor, on: connection)
        let deposit = KeyCustody.Deposit(custodian: holder, receiptNumber: receiptNumber, storagePlace: storagePlace)
        if let custodyID = try await self.openCustodyID(vehicleID: vehicleID, on: connection) {
            return try await self.transitions.apply(KeyCustody.self, id: custodyID, .deposit(deposit), by: actor,
                                                    metadata: metadata, render: render, on: connection)
        }
        return try await self.startCustody(vehicleID: vehicleID, opening: .deposit(deposit), by: actor, metadata: metadata,
                                           render: render, on: connection)
    }

    /// Records that the owner refused to hand the key over; published for the points ledger.
    public func declineKey(
        vehicleID: UUID, note: String?, by actor: Principal, metadata: RequestMetadata,
        render: @escaping TransitionStore.Render<KeyCustody>
    ) async throws -> TransitionOutcome<KeyCustody> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.declineKey(vehicleID: vehicleID, note: note, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds (the demo batches many).
    func declineKey(
        vehicleID: UUID, note: String?, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<KeyCustody>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<KeyCustody> {
        if let custodyID = try await self.openCustodyID(vehicleID: vehicleID, on: connection) {
            let current = try await self.transitions.load(KeyCustody.self, id: custodyID, on: connection)
            throw SignoffError.invalidTransition("decline", from: current.machine.stateName)
        }
        return try await self.startCustody(vehicleID: vehicleID, opening: .decline(note: note), by: actor,
                                           metadata: metadata, render: render, on: connection)
    }

    public func transferKey(
        vehicleID: UUID, to custodian: CustodianChoice, storagePlace: String?, receiptNumber: String?,
        by actor: Principal, metadata: RequestMetadata, render: @escaping TransitionStore.Render<KeyCustody>
    ) async throws -> TransitionOutcome<KeyCustody> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            let custodyID = try await self.requireOpenCustody(vehicleID: vehicleID, on: connection)
            let holder = try await self.custodian(custodian, actor: actor, on: connection)
            return try await self.transitions.apply(
                KeyCustody.self, id: custodyID, .transfer(to: holder, storagePlace: storagePlace, receiptNumber: receiptNumber),
                by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// Gives the key back; allowed once a pass of the vehicle is effective or its pledge released,
    /// both read inside the transaction.
    public func returnKey(
        vehicleID: UUID, by actor: Principal, metadata: RequestMetadata, render: @escaping TransitionStore.Render<KeyCustody>
    ) async throws -> TransitionOutcome<KeyCustody> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.returnKey(vehicleID: vehicleID, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds (the demo batches many).
    func returnKey(
        vehicleID: UUID, by actor: Principal, metadata: RequestMetadata = .init(), render: TransitionStore.Render<KeyCustody>? = nil,
        on connection: PostgresConnection
    ) async throws -> TransitionOutcome<KeyCustody> {
        let custodyID = try await self.requireOpenCustody(vehicleID: vehicleID, on: connection)
        let custody = try await self.transitions.load(KeyCustody.self, id: custodyID, on: connection)
        let rows = try await connection.query("""
            SELECT EXISTS (SELECT 1 FROM instances WHERE kind = \(PassApplication.kind) AND subject_ref = \(vehicleID)
                                                    AND state_name = \(PassApplication.State.effective.rawValue)),
                   EXISTS (SELECT 1 FROM instances WHERE kind = \(ParkingPledge.kind) AND id = \(custody.machine.pledgeID)
                                                    AND state_name = \(ParkingPledge.State.released.rawValue))
            """, logger: self.logger)
        var found = (false, false)
        for try await row in rows.decode((Bool, Bool).self) { found = row }
        return try await self.transitions.apply(
            KeyCustody.self, id: custodyID, .returnToOwner(passEffective: found.0, pledgeReleased: found.1),
            by: actor, metadata: metadata, render: render, on: connection)
    }

    // MARK: Travel pass

    /// Files a travel pass 通行证 application under the policy in force now.
    public func applyForPass(
        vehicleID: UUID, by actor: Principal, metadata: RequestMetadata, render: @escaping TransitionStore.Render<PassApplication>
    ) async throws -> TransitionOutcome<PassApplication> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.applyForPass(vehicleID: vehicleID, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds (the demo batches many).
    func applyForPass(
        vehicleID: UUID, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<PassApplication>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<PassApplication> {
        let policy = try self.policies.vehiclePolicy()
        let pledgeID = try await self.activePledgeID(vehicleID: vehicleID, on: connection)
        let pledge = try await self.transitions.load(ParkingPledge.self, id: pledgeID, on: connection).machine
        return try await self.transitions.start(
            PassApplication.self,
            PassApplication.Start(vehicleID: vehicleID, pledgeID: pledgeID, plate: pledge.plate, gridPath: pledge.gridPath,
                                  clearanceDueAt: pledge.clearanceDueAt, policy: policy),
            by: actor, metadata: metadata, render: render, on: connection)
    }

    /// Signs, rejects or withdraws. When the last signature makes the pass effective, the
    /// service releases the vehicle's pledge in the same transaction.
    public func actOnPass(
        id: UUID, expectedVersion: Int?, _ command: PassApplication.Command, by actor: Principal, metadata: RequestMetadata,
        render: @escaping TransitionStore.Render<PassApplication>
    ) async throws -> TransitionOutcome<PassApplication> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.actOnPass(id: id, expectedVersion: expectedVersion, command, by: actor, metadata: metadata,
                                     render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds (the demo batches many).
    func actOnPass(
        id: UUID, expectedVersion: Int?, _ command: PassApplication.Command, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<PassApplication>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<PassApplication> {
        let outcome = try await self.transitions.apply(PassApplication.self, id: id, expectedVersion: expectedVersion, command,
                                                       by: actor, metadata: metadata, render: render, on: connection)
        if case .applied(let transitioned, _) = outcome, transitioned.stored.machine.state == .effective {
            let pledge = try await self.transitions.load(ParkingPledge.self, id: transitioned.stored.machine.pledgeID, on: connection)
            if pledge.machine.state == .parked {
                _ = try await self.transitions.apply(
                    ParkingPledge.self, id: pledge.id, expectedVersion: pledge.version, .release(passID: id), by: .system,
                    metadata: RequestMetadata(requestID: metadata.requestID), on: connection)
            }
        }
        return outcome
    }

    /// Starts a new round at level 1, checked against the pledge's clearance date now.
    public func resubmitPass(
        id: UUID, note: String?, by actor: Principal, metadata: RequestMetadata,
        render: @escaping TransitionStore.Render<PassApplication>
    ) async throws -> TransitionOutcome<PassApplication> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            let application = try await self.transitions.load(PassApplication.self, id: id, on: connection)
            let pledge = try await self.transitions.load(ParkingPledge.self, id: application.machine.pledgeID, on: connection)
            return try await self.transitions.apply(
                PassApplication.self, id: id, expectedVersion: application.version,
                .resubmit(clearanceDueAt: pledge.machine.clearanceDueAt, note: note), by: actor, metadata: metadata,
                render: render, on: connection)
        }
    }

    // MARK: Reading

    public func vehicle(id: UUID) async throws -> VehicleRecord {
        try await self.database.withConnection { try await self.vehicle(id: id, on: $0) }
    }

    public func vehicle(id: UUID, on connection: PostgresConnection) async throws -> VehicleRecord {
        let rows = try await connection.query("""
            SELECT id, plate, plate_kind, owner_person_id, household_id, grid_id, grid_path::text, parking_place, registered_at
              FROM vehicles WHERE id = \(id)
            """, logger: self.logger)
        for try await (id, plate, kind, owner, household, grid, path, place, at) in rows.decode(
            (UUID, String, String, UUID, UUID, UUID, String, String, Date).self)
        {
            return VehicleRecord(id: id, plate: plate, plateKind: kind, ownerPersonID: owner, householdID: household, gridID: grid,
                                 gridPath: try UnitPath(path), parkingPlace: place, registeredAt: at)
        }
        throw SignoffError.notFound("Vehicle \(id)")
    }

    /// Every workflow record about a vehicle (pledges, key custody, passes), oldest first.
    public func records(vehicleID: UUID) async throws -> [(kind: String, id: UUID, version: Int, state: Data)] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT kind, id, version, state::text FROM instances WHERE subject_ref = \(vehicleID)
                   AND kind IN (\(ParkingPledge.kind), \(KeyCustody.kind), \(PassApplication.kind))
                 ORDER BY created_at, id
                """, logger: self.logger)
            var records: [(kind: String, id: UUID, version: Int, state: Data)] = []
            for try await (kind, id, version, state) in rows.decode((String, UUID, Int, String).self) {
                records.append((kind, id, version, Data(state.utf8)))
            }
            return records
        }
    }

    /// Decodes a stored machine state read by `records` or a list query.
    public static func decode<Machine: AuditedMachine>(_ type: Machine.Type, _ state: Data) throws -> Machine {
        try StoredForm.decoder().decode(Machine.self, from: state)
    }

    // MARK: Lookups inside a transaction

    struct Owner {
        var householdID: UUID
        var gridID: UUID
        var gridPath: UnitPath
    }

    func owner(_ personID: UUID, on connection: PostgresConnection) async throws -> Owner {
        let rows = try await connection.query("""
            SELECT h.id, u.id, u.path::text FROM persons p JOIN households h ON h.id = p.household_id JOIN units u ON u.id = h.grid_id
             WHERE p.id = \(personID)
            """, logger: self.logger)
        for try await (household, grid, path) in rows.decode((UUID, UUID, String).self) {
            return Owner(householdID: household, gridID: grid, gridPath: try UnitPath(path))
        }
        throw SignoffError(.invalidValue, "The owner \(personID) is not a registered person 人员.", extra: ["field": "owner_person_id"])
    }

    func activePledgeID(vehicleID: UUID, on connection: PostgresConnection) async throws -> UUID {
        if let id = try await self.exclusive(ParkingPledge.kind, vehicleID: vehicleID, on: connection) { return id }
        _ = try await self.vehicle(id: vehicleID, on: connection)
        throw SignoffError(.invalidTransition, "This vehicle has no active parking pledge 停放承诺书.",
                           extra: ["state": "no_active_pledge", "vehicle_id": .string(vehicleID.uuidString)])
    }

    func openCustodyID(vehicleID: UUID, on connection: PostgresConnection) async throws -> UUID? {
        try await self.exclusive(KeyCustody.kind, vehicleID: vehicleID, on: connection)
    }

    func requireOpenCustody(vehicleID: UUID, on connection: PostgresConnection) async throws -> UUID {
        if let id = try await self.openCustodyID(vehicleID: vehicleID, on: connection) { return id }
        _ = try await self.vehicle(id: vehicleID, on: connection)
        throw SignoffError(.invalidTransition, "No key 钥匙 of this vehicle is in custody.",
                           extra: ["state": "no_custody", "vehicle_id": .string(vehicleID.uuidString)])
    }

    /// The open instance of `kind` about a vehicle, found through its exclusive key (a unique index).
    private func exclusive(_ kind: String, vehicleID: UUID, on connection: PostgresConnection) async throws -> UUID? {
        let key = ExclusiveKey.vehicle(vehicleID).text
        let rows = try await connection.query(
            "SELECT id FROM instances WHERE kind = \(kind) AND exclusive_key = \(key)", logger: self.logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    private func startCustody(
        vehicleID: UUID, opening: KeyCustody.Start.Opening, by actor: Principal, metadata: RequestMetadata,
        render: TransitionStore.Render<KeyCustody>?, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<KeyCustody> {
        let vehicle = try await self.vehicle(id: vehicleID, on: connection)
        let pledgeID = try await self.activePledgeID(vehicleID: vehicleID, on: connection)
        return try await self.transitions.start(
            KeyCustody.self,
            KeyCustody.Start(vehicleID: vehicleID, pledgeID: pledgeID, ownerPersonID: vehicle.ownerPersonID,
                             householdID: vehicle.householdID, gridPath: vehicle.gridPath, opening: opening),
            by: actor, metadata: metadata, render: render, on: connection)
    }

    private func custodian(_ choice: CustodianChoice, actor: Principal, on connection: PostgresConnection) async throws -> KeyCustody.Custodian {
        guard let userID = choice.userID else {
            if let name = choice.name { return KeyCustody.Custodian(userID: nil, name: name) }
            return KeyCustody.Custodian(userID: actor.userID, name: actor.displayName)
        }
        let rows = try await connection.query("SELECT display_name FROM users WHERE id = \(userID)", logger: self.logger)
        for try await name in rows.decode(String.self) { return KeyCustody.Custodian(userID: userID, name: name) }
        throw SignoffError(.invalidValue, "The custodian \(userID) is not a user of Signoff.", extra: ["field": "custodian_user_id"])
    }
}
