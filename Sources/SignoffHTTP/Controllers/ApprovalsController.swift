import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// Inboxes: what waits for the signed-in signer, and everything pending for administrators.
struct ApprovalsController {
    let inbox: ApprovalInbox
    let organisation: OrganisationStore
    let clock: any WallClock

    struct ItemView: Encodable {
        var id: UUID
        var vehicleId: UUID
        var plate: String
        var unitPath: String
        var round: Int
        var pendingLevel: Int?
        var pendingRole: String?
        var pendingRoleName: String?
        var pendingSince: Date
        var dueAt: Date?
        var overdue: Bool
        var waitingHours: Int
        var policyVersion: String
        var version: Int
        /// In your inbox: set when you sign this for someone else (代 X 签) under a delegation;
        /// send its number as `delegation` when signing.
        var onBehalfOf: OnBehalfOf?
        var assignedToUserId: UUID?
        var assignedToName: String?

        struct OnBehalfOf: Encodable {
            var userId: UUID
            var name: String
            var delegationNumber: Int
        }

        init(_ item: PendingApplication, now: Date) {
            let level = item.application.pendingLevel
            self.id = item.id
            self.vehicleId = item.application.vehicleID
            self.plate = item.application.plate.text
            self.unitPath = item.unitPath.description
            self.round = item.application.rounds.count
            self.pendingLevel = level?.level
            self.pendingRole = level?.role.rawValue
            self.pendingRoleName = level?.role.chineseName
            self.pendingSince = item.pendingSince
            self.dueAt = item.dueAt
            self.overdue = item.dueAt.map { $0 < now } ?? false
            self.waitingHours = max(0, Int(now.timeIntervalSince(item.pendingSince) / 3_600))
            self.policyVersion = item.application.policyVersion
            self.version = item.version
            self.onBehalfOf = item.delegation.map {
                OnBehalfOf(userId: $0.delegator.userID, name: $0.delegator.name, delegationNumber: $0.number)
            }
            self.assignedToUserId = item.application.pendingReassignment?.to.userID
            self.assignedToName = item.application.pendingReassignment?.to.name
        }
    }

    struct PageView: Encodable {
        var items: [ItemView]
        var nextCursor: String?
    }

    struct SummaryView: Encodable {
        struct Level: Encodable {
            var level: Int
            var role: String
            var roleName: String
            var pending: Int
            var overdue: Int
        }

        struct Village: Encodable {
            var unitId: UUID?
            var name: String
            var path: String
            var pending: Int
            var overdue: Int
        }

        var scope: String
        var total: Int
        var overdue: Int
        var levels: [Level]
        var villages: [Village]
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("/approvals/pending") { request, context in
            let limit = try Self.limit(request)
            let page = try await self.inbox.pending(for: context.actor, cursor: Self.text(request, "cursor"), limit: limit)
            return try JSONBody.response(self.view(page))
        }
        group.get("/admin/pending") { request, context in
            let scope = try await self.scope(request, context.actor)
            let filter = PendingFilter(
                role: try Self.text(request, "role").map { text throws(SignoffError) in
                    guard let role = Role(rawValue: text), VehiclePolicy.signerRoles.contains(role) else {
                        throw SignoffError.invalidValue("role", "‘\(text)’ is not a signer role (grid_worker, group_leader, branch_secretary, village_leader, chief_leader).")
                    }
                    return role
                },
                level: try Self.int(request, "level", range: 1...20),
                unitPath: scope,
                minimumAge: try Self.int(request, "min_age_hours", range: 0...100_000).map { TimeInterval($0) * 3_600 },
                overdue: try Self.bool(request, "overdue"))
            let page = try await self.inbox.pending(in: scope, filter: filter, cursor: Self.text(request, "cursor"),
                                                    limit: try Self.limit(request))
            return try JSONBody.response(self.view(page))
        }
        group.get("/admin/pending/summary") { request, context in
            let scope = try await self.scope(request, context.actor)
            let summary = try await self.inbox.summary(in: scope)
            return try JSONBody.response(SummaryView(
                scope: scope.description,
                total: summary.levels.reduce(0) { $0 + $1.pending },
                overdue: summary.levels.reduce(0) { $0 + $1.overdue },
                levels: summary.levels.map {
                    .init(level: $0.level, role: $0.role.rawValue, roleName: $0.role.chineseName, pending: $0.pending, overdue: $0.overdue)
                },
                villages: summary.villages.map {
                    .init(unitId: $0.unitID, name: $0.name, path: $0.path.description, pending: $0.pending, overdue: $0.overdue)
                }))
        }
    }

    func view(_ page: PendingPage) -> PageView {
        let now = self.clock.now()
        return PageView(items: page.items.map { ItemView($0, now: now) }, nextCursor: page.nextCursor)
    }

    /// `?unit=<id>` (a subtree inside the administrator's own), else the administrator's widest unit.
    func scope(_ request: Request, _ actor: Principal) async throws -> UnitPath {
        if let text = Self.text(request, "unit") {
            guard let id = UUID(uuidString: text) else { throw SignoffError.invalidValue("unit", "‘unit’ is a unit id (UUID).") }
            let unit = try await self.organisation.database.withConnection { try await self.organisation.unit(id: id, on: $0) }
            _ = try actor.assignment(as: .admin, covering: unit.path)
            return unit.path
        }
        let scopes = actor.assignments.filter { $0.role == .admin }.map(\.unitPath)
        guard let widest = scopes.min(by: { $0.labels.count < $1.labels.count }) else {
            _ = try actor.assignment(as: .admin, covering: UnitPath(labels: []))
            throw SignoffError(.forbiddenRole, "This needs the role 乡政府办公室 (admin).")
        }
        return widest
    }

    static func text(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }

    static func int(_ request: Request, _ name: String, range: ClosedRange<Int>) throws(SignoffError) -> Int? {
        guard let text = Self.text(request, name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw SignoffError.invalidValue(name, "‘\(name)’ must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }

    static func bool(_ request: Request, _ name: String) throws(SignoffError) -> Bool? {
        guard let text = Self.text(request, name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw SignoffError.invalidValue(name, "‘\(name)’ is true or false.")
        }
    }

    static func limit(_ request: Request) throws(SignoffError) -> Int {
        try Self.int(request, "limit", range: 1...200) ?? 50
    }
}
