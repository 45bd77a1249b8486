import Foundation
import SignoffCore

/// An agricultural vehicle pass 农用车通行证明, shown expired once past its validity.
struct AgriculturalPassView: Encodable {
    var id: UUID
    var householdId: UUID
    var status: String
    var statusText: String
    var version: Int
    var vehicle: String
    var plate: String?
    var purpose: String
    var route: String
    var policyVersion: String
    var requestedAt: Date
    var serialNumber: String?
    var issuedAt: Date?
    var validUntil: Date?
    var closedReason: String?

    static let statusTexts: [AgriculturalPass.DisplayStatus: String] = [
        .requested: "待开具 requested", .issued: "有效 issued", .expired: "已过期 expired",
        .refused: "不予开具 refused", .revoked: "已撤销 revoked",
    ]

    init(_ pass: AgriculturalPass, version: Int, now: Date) {
        let status = pass.displayStatus(at: now)
        self.id = pass.passID
        self.householdId = pass.householdID
        self.status = status.rawValue
        self.statusText = Self.statusTexts[status] ?? status.rawValue
        self.version = version
        self.vehicle = pass.vehicleDescription
        self.plate = pass.plate
        self.purpose = pass.purpose
        self.route = pass.route
        self.policyVersion = pass.policyVersion
        self.requestedAt = pass.requestedAt
        self.serialNumber = pass.serialNumber
        self.issuedAt = pass.issuedAt
        self.validUntil = pass.validUntil
        self.closedReason = pass.closedReason
    }
}
