import Foundation
import Testing

@testable import SignoffCore

/// The stored form is a contract: what `instances.state` holds for each machine in each state
/// is frozen in `Fixtures/stored/<kind>/v<schemaVersion>/<state>.json`.
///
/// - Each scenario drives the real machine, with fixed ids and times, into one state; its
///   encoding must equal the fixture. Renaming a stored field, adding or dropping one, or
///   changing a shape fails here until the form's `schemaVersion` is raised, new fixtures are
///   written and a migration converts the rows.
/// - Each fixture must decode into its machine and encode back to the same document, so what
///   older rows hold stays readable.
/// - Every state of every machine has a fixture, and every stored property is listed in its
///   type's `CodingKeys` (a property left out would silently not be stored).
///
/// `SIGNOFF_WRITE_FIXTURES=1 swift test --filter GoldenStoredForm` writes the fixtures of the
/// current form; review the diff, as it is a change of the contract.
@Suite struct GoldenStoredFormTests {
    static let folder = RepoPaths.root.appendingPathComponent("Tests/SignoffCoreTests/Fixtures/stored")

    @Test(arguments: GoldenScenarios.all.map(\.name))
    func theScenarioEncodesToItsFixture(_ name: String) throws {
        let scenario = try #require(GoldenScenarios.all.first { $0.name == name })
        let produced = try scenario.encode()
        let url = Self.folder.appendingPathComponent(scenario.path)
        if ProcessInfo.processInfo.environment["SIGNOFF_WRITE_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (Self.pretty(produced) + "\n").write(to: url, atomically: true, encoding: .utf8)
        }
        let fixture = try Data(contentsOf: url)
        let shown = (try? Self.pretty(produced)) ?? ""
        #expect(try Self.canonical(produced) == Self.canonical(fixture),
                "\(scenario.path) differs from what the machine now stores:\n\(shown)")
        #expect(scenario.stateName == url.deletingPathExtension().lastPathComponent)
    }

    @Test(arguments: GoldenScenarios.all.map(\.name))
    func theFixtureDecodesAndEncodesBackUnchanged(_ name: String) throws {
        let scenario = try #require(GoldenScenarios.all.first { $0.name == name })
        let fixture = try Data(contentsOf: Self.folder.appendingPathComponent(scenario.path))
        let roundTripped = try scenario.roundTrip(fixture)
        #expect(try Self.canonical(roundTripped) == Self.canonical(fixture))
    }

    @Test func everyStateOfEveryMachineHasAFixture() throws {
        for machine in GoldenScenarios.machines {
            for state in machine.states {
                let path = "\(machine.kind)/v\(machine.schemaVersion)/\(state).json"
                #expect(FileManager.default.fileExists(atPath: Self.folder.appendingPathComponent(path).path),
                        "no golden fixture \(path)")
                #expect(GoldenScenarios.all.contains { $0.path == path }, "no scenario for \(path)")
            }
        }
    }

    @Test func theKeysAreSnakeCaseAndCoverEveryStoredProperty() throws {
        for check in GoldenScenarios.keyChecks + GoldenScenarios.visitKeyChecks {
            #expect(check.missing.isEmpty, "\(check.type): stored properties not in CodingKeys: \(check.missing)")
            for key in check.keys {
                #expect(key.range(of: "^[a-z][a-z0-9]*(_[a-z0-9]+)*$", options: .regularExpression) != nil,
                        "\(check.type).\(key) is not snake_case")
            }
        }
        #expect(GoldenScenarios.keyChecks.count >= 20)
        #expect(GoldenScenarios.visitKeyChecks.count == 4)
    }

    @Test func aRenamedFieldIsRefused() throws {
        // What happens to an old row when a field's stored name changes: it no longer decodes.
        let scenario = try #require(GoldenScenarios.all.first { $0.path == "vehicle_pass/v1/effective.json" })
        let fixture = try String(decoding: Data(contentsOf: Self.folder.appendingPathComponent(scenario.path)), as: UTF8.self)
        #expect(fixture.contains("\"pass_number\""))
        let renamed = Data(fixture.replacingOccurrences(of: "\"pass_number\"", with: "\"passNumber\"").utf8)
        #expect(try Self.canonical(scenario.roundTrip(renamed)) != Self.canonical(Data(fixture.utf8)))
        let broken = Data(fixture.replacingOccurrences(of: "\"applied_at\"", with: "\"appliedAt\"").utf8)
        #expect(throws: DecodingError.self) { try scenario.roundTrip(broken) }
    }

    static func canonical(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    static func pretty(_ data: Data) throws -> String {
        let object = try JSONSerialization.jsonObject(with: data)
        let out = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: out, as: UTF8.self)
    }
}

