import Foundation
import Testing

@testable import SignoffCore

/// A small Lianhe: two villages, a few groups and grids, and one user per role.
enum Fixture {
    static let township = path("lianhe")
    static let village1 = path("lianhe.v01")
    static let village2 = path("lianhe.v02")
    static let group1 = path("lianhe.v01.g01")
    static let group2 = path("lianhe.v01.g02")
    static let grid1 = path("lianhe.v01.g01.w01")
    static let grid2 = path("lianhe.v01.g01.w02")
    static let gridOfVillage2 = path("lianhe.v02.g01.w01")

    static let gridWorker = actor("网格员 张三", (.gridWorker, grid1))
    static let otherGridWorker = actor("网格员 李四", (.gridWorker, grid1))
    static let groupLeader = actor("组长 王五", (.groupLeader, group1))
    static let branchSecretary = actor("支部书记 赵六", (.branchSecretary, village1))
    static let villageLeader = actor("驻村领导 钱七", (.villageLeader, village1))
    static let chiefLeader = actor("主要领导 孙八", (.chiefLeader, township))
    /// The five signers of `grid1`, in chain order.
    static let chain = [gridWorker, groupLeader, branchSecretary, villageLeader, chiefLeader]

    static let foreignGroupLeader = actor("组长 (二组)", (.groupLeader, group2))
    static let foreignSecretary = actor("支部书记 (二村)", (.branchSecretary, village2))
    static let foreignGridWorker = actor("网格员 (二村)", (.gridWorker, gridOfVillage2))
    static let healthOfficer = actor("卫生院 周九", (.healthOfficer, township))
    static let admin = actor("办公室 吴十", (.admin, township))
    /// Holds two chain roles here: group leader and branch secretary.
    static let doubleHatted = actor("组长兼书记 郑十一", (.groupLeader, group1), (.branchSecretary, village1))

    /// 2020-02-10 08:00 in Lianhe (00:00 UTC).
    static let t0 = Date(timeIntervalSince1970: 1_581_292_800)

    static let vehicleID = UUID(uuidString: "0E000000-0000-0000-0000-00000000000A")!
    static let pledgeID = UUID(uuidString: "0E000000-0000-0000-0000-00000000000B")!
    static let applicationID = UUID(uuidString: "1A2B3C4D-0000-0000-0000-00000000000C")!
    static let ownerID = UUID(uuidString: "0E000000-0000-0000-0000-00000000000D")!
    static let householdID = UUID(uuidString: "0E000000-0000-0000-0000-00000000000E")!

    static func policy(
        version: String = "test-v1",
        clearanceDays: Int = 14,
        restarts: Bool = true,
        limits: [Int] = [24, 24, 24, 48, 48]
    ) -> VehiclePolicy {
        let roles: [Role] = [.gridWorker, .groupLeader, .branchSecretary, .villageLeader, .chiefLeader]
        let chain = zip(roles, limits).enumerated().map { VehiclePolicy.Level(level: $0 + 1, role: $1.0, limitHours: $1.1) }
        do {
            return try VehiclePolicy(version: version, clearanceDays: clearanceDays, violationRestartsClock: restarts,
                                     chain: chain, passValidityDays: 30, agriculturalPassValidityDays: 20)
        } catch {
            fatalError("fixture policy is valid: \(error)")  // the arguments above are fixed and valid
        }
    }

    static func path(_ text: String) -> UnitPath {
        UnitPath(labels: text.split(separator: ".").map(String.init))
    }

    static func actor(_ name: String, _ roles: (Role, UnitPath)...) -> Principal {
        Principal(userID: UUID(), displayName: name,
              assignments: roles.map { RoleAssignment(role: $0.0, unitID: unitID($0.1), unitPath: $0.1) })
    }

    /// A stable id per unit, so assignments of one unit agree.
    static func unitID(_ path: UnitPath) -> UUID {
        let digits = String(path.description.unicodeScalars.reduce(UInt64(14_695_981_039_346_656_037)) {
            ($0 ^ UInt64($1.value)) &* 1_099_511_628_211
        }, radix: 16)
        let padded = String(repeating: "0", count: 32 - digits.count) + digits
        let hex = Array(padded)
        let text = "\(String(hex[0..<8]))-\(String(hex[8..<12]))-\(String(hex[12..<16]))-\(String(hex[16..<20]))-\(String(hex[20..<32]))"
        return UUID(uuidString: text)!  // 32 hex digits always form a UUID
    }
}

extension Date {
    func plus(days: Double = 0, hours: Double = 0) -> Date {
        self.addingTimeInterval(days * 86_400 + hours * 3_600)
    }
}

/// Expects `body` to throw a `SignoffError` with `code` and returns it.
@discardableResult
func expectError<T>(
    _ code: SignoffError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(SignoffError) -> T
) -> SignoffError? {
    do {
        _ = try body()
        Issue.record("Expected \(code), but it succeeded.", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.code == code, "\(String(reflecting: error))", sourceLocation: sourceLocation)
        return error
    }
}

/// Expects a command to be refused with `code` and to leave the machine exactly as it was.
@discardableResult
func expectRefused<M: AuditedMachine>(
    _ machine: inout M, _ command: M.Command, by actor: Principal, at now: Date, _ code: SignoffError.Code,
    sourceLocation: SourceLocation = #_sourceLocation
) -> SignoffError? {
    let before = snapshot(machine)
    let error = expectError(code, sourceLocation: sourceLocation) { () throws(SignoffError) in
        try machine.handle(command, by: actor, at: now)
    }
    #expect(snapshot(machine) == before, "a refused command changed the machine", sourceLocation: sourceLocation)
    return error
}

/// The machine as stored, for "nothing changed" comparisons.
func snapshot(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.dateEncodingStrategy = .secondsSince1970
    do {
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
        Issue.record("machine does not encode: \(error)")
        return ""
    }
}
