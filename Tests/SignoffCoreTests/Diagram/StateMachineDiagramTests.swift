import Foundation
import Testing

@testable import SignoffCore

/// The committed diagrams under `workflows/diagrams/` must match the Swift declarations,
/// and the declarations must match what the machines do.
@Suite struct StateMachineDiagramTests {
    static let diagrams: [StateMachineDiagram] = [
        ParkingPledge.diagram, KeyCustody.diagram, PassApplication.diagram, AgriculturalPass.diagram,
        ReturneeIsolation.diagram, CertificateRequest.diagram, TransportTrip.diagram, Delegation.diagram, CheckpointCheck.diagram, HouseholdVisit.diagram,
    ]

    @Test(arguments: Self.diagrams.map(\.kind))
    func theCommittedDiagramIsCurrent(kind: String) throws {
        let diagram = try #require(Self.diagrams.first { $0.kind == kind })
        let url = RepoPaths.diagrams.appendingPathComponent("\(kind).mmd")
        let text = diagram.mermaid()
        if ProcessInfo.processInfo.environment["SIGNOFF_WRITE_DIAGRAMS"] == "1" {
            try FileManager.default.createDirectory(at: RepoPaths.diagrams, withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let committed = try? String(contentsOf: url, encoding: .utf8)
        #expect(committed == text, """
            workflows/diagrams/\(kind).mmd is stale or missing. Regenerate it with
            SIGNOFF_WRITE_DIAGRAMS=1 swift test --filter StateMachineDiagramTests
            and commit the result.
            """)
    }

    @Test func mermaidTextNamesStatesAndEdges() {
        let text = PassApplication.diagram.mermaid()
        #expect(text.hasPrefix("---\ntitle: vehicle_pass — 通行证 travel pass, five-level chain\n---\nstateDiagram-v2\n"))
        #expect(text.contains("    state \"待签 pending\" as pending\n"))
        #expect(text.contains("    [*] --> pending: apply [clearance reached]\n"))
        #expect(text.contains("    pending --> effective: sign [last level]\n"))
        #expect(text.contains("    effective --> [*]\n"))
    }

    @Test(arguments: Self.diagrams.map(\.kind))
    func everyStateIsEnteredByADeclaredEdge(kind: String) throws {
        let diagram = try #require(Self.diagrams.first { $0.kind == kind })
        let entered = Set(diagram.edges.map(\.to))
        #expect(Set(diagram.states.map(\.name)) == entered)
        #expect(diagram.edges.contains { $0.from == nil })
    }

    // MARK: - Declared edges are what the machines do

    @Test func passApplicationEdgesMatchBehaviour() throws {
        var trace = Trace()
        let cleared = Fixture.t0.plus(days: 14)
        let start = PassApplication.Start(
            vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, plate: try LicensePlate("川Q12345"),
            gridPath: Fixture.grid1, clearanceDueAt: cleared, policy: Fixture.policy())
        // Apply, reject, resubmit, five signatures.
        var app: PassApplication = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: cleared)
        try trace.step(&app, .reject(reason: "x"), by: Fixture.gridWorker, at: cleared)
        try trace.step(&app, .resubmit(clearanceDueAt: cleared, note: nil), by: Fixture.gridWorker, at: cleared)
        for signer in Fixture.chain { try trace.step(&app, .sign(), by: signer, at: cleared) }
        try trace.step(&app, .revoke(reason: "违规"), by: Fixture.admin, at: cleared)
        // Withdraw while pending and after a rejection.
        var pending: PassApplication = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: cleared)
        let overdue = cleared.addingTimeInterval(25 * 3_600)
        try trace.step(&pending, .reassign(level: 1, to: Fixture.otherGridWorker, reason: "外出"), by: Fixture.admin, at: overdue)
        try trace.step(&pending, .withdraw(reason: nil), by: Fixture.gridWorker, at: overdue)
        var rejected: PassApplication = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: cleared)
        try trace.step(&rejected, .reject(reason: "x"), by: Fixture.gridWorker, at: cleared)
        try trace.step(&rejected, .withdraw(reason: nil), by: Fixture.gridWorker, at: cleared)
        #expect(trace.seen == Trace.declared(PassApplication.diagram))
    }

    @Test func checkpointCheckEdgesMatchBehaviour() throws {
        var trace = Trace()
        let released = CheckpointCheckTests.start(.release, credential: CheckpointCheckTests.valid)
        let _: CheckpointCheck = try trace.start(released, id: UUID(), by: Fixture.villageLeader, at: Fixture.t0)
        let _: CheckpointCheck = try trace.start(CheckpointCheckTests.start(.turnBack(reason: "fever")), id: UUID(),
                                                 by: Fixture.villageLeader, at: Fixture.t0)
        #expect(trace.seen == Trace.declared(CheckpointCheck.diagram))
    }

    @Test func delegationEdgesMatchBehaviour() throws {
        var trace = Trace()
        let start = Delegation.Start(number: 1, delegator: Fixture.branchSecretary, delegate: Fixture.doubleHatted,
                                     role: .branchSecretary, unitID: Fixture.branchSecretary.assignments[0].unitID,
                                     from: Fixture.t0, until: Fixture.t0.plus(days: 3), reason: "外出")
        var delegation: Delegation = try trace.start(start, id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        try trace.step(&delegation, .revoke(reason: nil), by: Fixture.branchSecretary, at: Fixture.t0)
        #expect(trace.seen == Trace.declared(Delegation.diagram))
    }

    @Test func parkingPledgeEdgesMatchBehaviour() throws {
        var trace = Trace()
        let start = ParkingPledge.Start(
            vehicleID: Fixture.vehicleID, plate: "川Q12345", ownerPersonID: Fixture.ownerID, householdID: Fixture.householdID,
            parkingPlace: "院坝", gridPath: Fixture.grid1, policy: Fixture.policy())
        var pledge: ParkingPledge = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&pledge, .recordViolation(note: "上路"), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&pledge, .release(passID: UUID()), by: .system, at: Fixture.t0)
        #expect(trace.seen == Trace.declared(ParkingPledge.diagram))
    }

    @Test func keyCustodyEdgesMatchBehaviour() throws {
        var trace = Trace()
        let deposit = KeyCustody.Deposit(custodian: .init(userID: nil, name: "甲"), receiptNumber: "1", storagePlace: "柜")
        func start(_ opening: KeyCustody.Start.Opening) -> KeyCustody.Start {
            KeyCustody.Start(vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, ownerPersonID: Fixture.ownerID,
                             householdID: Fixture.householdID, gridPath: Fixture.grid1, opening: opening)
        }
        var held: KeyCustody = try trace.start(start(.deposit(deposit)), id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&held, .transfer(to: .init(userID: nil, name: "乙"), storagePlace: nil, receiptNumber: nil),
                       by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&held, .returnToOwner(passEffective: true, pledgeReleased: false), by: Fixture.gridWorker, at: Fixture.t0)
        var declined: KeyCustody = try trace.start(start(.decline(note: nil)), id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&declined, .deposit(deposit), by: Fixture.gridWorker, at: Fixture.t0)
        #expect(trace.seen == Trace.declared(KeyCustody.diagram))
    }

    @Test func agriculturalPassEdgesMatchBehaviour() throws {
        var trace = Trace()
        let start = AgriculturalPass.Start(
            householdID: Fixture.householdID, gridPath: Fixture.grid1, vehicleDescription: "拖拉机", plate: nil,
            purpose: "春耕", route: "村道", policy: Fixture.policy())
        var issued: AgriculturalPass = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&issued, .issue(serialNumber: "1"), by: Fixture.branchSecretary, at: Fixture.t0)
        try trace.step(&issued, .revoke(reason: "x"), by: Fixture.branchSecretary, at: Fixture.t0)
        var refused: AgriculturalPass = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&refused, .refuse(reason: "x"), by: Fixture.branchSecretary, at: Fixture.t0)
        #expect(trace.seen == Trace.declared(AgriculturalPass.diagram))
    }

    @Test func returneeIsolationEdgesMatchBehaviour() throws {
        var trace = Trace()
        let end = Fixture.t0.plus(days: 14)
        func walk(_ start: ReturneeIsolation.Start, infraction: InfractionKind) throws(SignoffError) -> ReturneeIsolation {
            var returnee: ReturneeIsolation = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
            try trace.step(&returnee, .recordInfraction(Fixture.infraction(infraction)), by: Fixture.gridWorker, at: Fixture.t0)
            try trace.step(&returnee, .recordTemperature(celsius: 38.2, takenAt: nil), by: Fixture.gridWorker, at: Fixture.t0)
            try trace.step(&returnee, .handleFever(note: "复查正常"), by: Fixture.healthOfficer, at: Fixture.t0)
            return returnee
        }
        // Key area; points under the threshold, then 5 + 5 reaching it; 10 points at registration.
        var keyArea = try walk(Fixture.returnee(province: "湖北"), infraction: .noIsolationBarrier)
        try trace.step(&keyArea, .release(note: nil), by: Fixture.gridWorker, at: end)
        var home = try walk(Fixture.returnee(), infraction: .noIsolationBarrier)
        try trace.step(&home, .release(note: nil), by: Fixture.gridWorker, at: end)
        var moved = try walk(Fixture.returnee(), infraction: .familyNotSeparated)
        try trace.step(&moved, .recordInfraction(Fixture.infraction(.familyMemberVisited)), by: Fixture.gridWorker, at: Fixture.t0)
        let tenPoints = [Fixture.infraction(.visitedOtherHousehold, points: 10)]
        var selfPaid = try walk(Fixture.returnee(infractions: tenPoints), infraction: .noIsolationBarrier)
        try trace.step(&selfPaid, .release(note: nil), by: Fixture.gridWorker, at: end)
        #expect(trace.seen == Trace.declared(ReturneeIsolation.diagram))
    }
}

// MARK: - Workers
extension StateMachineDiagramTests {
    @Test func certificateRequestEdgesMatchBehaviour() throws {
        var trace = Trace()
        let start = CertificateRequestTests.start()
        var passed: CertificateRequest = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&passed, .verify(note: nil), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&passed, .recordExam(.pass(certificateNumber: "1")), by: Fixture.healthOfficer, at: Fixture.t0)
        try trace.step(&passed, .revoke(reason: "复查异常"), by: Fixture.healthOfficer, at: Fixture.t0)
        var failed: CertificateRequest = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&failed, .verify(note: nil), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&failed, .recordExam(.fail(reason: "x")), by: Fixture.healthOfficer, at: Fixture.t0)
        var early: CertificateRequest = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&early, .cancel(reason: nil), by: Fixture.gridWorker, at: Fixture.t0)
        var late: CertificateRequest = try trace.start(start, id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&late, .verify(note: nil), by: Fixture.gridWorker, at: Fixture.t0)
        try trace.step(&late, .cancel(reason: nil), by: Fixture.gridWorker, at: Fixture.t0)
        #expect(trace.seen == Trace.declared(CertificateRequest.diagram))
    }

    @Test func transportTripEdgesMatchBehaviour() throws {
        var trace = Trace()
        let start = TransportTripTests.start()
        var arrived: TransportTrip = try trace.start(start, id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        try trace.step(&arrived, .approve(note: nil), by: Fixture.chiefLeader, at: Fixture.t0)
        try trace.step(&arrived, .depart(boarded: 3), by: Fixture.branchSecretary, at: Fixture.t0)
        try trace.step(&arrived, .arrive(note: nil), by: Fixture.branchSecretary, at: Fixture.t0)
        var rejected: TransportTrip = try trace.start(start, id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        try trace.step(&rejected, .reject(reason: "x"), by: Fixture.chiefLeader, at: Fixture.t0)
        var early: TransportTrip = try trace.start(start, id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        try trace.step(&early, .cancel(reason: "x"), by: Fixture.branchSecretary, at: Fixture.t0)
        var late: TransportTrip = try trace.start(start, id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        try trace.step(&late, .approve(note: nil), by: Fixture.chiefLeader, at: Fixture.t0)
        try trace.step(&late, .cancel(reason: "x"), by: Fixture.branchSecretary, at: Fixture.t0)
        #expect(trace.seen == Trace.declared(TransportTrip.diagram))
    }
}

/// Records the transitions machines actually make, as (from, audited event, to).
struct Trace {
    struct Step: Hashable, CustomStringConvertible {
        var from: String?
        var event: String
        var to: String
        var description: String { "\(self.from ?? "[*]") --\(self.event)--> \(self.to)" }
    }

    var seen: Set<Step> = []

    static func declared(_ diagram: StateMachineDiagram) -> Set<Step> {
        Set(diagram.edges.map { Step(from: $0.from, event: $0.event, to: $0.to) })
    }

    mutating func start<M: AuditedMachine>(_ start: M.Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> M {
        let (machine, effect) = try M.start(start, id: id, by: actor, at: now)
        self.seen.insert(Step(from: nil, event: effect.event, to: machine.stateName))
        return machine
    }

    mutating func step<M: AuditedMachine>(_ machine: inout M, _ command: M.Command, by actor: Principal, at now: Date) throws(SignoffError) {
        let from = machine.stateName
        let effect = try machine.handle(command, by: actor, at: now)
        self.seen.insert(Step(from: from, event: effect.event, to: machine.stateName))
    }
}