/// One machine driven into one state.
struct GoldenScenario: Sendable {
    var kind: String
    var schemaVersion: Int
    var stateName: String
    var encode: @Sendable () throws -> Data
    var roundTrip: @Sendable (Data) throws -> Data

    var path: String { "\(self.kind)/v\(self.schemaVersion)/\(self.stateName).json" }
    var name: String { self.path }

    init<Machine: AuditedMachine>(_ build: @escaping @Sendable () throws -> Machine) {
        // The build is pure and deterministic, so running it here and again in `encode` agrees.
        let machine = Result { try build() }
        self.kind = Machine.kind
        self.schemaVersion = Machine.schemaVersion
        self.stateName = (try? machine.get().stateName) ?? "unbuildable"
        self.encode = { try StoredForm.encoder().encode(try build()) }
        self.roundTrip = { data in try StoredForm.encoder().encode(try StoredForm.decoder().decode(Machine.self, from: data)) }
    }
}

/// The coverage of one stored type's `CodingKeys`.
struct KeyCheck: Sendable {
    var type: String
    var keys: [String]
    var missing: [String]

    init<Value, Keys: CodingKey & CaseIterable & RawRepresentable>(_ value: Value, _ keys: Keys.Type) where Keys.RawValue == String {
        self.type = String(describing: Value.self)
        self.keys = Keys.allCases.map(\.rawValue)
        // Every stored property has a key: as many keys as properties, and each property's
        // snake_case name among them (a renamed Swift property may keep its stored name, so a
        // name is only reported when the counts differ too).
        let labels = Mirror(reflecting: value).children.compactMap(\.label)
        let stored = Set(self.keys)
        let unmatched = labels.filter { !stored.contains(Self.snake($0)) }
        self.missing = labels.count == self.keys.count ? [] : (unmatched.isEmpty ? ["\(labels.count) properties, \(self.keys.count) keys"] : unmatched)
    }
}

extension KeyCheck {
    static func snake(_ name: String) -> String {
        name.replacingOccurrences(of: "([a-z0-9])([A-Z])", with: "$1_$2", options: .regularExpression).lowercased()
    }
}

enum GoldenScenarios {
    struct Machine {
        var kind: String
        var schemaVersion: Int
        var states: [String]
    }

    static let machines: [Machine] = [
        .init(kind: PassApplication.kind, schemaVersion: PassApplication.schemaVersion, states: PassApplication.State.allCases.map(\.rawValue)),
        .init(kind: ParkingPledge.kind, schemaVersion: ParkingPledge.schemaVersion, states: ParkingPledge.State.allCases.map(\.rawValue)),
        .init(kind: KeyCustody.kind, schemaVersion: KeyCustody.schemaVersion, states: KeyCustody.State.allCases.map(\.rawValue)),
        .init(kind: AgriculturalPass.kind, schemaVersion: AgriculturalPass.schemaVersion, states: AgriculturalPass.State.allCases.map(\.rawValue)),
        .init(kind: AccountLifecycle.kind, schemaVersion: AccountLifecycle.schemaVersion, states: ["active", "suspended", "closed"]),
        .init(kind: CertificateRequest.kind, schemaVersion: CertificateRequest.schemaVersion, states: CertificateRequest.State.allCases.map(\.rawValue)),
        .init(kind: TransportTrip.kind, schemaVersion: TransportTrip.schemaVersion, states: TransportTrip.State.allCases.map(\.rawValue)),
        .init(kind: ReturneeIsolation.kind, schemaVersion: ReturneeIsolation.schemaVersion, states: ReturneeIsolation.State.allCases.map(\.rawValue)),
        .init(kind: Delegation.kind, schemaVersion: Delegation.schemaVersion, states: Delegation.State.allCases.map(\.rawValue)),
        .init(kind: CheckpointCheck.kind, schemaVersion: CheckpointCheck.schemaVersion, states: CheckpointCheck.State.allCases.map(\.rawValue)),
        .init(kind: HouseholdVisit.kind, schemaVersion: HouseholdVisit.schemaVersion, states: HouseholdVisit.State.allCases.map(\.rawValue)),
        .init(kind: HouseholdLedger.kind, schemaVersion: HouseholdLedger.schemaVersion, states: HouseholdLedger.State.allCases.map(\.rawValue)),
    ]

