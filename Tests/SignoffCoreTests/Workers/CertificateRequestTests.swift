import Foundation
import Testing

@testable import SignoffCore

@Suite struct CertificateRequestTests {
    static let personID = UUID(uuidString: "0E000000-0000-0000-0000-0000000000F1")!
    static let worker = Principal(userID: UUID(), displayName: "务工人员 杨明",
                              assignments: [RoleAssignment(role: .worker, unitID: Fixture.unitID(Fixture.grid1), unitPath: Fixture.grid1)],
                              personID: personID)
    static let otherWorker = Principal(userID: UUID(), displayName: "务工人员 龙华",
                                   assignments: [RoleAssignment(role: .worker, unitID: Fixture.unitID(Fixture.grid1), unitPath: Fixture.grid1)],
                                   personID: UUID())

    static func start(province: String = "广东", employer: String? = "电子厂") -> CertificateRequest.Start {
        CertificateRequest.Start(personID: personID, householdID: Fixture.householdID, gridPath: Fixture.grid1,
                                 destination: .init(province: province, city: "东莞", employer: employer), policy: .builtIn)
    }

    static func filed(by actor: Principal = worker, province: String = "广东") throws(SignoffError) -> CertificateRequest {
        try CertificateRequest.start(start(province: province), id: UUID(), by: actor, at: Fixture.t0).0
    }

    @Test func theWorkerOrTheirGridWorkerFiles() throws {
        let (own, effect) = try CertificateRequest.start(Self.start(), id: UUID(), by: Self.worker, at: Fixture.t0)
        #expect(own.state == .filed)
        #expect(effect.event == "file")
        #expect(effect.actingAs?.role == .worker)
        #expect(own.projection.pendingRole == .gridWorker)
        let byGridWorker = try Self.filed(by: Fixture.gridWorker)
        #expect(byGridWorker.filedBy == Fixture.gridWorker.userID)
        expectError(.forbiddenRole) { () throws(SignoffError) in try Self.filed(by: Self.otherWorker) }
        expectError(.outOfJurisdiction) { () throws(SignoffError) in try Self.filed(by: Fixture.foreignGridWorker) }
        expectError(.invalidValue) { () throws(SignoffError) in try Self.filed(province: "  ") }
    }

    @Test func scopeFollowsTheDestinationProvince() throws {
        #expect(try Self.filed(province: "四川").scope == .inProvince)
        #expect(try Self.filed(province: "Sichuan").scope == .inProvince)
        #expect(try Self.filed(province: "四川省").scope == .inProvince)
        #expect(try Self.filed(province: "广东").scope == .outOfProvince)
    }

    @Test func verifyThenPassIssuesANumberedCertificateWithPolicyValidity() throws {
        var request = try Self.filed()
        expectRefused(&request, .recordExam(.pass(certificateNumber: "N1")), by: Fixture.healthOfficer, at: Fixture.t0, .invalidTransition)
        expectRefused(&request, .verify(note: nil), by: Self.worker, at: Fixture.t0, .forbiddenRole)
        #expect(try request.handle(.verify(note: "身份属实"), by: Fixture.branchSecretary, at: Fixture.t0).event == "verify")
        #expect(request.projection.pendingRole == .healthOfficer)
        expectRefused(&request, .recordExam(.pass(certificateNumber: "N1")), by: Fixture.gridWorker, at: Fixture.t0, .forbiddenRole)
        let issued = Fixture.t0.plus(days: 1)
        let effect = try request.handle(.recordExam(.pass(certificateNumber: "LH-JK-2020-00001")), by: Fixture.healthOfficer, at: issued)
        #expect(effect.event == "pass")
        #expect(request.state == .certified)
        #expect(request.certificateNumber == "LH-JK-2020-00001")
        #expect(request.validUntil == issued.plus(days: Double(WorkerPolicy.builtIn.certificateValidityDays)))
        #expect(request.exclusiveKey == nil)
        #expect(request.displayStatus(at: issued.plus(days: 89)) == .certified)
        #expect(request.displayStatus(at: issued.plus(days: 90)) == .expired)
    }

    @Test func aFailNeedsAReason() throws {
        var request = try Self.filed()
        _ = try request.handle(.verify(note: nil), by: Fixture.gridWorker, at: Fixture.t0)
        expectRefused(&request, .recordExam(.fail(reason: " ")), by: Fixture.healthOfficer, at: Fixture.t0, .reasonRequired)
        _ = try request.handle(.recordExam(.fail(reason: "体温异常")), by: Fixture.healthOfficer, at: Fixture.t0)
        #expect(request.state == .failed)
        #expect(request.failReason == "体温异常")
    }

    @Test func theRequesterCancelsOnlyBeforeTheExam() throws {
        var request = try Self.filed()
        #expect(request.exclusiveKey == .person(Self.personID))
        expectRefused(&request, .cancel(reason: nil), by: Self.otherWorker, at: Fixture.t0, .forbiddenRole)
        _ = try request.handle(.verify(note: nil), by: Fixture.gridWorker, at: Fixture.t0)
        _ = try request.handle(.cancel(reason: "不去了"), by: Self.worker, at: Fixture.t0)
        #expect(request.state == .cancelled)
        #expect(request.exclusiveKey == nil)

        var examined = try Self.filed()
        _ = try examined.handle(.verify(note: nil), by: Fixture.gridWorker, at: Fixture.t0)
        _ = try examined.handle(.recordExam(.pass(certificateNumber: "N2")), by: Fixture.healthOfficer, at: Fixture.t0)
        expectRefused(&examined, .cancel(reason: nil), by: Self.worker, at: Fixture.t0, .invalidTransition)
    }
}

