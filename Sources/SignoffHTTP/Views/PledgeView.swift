import Foundation
import SignoffCore

/// A parking pledge 停放承诺书 as shown to officials.
struct PledgeView: Encodable {
    struct ViolationView: Encodable {
        var number: Int
        var at: Date
        var note: String
        var recordedBy: String
        var clearanceDueAfter: Date
    }

    var id: UUID
    var vehicleId: UUID
    var plate: String
    var status: String
    var statusText: String
    var version: Int
    var parkingPlace: String
    var parkedSince: Date
    var clearanceDueAt: Date
    var cleared: Bool
    var policyVersion: String
    var violations: [ViolationView]
    var releasedAt: Date?
    var releasedByPass: UUID?

    init(_ pledge: ParkingPledge, version: Int, now: Date) {
        self.id = pledge.pledgeID
        self.vehicleId = pledge.vehicleID
        self.plate = pledge.plate.text
        self.status = pledge.stateName
        self.statusText = ParkingPledge.describe(pledge.state)
        self.version = version
        self.parkingPlace = pledge.parkingPlace
        self.parkedSince = pledge.parkedSince
        self.clearanceDueAt = pledge.clearanceDueAt
        self.cleared = pledge.isCleared(at: now)
        self.policyVersion = pledge.policyVersion
        self.violations = pledge.violations.map {
            ViolationView(number: $0.number, at: $0.at, note: $0.note, recordedBy: $0.recordedByName, clearanceDueAfter: $0.clearanceDueAfter)
        }
        self.releasedAt = pledge.releasedAt
        self.releasedByPass = pledge.releasedByPass
    }
}