    // MARK: Fixed people and times

    static func id(_ n: Int) -> UUID { UUID(uuidString: String(format: "60000000-0000-0000-0000-%012d", n))! }

    static func person(_ n: Int, _ name: String, _ role: Role, _ path: UnitPath, personID: UUID? = nil) -> Principal {
        Principal(userID: id(n), displayName: name,
              assignments: [RoleAssignment(role: role, unitID: Fixture.unitID(path), unitPath: path)], personID: personID)
    }

    static let gridWorker = person(1, "网格员 张三", .gridWorker, Fixture.grid1)
    static let groupLeader = person(2, "组长 王五", .groupLeader, Fixture.group1)
    static let secretary = person(3, "支部书记 赵六", .branchSecretary, Fixture.village1)
    static let stationed = person(4, "驻村领导 钱七", .villageLeader, Fixture.village1)
    static let chief = person(5, "主要领导 孙八", .chiefLeader, Fixture.township)
    static let health = person(6, "卫生院 周九", .healthOfficer, Fixture.township)
    static let admin = person(7, "办公室 吴十", .admin, Fixture.township)
    static let worker = person(8, "务工人员 杨明", .worker, Fixture.grid1, personID: id(108))
    static let chain = [gridWorker, groupLeader, secretary, stationed, chief]
    static let t0 = Fixture.t0
    static let cleared = Fixture.t0.plus(days: 14)

    // MARK: Scenarios

    static let all: [GoldenScenario] = passes + pledges + keys + agricultural + accounts + certificates + trips + returnees
        + delegations + checks + visits + ledgers

    static let checkedCredential = CheckpointCheck.CheckedCredential(
        kind: .healthCertificate, number: "LH-JK-2020-00001", subject: "杨*明", validUntil: t0.plus(days: 90), keyID: "0123abcd",
        verdict: "valid")

    static func newCheck(_ decision: CheckpointCheck.Decision, credential: CheckpointCheck.CheckedCredential?) throws -> CheckpointCheck {
        let start = CheckpointCheck.Start(
            checkpoint: "daxueshan", direction: decision == .release ? .leaving : .entering, subject: decision == .release ? "杨*明" : "云C12345",
            decision: decision, credential: credential, note: decision == .release ? "外出务工" : nil, checkedAt: t0.plus(hours: 1),
            onDuty: [CheckpointCheck.OnDuty(userID: chief.userID, name: chief.displayName)], policy: .builtIn,
            townshipPath: Fixture.township)
        return try CheckpointCheck.start(start, id: id(1000), by: stationed, at: t0.plus(hours: 2)).0
    }

    static let checks: [GoldenScenario] = [
        GoldenScenario { try newCheck(.release, credential: checkedCredential) },
        GoldenScenario { try newCheck(.turnBack(reason: "outsider_no_reason"), credential: nil) },
    ]

    static let deputy = person(9, "支部书记 副 刘一", .branchSecretary, Fixture.village1)

    static func newDelegation() throws -> Delegation {
        let start = Delegation.Start(number: 1, delegator: secretary, delegate: deputy, role: .branchSecretary,
                                     unitID: Fixture.unitID(Fixture.village1), from: t0, until: t0.plus(days: 3), reason: "外出开会")
        return try Delegation.start(start, id: id(900), by: secretary, at: t0).0
    }

