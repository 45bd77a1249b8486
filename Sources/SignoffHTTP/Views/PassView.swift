import Foundation
import SignoffCore

/// A travel pass 通行证 application with its whole chain: every round, who signed each
/// level, in which role, at which unit, and when.
struct PassView: Encodable {
    struct SignerView: Encodable {
        var level: Int
        var role: String
        var roleName: String
        var userId: UUID
        var name: String
        var unitId: UUID
        var unitPath: String
        var at: Date
        /// Set when a delegate signed for someone (代签): that person and the delegation's number.
        var onBehalfOfUserId: UUID?
        var onBehalfOfName: String?
        var delegationNumber: Int?

        init(_ signature: PassApplication.Signature) {
            self.level = signature.level
            self.role = signature.role.rawValue
            self.roleName = signature.role.chineseName
            self.userId = signature.userID
            self.name = signature.name
            self.unitId = signature.unitID
            self.unitPath = signature.unitPath.description
            self.at = signature.at
            self.onBehalfOfUserId = signature.onBehalfOf?.userID
            self.onBehalfOfName = signature.onBehalfOf?.name
            self.delegationNumber = signature.delegationNumber
        }
    }

    struct LevelView: Encodable {
        var level: Int
        var role: String
        var roleName: String
        var limitHours: Int
        var status: String
        var signer: SignerView?
        var reason: String?
        var pendingSince: Date?
        var dueAt: Date?
    }

    struct ReassignmentView: Encodable {
        var level: Int
        var toUserId: UUID
        var toName: String
        var byName: String
        var reason: String
        var at: Date
    }

    struct RejectionView: Encodable {
        var signer: SignerView
        var reason: String
    }

    struct RoundView: Encodable {
        var number: Int
        var startedAt: Date
        var startedBy: String
        var note: String?
        var signatures: [SignerView]
        var rejection: RejectionView?
        var reassignments: [ReassignmentView]
    }

    var id: UUID
    var vehicleId: UUID
    var pledgeId: UUID
    var plate: String
    var status: String
    var statusText: String
    var version: Int
    var policyVersion: String
    var appliedAt: Date
    var pendingLevel: Int?
    var pendingRole: String?
    var pendingSince: Date?
    var dueAt: Date?
    var overdue: Bool
    /// After a 转交: the one holder the pending level waits for.
    var assignedToUserId: UUID?
    var assignedToName: String?
    var chain: [LevelView]
    var rounds: [RoundView]
    var passNumber: String?
    var effectiveFrom: Date?
    var effectiveUntil: Date?
    var closedReason: String?

    init(_ application: PassApplication, version: Int, now: Date) {
        self.id = application.applicationID
        self.vehicleId = application.vehicleID
        self.pledgeId = application.pledgeID
        self.plate = application.plate.text
        self.status = application.displayStatus(at: now)
        self.statusText = application.isExpired(at: now) ? "已过期 expired" : PassApplication.describe(application.state)
        self.version = version
        self.policyVersion = application.policyVersion
        self.appliedAt = application.appliedAt
        self.pendingLevel = application.pendingLevel?.level
        self.pendingRole = application.pendingLevel?.role.rawValue
        self.pendingSince = application.pendingSince
        self.dueAt = application.pendingDueAt
        self.overdue = application.pendingDueAt.map { $0 < now } ?? false
        self.assignedToUserId = application.pendingReassignment?.to.userID
        self.assignedToName = application.pendingReassignment?.to.name
        self.chain = application.progress.map {
            LevelView(level: $0.level.level, role: $0.level.role.rawValue, roleName: $0.level.role.chineseName,
                      limitHours: $0.level.limitHours, status: $0.status.rawValue, signer: $0.signer.map(SignerView.init),
                      reason: $0.reason, pendingSince: $0.pendingSince, dueAt: $0.dueAt)
        }
        self.rounds = application.rounds.map {
            RoundView(number: $0.number, startedAt: $0.startedAt, startedBy: $0.startedByName, note: $0.note,
                      signatures: $0.signatures.map(SignerView.init),
                      rejection: $0.rejection.map { RejectionView(signer: SignerView($0.signer), reason: $0.reason) },
                      reassignments: ($0.reassignments ?? []).map {
                          ReassignmentView(level: $0.level, toUserId: $0.to.userID, toName: $0.to.name, byName: $0.by.name,
                                           reason: $0.reason, at: $0.at)
                      })
        }
        self.passNumber = application.passNumber
        self.effectiveFrom = application.effectiveFrom
        self.effectiveUntil = application.effectiveUntil
        self.closedReason = application.closedReason
    }
}