@Suite struct TransportTripTests {
    static func worker(_ poor: Bool) -> TransportTrip.Worker {
        TransportTrip.Worker(personID: UUID(), name: "杨明", householdID: UUID(), poor: poor, certificateNumber: "N")
    }

    static func start(workers: [TransportTrip.Worker] = [worker(true), worker(false), worker(false)], province: String = "广东") -> TransportTrip.Start {
        TransportTrip.Start(unitPath: Fixture.village1, destination: .init(province: province, city: "东莞", employer: "电子厂"),
                            departureDate: Fixture.t0.plus(days: 1), vehiclePlate: "川Q12345", driverName: "司机",
                            driverPhone: nil, workers: workers, policy: .builtIn)
    }

    @Test func filedByAnOfficialApprovedByTheChiefThenDepartsAndArrives() throws {
        let started = try TransportTrip.start(Self.start(), id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        var trip = started.0
        let effect = started.1
        #expect(effect.payload["poor_household_workers"] == .int(1))
        #expect(trip.requiredScope == .outOfProvince)
        #expect(trip.projection.pendingRole == .chiefLeader)
        expectRefused(&trip, .approve(note: nil), by: Fixture.branchSecretary, at: Fixture.t0, .forbiddenRole)
        expectRefused(&trip, .depart(boarded: 3), by: Fixture.branchSecretary, at: Fixture.t0, .invalidTransition)
        _ = try trip.handle(.approve(note: nil), by: Fixture.chiefLeader, at: Fixture.t0)
        expectRefused(&trip, .depart(boarded: 4), by: Fixture.branchSecretary, at: Fixture.t0, .invalidValue)
        expectRefused(&trip, .depart(boarded: 0), by: Fixture.branchSecretary, at: Fixture.t0, .invalidValue)
        _ = try trip.handle(.depart(boarded: 3), by: Fixture.branchSecretary, at: Fixture.t0)
        expectRefused(&trip, .cancel(reason: "x"), by: Fixture.branchSecretary, at: Fixture.t0, .invalidTransition)
        _ = try trip.handle(.arrive(note: nil), by: Fixture.villageLeader, at: Fixture.t0)
        #expect(trip.state == .arrived)
        #expect(trip.boarded == 3)
    }

    @Test func rosterAndOrganiserAreChecked() {
        expectError(.invalidValue) { () throws(SignoffError) in
            try TransportTrip.start(Self.start(workers: []), id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        }
        let twice = Self.worker(false)
        expectError(.invalidValue) { () throws(SignoffError) in
            try TransportTrip.start(Self.start(workers: [twice, twice]), id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        }
        expectError(.forbiddenRole) { () throws(SignoffError) in
            try TransportTrip.start(Self.start(), id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        }
        expectError(.outOfJurisdiction) { () throws(SignoffError) in
            try TransportTrip.start(Self.start(), id: UUID(), by: Fixture.foreignSecretary, at: Fixture.t0)
        }
    }

    @Test func rejectAndCancelNeedReasons() throws {
        var (trip, _) = try TransportTrip.start(Self.start(), id: UUID(), by: Fixture.branchSecretary, at: Fixture.t0)
        expectRefused(&trip, .reject(reason: nil), by: Fixture.chiefLeader, at: Fixture.t0, .reasonRequired)
        expectRefused(&trip, .cancel(reason: ""), by: Fixture.branchSecretary, at: Fixture.t0, .reasonRequired)
        _ = try trip.handle(.reject(reason: "车辆不合格"), by: Fixture.chiefLeader, at: Fixture.t0)
        #expect(trip.state == .rejected)
        #expect(trip.rejectReason == "车辆不合格")
    }
}

@Suite struct WorkerPolicyTests {
    @Test func theCommittedFileLoadsAsTheBuiltInRules() throws {
        let text = try String(contentsOf: RepoPaths.workflows.appendingPathComponent("workers.yaml"), encoding: .utf8)
        #expect(try WorkerPolicy.load(yaml: text) == .builtIn)
    }

    @Test func mistakesNameTheirLine() {
        let unknown = expectError(.policyInvalid) { () throws(SignoffError) in
            try WorkerPolicy.load(yaml: "version: v1\ncertificate_validity_days: 90\nhome_province_names: [四川]\nactivation_code_validity_hours: 72\nextra: 1\n")
        }
        #expect(unknown?.extra["line"] == .int(5))
        let negative = expectError(.policyInvalid) { () throws(SignoffError) in
            try WorkerPolicy.load(yaml: "version: v1\ncertificate_validity_days: 0\nhome_province_names: [四川]\nactivation_code_validity_hours: 72\n")
        }
        #expect(negative?.extra["line"] == .int(2))
        let repeated = expectError(.policyInvalid) { () throws(SignoffError) in
            try WorkerPolicy.load(yaml: "version: v1\ncertificate_validity_days: 9\nhome_province_names:\n  - 四川\n  - 四川\nactivation_code_validity_hours: 72\n")
        }
        #expect(repeated?.extra["line"] == .int(5))
    }
}