    static let delegations: [GoldenScenario] = [
        GoldenScenario { try newDelegation() },
        GoldenScenario {
            var delegation = try newDelegation()
            _ = try delegation.handle(.revoke(reason: "已返回"), by: secretary, at: t0.plus(days: 1))
            return delegation
        },
    ]

    static func newApplication() throws -> PassApplication {
        let start = PassApplication.Start(vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, plate: try LicensePlate("川Q12345"),
                                          gridPath: Fixture.grid1, clearanceDueAt: cleared, policy: Fixture.policy())
        return try PassApplication.start(start, id: Fixture.applicationID, by: gridWorker, at: cleared).0
    }

    static let passes: [GoldenScenario] = [
        GoldenScenario {
            var app = try newApplication()
            _ = try app.handle(.sign(), by: gridWorker, at: cleared.plus(hours: 1))
            _ = try app.handle(.sign(), by: groupLeader, at: cleared.plus(hours: 2))
            return app
        },
        GoldenScenario {
            var app = try newApplication()
            _ = try app.handle(.sign(), by: gridWorker, at: cleared.plus(hours: 1))
            _ = try app.handle(.reject(reason: "承诺书签名不清", level: 2), by: groupLeader, at: cleared.plus(hours: 3))
            return app
        },
        GoldenScenario {
            var app = try newApplication()
            _ = try app.handle(.withdraw(reason: "车主决定暂不出行"), by: gridWorker, at: cleared.plus(hours: 1))
            return app
        },
        GoldenScenario {
            var app = try newApplication()
            for (index, signer) in chain.enumerated() {
                _ = try app.handle(.sign(), by: signer, at: cleared.plus(hours: Double(1 + index)))
            }
            _ = try app.handle(.revoke(reason: "车辆违规载客"), by: chief, at: cleared.plus(days: 2))
            return app
        },
        GoldenScenario {
            var app = try newApplication()
            _ = try app.handle(.sign(), by: gridWorker, at: cleared.plus(hours: 1))
            _ = try app.handle(.reject(reason: "承诺书签名不清"), by: groupLeader, at: cleared.plus(hours: 2))
            _ = try app.handle(.resubmit(clearanceDueAt: cleared, note: "已补签"), by: gridWorker, at: cleared.plus(hours: 3))
            for (index, signer) in chain.enumerated() {
                _ = try app.handle(.sign(), by: signer, at: cleared.plus(hours: Double(4 + index)))
            }
            return app
        },
    ]

    static func newPledge() throws -> ParkingPledge {
        let start = ParkingPledge.Start(vehicleID: Fixture.vehicleID, plate: "川Q12345", ownerPersonID: Fixture.ownerID,
                                        householdID: Fixture.householdID, parkingPlace: "村委会院坝", gridPath: Fixture.grid1,
                                        policy: Fixture.policy())
        return try ParkingPledge.start(start, id: Fixture.pledgeID, by: gridWorker, at: t0).0
    }

    static let pledges: [GoldenScenario] = [
        GoldenScenario {
            var pledge = try newPledge()
            _ = try pledge.handle(.recordViolation(note: "私自挪车"), by: gridWorker, at: t0.plus(days: 3))
            return pledge
        },
        GoldenScenario {
            var pledge = try newPledge()
            _ = try pledge.handle(.release(passID: Fixture.applicationID), by: .system, at: cleared.plus(hours: 9))
            return pledge
        },
    ]

    static let clerk = KeyCustody.Custodian(userID: gridWorker.userID, name: "网格员 张三")
    static let office = KeyCustody.Custodian(userID: nil, name: "村委会办公室")

    static func newCustody(_ opening: KeyCustody.Start.Opening) throws -> KeyCustody {
        let start = KeyCustody.Start(vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, ownerPersonID: Fixture.ownerID,
                                     householdID: Fixture.householdID, gridPath: Fixture.grid1, opening: opening)
        return try KeyCustody.start(start, id: id(200), by: gridWorker, at: t0).0
    }

