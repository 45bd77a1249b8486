import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// Agricultural vehicle passes 农用车通行证明: requested for a household, issued with a serial
/// number unique per township and year, revocable.
public struct AgriculturalPassStore: Sendable {
    public let transitions: TransitionStore
    public let policies: PolicyCatalog

    public init(transitions: TransitionStore, policies: PolicyCatalog) {
        self.transitions = transitions
        self.policies = policies
    }

    var logger: Logger { self.transitions.database.logger }

    public struct Request: Sendable {
        public var householdID: UUID
        public var vehicleDescription: String
        public var plate: String?
        public var purpose: String
        public var route: String

        public init(householdID: UUID, vehicleDescription: String, plate: String?, purpose: String, route: String) {
            self.householdID = householdID
            self.vehicleDescription = vehicleDescription
            self.plate = plate
            self.purpose = purpose
            self.route = route
        }
    }

    public func request(
        _ request: Request, by actor: Principal, metadata: RequestMetadata,
        render: @escaping TransitionStore.Render<AgriculturalPass>
    ) async throws -> TransitionOutcome<AgriculturalPass> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.request(request, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds (the demo files many in one).
    func request(
        _ request: Request, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<AgriculturalPass>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<AgriculturalPass> {
        let policy = try self.policies.vehiclePolicy()
        let gridPath: UnitPath
        do {
            gridPath = try await OrganisationStore(database: self.transitions.database).gridPath(ofHousehold: request.householdID, on: connection)
        } catch let error as SignoffError where error.code == .notFound {
            throw SignoffError(.invalidValue, "The household \(request.householdID) is not registered.", extra: ["field": "household_id"])
        }
        return try await self.transitions.start(
            AgriculturalPass.self,
            AgriculturalPass.Start(householdID: request.householdID, gridPath: gridPath,
                                   vehicleDescription: request.vehicleDescription, plate: request.plate,
                                   purpose: request.purpose, route: request.route, policy: policy),
            by: actor, metadata: metadata, render: render, on: connection)
    }

    /// Issues the pass with the next serial of the township and year, taken in the same transaction.
    public func issue(
        id: UUID, by actor: Principal, metadata: RequestMetadata, render: @escaping TransitionStore.Render<AgriculturalPass>
    ) async throws -> TransitionOutcome<AgriculturalPass> {
        try await self.transitions.transaction(metadata: metadata, actor: actor) { connection in
            try await self.issue(id: id, by: actor, metadata: metadata, render: render, on: connection)
        }
    }

    /// The same inside a transaction the caller holds.
    func issue(
        id: UUID, by actor: Principal, metadata: RequestMetadata = .init(),
        render: TransitionStore.Render<AgriculturalPass>? = nil, on connection: PostgresConnection
    ) async throws -> TransitionOutcome<AgriculturalPass> {
        let pass = try await self.transitions.load(AgriculturalPass.self, id: id, on: connection)
        // Only a pass still waiting takes a number; otherwise the machine refuses (or the key replays).
        let serial = pass.machine.state == .requested
            ? try await self.nextSerial(on: connection) : (pass.machine.serialNumber ?? "—")
        return try await self.transitions.apply(AgriculturalPass.self, id: id, expectedVersion: pass.version,
                                                .issue(serialNumber: serial), by: actor, metadata: metadata,
                                                render: render, on: connection)
    }

    public func act(
        id: UUID, _ command: AgriculturalPass.Command, by actor: Principal, metadata: RequestMetadata,
        render: @escaping TransitionStore.Render<AgriculturalPass>
    ) async throws -> TransitionOutcome<AgriculturalPass> {
        try await self.transitions.apply(AgriculturalPass.self, id: id, command, by: actor, metadata: metadata, render: render)
    }

    /// `农通-<year>-<0001>`: the year in China time, numbered per township and year.
    func nextSerial(on connection: PostgresConnection) async throws -> String {
        let year = ChinaDay(containing: self.transitions.clock.now()).year
        let rows = try await connection.query("""
            INSERT INTO agricultural_pass_serials (township_id, year, last_serial)
            SELECT id, \(year), 1 FROM units WHERE parent_id IS NULL
            ON CONFLICT (township_id, year) DO UPDATE SET last_serial = agricultural_pass_serials.last_serial + 1
            RETURNING last_serial
            """, logger: self.logger)
        for try await number in rows.decode(Int.self) {
            return AgriculturalPass.serialNumber(year: year, number: number)
        }
        throw SignoffError(.internalError, "The township unit is missing; import the township first.")
    }
}