    static let keys: [GoldenScenario] = [
        GoldenScenario {
            var custody = try newCustody(.deposit(.init(custodian: clerk, receiptNumber: "KY-0012", storagePlace: "村委会保险柜")))
            _ = try custody.handle(.transfer(to: office, storagePlace: "村委会办公室", receiptNumber: "KY-0013"), by: gridWorker, at: t0.plus(days: 1))
            return custody
        },
        GoldenScenario { try newCustody(.decline(note: "车主外出，钥匙随身")) },
        GoldenScenario {
            var custody = try newCustody(.deposit(.init(custodian: clerk, receiptNumber: "KY-0012", storagePlace: "村委会保险柜")))
            _ = try custody.handle(.returnToOwner(passEffective: true, pledgeReleased: true), by: gridWorker, at: cleared.plus(hours: 10))
            return custody
        },
    ]

    static func newAgriculturalPass() throws -> AgriculturalPass {
        let start = AgriculturalPass.Start(householdID: Fixture.householdID, gridPath: Fixture.grid1, vehicleDescription: "三轮农用车",
                                           plate: nil, purpose: "春耕运输化肥", route: "一组 → 乡农资站", policy: Fixture.policy())
        return try AgriculturalPass.start(start, id: id(300), by: gridWorker, at: t0).0
    }

    static let agricultural: [GoldenScenario] = [
        GoldenScenario { try newAgriculturalPass() },
        GoldenScenario {
            var pass = try newAgriculturalPass()
            _ = try pass.handle(.issue(serialNumber: "LH-NY-2020-0001"), by: secretary, at: t0.plus(hours: 2))
            return pass
        },
        GoldenScenario {
            var pass = try newAgriculturalPass()
            _ = try pass.handle(.refuse(reason: "非农用车辆"), by: secretary, at: t0.plus(hours: 2))
            return pass
        },
        GoldenScenario {
            var pass = try newAgriculturalPass()
            _ = try pass.handle(.issue(serialNumber: "LH-NY-2020-0002"), by: secretary, at: t0.plus(hours: 2))
            _ = try pass.handle(.revoke(reason: "用于非农运输"), by: secretary, at: t0.plus(days: 2))
            return pass
        },
    ]

    static func newAccount() throws -> AccountLifecycle {
        try AccountLifecycle.start(.init(username: "gw_zhangsan", homePath: Fixture.grid1), id: id(400), by: admin, at: t0).0
    }

    static let accounts: [GoldenScenario] = [
        GoldenScenario {
            var account = try newAccount()
            _ = try account.handle(.suspend(reason: "调岗"), by: admin, at: t0.plus(days: 1))
            _ = try account.handle(.reactivate(reason: "返岗"), by: admin, at: t0.plus(days: 2))
            return account
        },
        GoldenScenario {
            var account = try newAccount()
            _ = try account.handle(.suspend(reason: "调岗"), by: admin, at: t0.plus(days: 1))
            return account
        },
        GoldenScenario {
            var account = try newAccount()
            _ = try account.handle(.close(reason: "离职"), by: admin, at: t0.plus(days: 1))
            return account
        },
    ]

    static func newLedger() throws -> HouseholdLedger {
        try HouseholdLedger.start(.init(householdID: Fixture.householdID, gridPath: Fixture.grid1, infractionTotal: 5, entryCount: 1),
                                  id: Fixture.householdID, by: .system, at: t0).0
    }

    static let ledgers: [GoldenScenario] = [
        GoldenScenario {
            var ledger = try newLedger()
            let entry = InfractionEntry(
                id: id(950), householdID: Fixture.householdID, personID: nil, gridPath: Fixture.grid1, kind: .noIsolationBarrier,
                points: 5, note: nil, sourceKey: nil, recordedAt: t0.plus(days: 1), recordedBy: gridWorker.userID,
                recordedByName: gridWorker.displayName, policyVersion: "2020-02-v1")
            _ = try ledger.handle(.recordInfraction(entry), by: gridWorker, at: t0.plus(days: 1))
            let credit = AutonomyCredit(
                id: id(951), householdID: Fixture.householdID, personID: nil, gridPath: Fixture.grid1, kind: .preventionWork,
                points: 2, note: "参与消毒", recordedAt: t0.plus(days: 2), recordedBy: gridWorker.userID,
                recordedByName: gridWorker.displayName, policyVersion: "2020-02-v1")
            _ = try ledger.handle(.recordCredit(credit), by: gridWorker, at: t0.plus(days: 2))
            return ledger
        },
    ]

    static func newCertificate() throws -> CertificateRequest {
        let start = CertificateRequest.Start(personID: id(108), householdID: Fixture.householdID, gridPath: Fixture.grid1,
                                             destination: .init(province: "广东", city: "东莞", employer: "电子厂"), policy: .builtIn)
        return try CertificateRequest.start(start, id: id(500), by: worker, at: t0).0
    }

    static let certificates: [GoldenScenario] = [
        GoldenScenario { try newCertificate() },
        GoldenScenario {
            var request = try newCertificate()
            _ = try request.handle(.verify(note: "身份属实"), by: gridWorker, at: t0.plus(hours: 1))
            return request
        },
        GoldenScenario {
            var request = try newCertificate()
            _ = try request.handle(.verify(note: nil), by: gridWorker, at: t0.plus(hours: 1))
            _ = try request.handle(.recordExam(.pass(certificateNumber: "LH-JK-2020-00001")), by: health, at: t0.plus(days: 1))
            return request
        },
        GoldenScenario {
            var request = try newCertificate()
            _ = try request.handle(.verify(note: nil), by: gridWorker, at: t0.plus(hours: 1))
            _ = try request.handle(.recordExam(.fail(reason: "体温异常")), by: health, at: t0.plus(days: 1))
            return request
        },
        GoldenScenario {
            var request = try newCertificate()
            _ = try request.handle(.cancel(reason: "不外出了"), by: worker, at: t0.plus(hours: 1))
            return request
        },
        GoldenScenario {
            var request = try newCertificate()
            _ = try request.handle(.verify(note: nil), by: gridWorker, at: t0.plus(hours: 1))
            _ = try request.handle(.recordExam(.pass(certificateNumber: "LH-JK-2020-00002")), by: health, at: t0.plus(days: 1))
            _ = try request.handle(.revoke(reason: "复查发现体温异常"), by: health, at: t0.plus(days: 2))
            return request
        },
    ]

    static func newTrip() throws -> TransportTrip {
        let workers = [
            TransportTrip.Worker(personID: id(601), name: "杨明", householdID: id(611), poor: true, certificateNumber: "LH-JK-2020-00001"),
            TransportTrip.Worker(personID: id(602), name: "龙华", householdID: id(612), poor: false, certificateNumber: "LH-JK-2020-00002"),
        ]
        let start = TransportTrip.Start(unitPath: Fixture.village1, destination: .init(province: "广东", city: "东莞", employer: "电子厂"),
                                        departureDate: t0.plus(days: 1), vehiclePlate: "川Q88888", driverName: "司机 陈师傅",
                                        driverPhone: "13800000000", workers: workers, policy: .builtIn)
        return try TransportTrip.start(start, id: id(600), by: secretary, at: t0).0
    }

    static let trips: [GoldenScenario] = [
        GoldenScenario { try newTrip() },
        GoldenScenario {
            var trip = try newTrip()
            _ = try trip.handle(.approve(note: "同意"), by: chief, at: t0.plus(hours: 2))
            return trip
        },
        GoldenScenario {
            var trip = try newTrip()
            _ = try trip.handle(.reject(reason: "车辆未消毒"), by: chief, at: t0.plus(hours: 2))
            return trip
        },
        GoldenScenario {
            var trip = try newTrip()
            _ = try trip.handle(.approve(note: nil), by: chief, at: t0.plus(hours: 2))
            _ = try trip.handle(.depart(boarded: 2), by: secretary, at: t0.plus(days: 1))
            return trip
        },
        GoldenScenario {
            var trip = try newTrip()
            _ = try trip.handle(.approve(note: nil), by: chief, at: t0.plus(hours: 2))
            _ = try trip.handle(.depart(boarded: 2), by: secretary, at: t0.plus(days: 1))
            _ = try trip.handle(.arrive(note: "已到东莞"), by: secretary, at: t0.plus(days: 2))
            return trip
        },
        GoldenScenario {
            var trip = try newTrip()
            _ = try trip.handle(.cancel(reason: "企业推迟复工"), by: secretary, at: t0.plus(hours: 2))
            return trip
        },
    ]

    static func newReturnee(_ province: String, infractions: [InfractionEntry] = []) throws -> ReturneeIsolation {
        let start = ReturneeIsolation.Start(personID: id(700), householdID: Fixture.householdID, gridPath: Fixture.grid1,
                                            fromProvince: province, fromCity: "成都", arrivedAt: t0, householdInfractions: infractions,
                                            policy: Fixture.isolationPolicy())
        return try ReturneeIsolation.start(start, id: id(701), by: gridWorker, at: t0).0
    }

    static let visit = InfractionEntry(id: id(702), householdID: Fixture.householdID, personID: nil, gridPath: Fixture.grid1,
                                       kind: .visitedOtherHousehold, points: 10, note: "串门", sourceKey: nil, recordedAt: t0,
                                       recordedBy: gridWorker.userID, recordedByName: gridWorker.displayName, policyVersion: "iso-test-v1")

    static let returnees: [GoldenScenario] = [
        GoldenScenario {
            var returnee = try newReturnee("四川")
            _ = try returnee.handle(.recordTemperature(celsius: 36.5, takenAt: t0.plus(hours: 2)), by: gridWorker, at: t0.plus(hours: 2))
            return returnee
        },
        GoldenScenario {
            var returnee = try newReturnee("湖北")
            _ = try returnee.handle(.recordTemperature(celsius: 38.2, takenAt: t0.plus(hours: 2)), by: gridWorker, at: t0.plus(hours: 2))
            return returnee
        },
        GoldenScenario { try newReturnee("四川", infractions: [visit]) },
        GoldenScenario {
            var returnee = try newReturnee("四川")
            _ = try returnee.handle(.recordTemperature(celsius: 38.0, takenAt: t0.plus(hours: 2)), by: gridWorker, at: t0.plus(hours: 2))
            _ = try returnee.handle(.handleFever(note: "复测正常"), by: health, at: t0.plus(hours: 4))
            _ = try returnee.handle(.release(note: "期满解除"), by: gridWorker, at: t0.plus(days: 15))
            return returnee
        },
    ]

    // MARK: Keys

    static var keyChecks: [KeyCheck] {
        guard let app = try? passes[4].encode(), let pass = try? StoredForm.decoder().decode(PassApplication.self, from: app),
              let round = pass.rounds.first, let rejection = round.rejection,
              let pledgeData = try? pledges[0].encode(), let pledge = try? StoredForm.decoder().decode(ParkingPledge.self, from: pledgeData),
              let custodyData = try? keys[0].encode(), let custody = try? StoredForm.decoder().decode(KeyCustody.self, from: custodyData),
              let agData = try? agricultural[1].encode(), let ag = try? StoredForm.decoder().decode(AgriculturalPass.self, from: agData),
              let accountData = try? accounts[0].encode(), let account = try? StoredForm.decoder().decode(AccountLifecycle.self, from: accountData),
              let certData = try? certificates[2].encode(), let cert = try? StoredForm.decoder().decode(CertificateRequest.self, from: certData),
              let tripData = try? trips[4].encode(), let trip = try? StoredForm.decoder().decode(TransportTrip.self, from: tripData),
              let retData = try? returnees[3].encode(), let ret = try? StoredForm.decoder().decode(ReturneeIsolation.self, from: retData),
              let reading = ret.readings.first, let fever = ret.feverReports.first,
              let delegation = try? newDelegation(), let ledger = try? newLedger(),
            let check = try? newCheck(.release, credential: checkedCredential)
        else { return [] }
        let policy = Fixture.isolationPolicy()
        let credit = AutonomyCredit(id: id(800), householdID: Fixture.householdID, personID: nil, gridPath: Fixture.grid1,
                                    kind: .preventionWork, points: 10, note: "参与值守", recordedAt: t0,
                                    recordedBy: gridWorker.userID, recordedByName: gridWorker.displayName, policyVersion: "iso-test-v1")
        return [
            KeyCheck(pass, PassApplication.CodingKeys.self),
            KeyCheck(round, PassApplication.Round.CodingKeys.self),
            KeyCheck(round.signatures[0], PassApplication.Signature.CodingKeys.self),
            KeyCheck(rejection, PassApplication.Rejection.CodingKeys.self),
            KeyCheck(pass.chain[0], VehiclePolicy.Level.CodingKeys.self),
            KeyCheck(Fixture.policy(), VehiclePolicy.CodingKeys.self),
            KeyCheck(pledge, ParkingPledge.CodingKeys.self),
            KeyCheck(pledge.violations[0], ParkingPledge.Violation.CodingKeys.self),
            KeyCheck(custody, KeyCustody.CodingKeys.self),
            KeyCheck(clerk, KeyCustody.Custodian.CodingKeys.self),
            KeyCheck(custody.history[0], KeyCustody.Movement.CodingKeys.self),
            KeyCheck(ag, AgriculturalPass.CodingKeys.self),
            KeyCheck(account, AccountLifecycle.CodingKeys.self),
            KeyCheck(cert, CertificateRequest.CodingKeys.self),
            KeyCheck(cert.destination, CertificateRequest.Destination.CodingKeys.self),
            KeyCheck(WorkerPolicy.builtIn, WorkerPolicy.CodingKeys.self),
            KeyCheck(trip, TransportTrip.CodingKeys.self),
            KeyCheck(trip.workers[0], TransportTrip.Worker.CodingKeys.self),
            KeyCheck(ret, ReturneeIsolation.CodingKeys.self),
            KeyCheck(reading, ReturneeIsolation.Reading.CodingKeys.self),
            KeyCheck(fever, ReturneeIsolation.FeverReport.CodingKeys.self),
            KeyCheck(visit, InfractionEntry.CodingKeys.self),
            KeyCheck(credit, AutonomyCredit.CodingKeys.self),
            KeyCheck(ledger, HouseholdLedger.CodingKeys.self),
            KeyCheck(policy, IsolationPolicy.CodingKeys.self),
            KeyCheck(policy.keyAreas[0], IsolationPolicy.KeyArea.CodingKeys.self),
            KeyCheck(DomainEvent(name: "n", key: "k", payload: [:]), DomainEvent.CodingKeys.self),
            KeyCheck(delegation, Delegation.CodingKeys.self),
            KeyCheck(Credential(kind: .vehiclePass, number: "通行证-2020-0000ABCD", subject: "川A12345", scope: "联合苗族乡", issuedAt: t0,
                                validFrom: t0, validUntil: t0.plus(days: 7), keyID: "0123abcd"), Credential.CodingKeys.self),
            KeyCheck(CredentialKey(keyID: "0123abcd", publicKey: "AAAA", notBefore: t0, notAfter: nil), CredentialKey.CodingKeys.self),
            KeyCheck(Delegation.Person(userID: id(1), name: "n"), Delegation.Person.CodingKeys.self),
            KeyCheck(check, CheckpointCheck.CodingKeys.self),
            KeyCheck(checkedCredential, CheckpointCheck.CheckedCredential.CodingKeys.self),
            KeyCheck(check.onDuty[0], CheckpointCheck.OnDuty.CodingKeys.self),
            KeyCheck(PassApplication.Reassignment(level: 3, to: .init(userID: id(9), name: "n"), toUnitPath: Fixture.village1,
                                                  by: .init(userID: id(7), name: "a"), reason: "逾期", at: t0),
                     PassApplication.Reassignment.CodingKeys.self),
        ]
    }
}
