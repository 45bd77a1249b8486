import Foundation

/// One role held at one unit.
public struct RoleAssignment: Sendable, Hashable, Codable {
    public var role: Role
    public var unitID: UUID
    public var unitPath: UnitPath

    public init(role: Role, unitID: UUID, unitPath: UnitPath) {
        self.role = role
        self.unitID = unitID
        self.unitPath = unitPath
    }

    /// A role acts only inside the subtree of the unit it is held at.
    public func covers(_ path: UnitPath) -> Bool {
        self.unitPath.contains(path)
    }
}

/// Who is acting, with every role they hold at this moment. (Named so that it does not shadow
/// Swift's `Actor`.)
public struct Principal: Sendable, Hashable, Codable {
    public var userID: UUID
    public var displayName: String
    public var assignments: [RoleAssignment]
    /// The person record of a migrant worker account, if any.
    public var personID: UUID?

    public init(userID: UUID, displayName: String, assignments: [RoleAssignment], personID: UUID? = nil) {
        self.userID = userID
        self.displayName = displayName
        self.assignments = assignments
        self.personID = personID
    }

    public func holds(_ role: Role) -> Bool {
        self.assignments.contains { $0.role == role }
    }

    /// The assignment under which this actor may act as `role` on something at `path`.
    ///
    /// Throws `forbidden_role` when the actor does not hold the role at all and
    /// `out_of_jurisdiction` when they hold it only elsewhere.
    public func assignment(as role: Role, covering path: UnitPath) throws(SignoffError) -> RoleAssignment {
        try self.assignment(asAnyOf: [role], covering: path)
    }

    public func assignment(asAnyOf roles: [Role], covering path: UnitPath) throws(SignoffError) -> RoleAssignment {
        let held = self.assignments.filter { roles.contains($0.role) }
        guard !held.isEmpty else {
            let names = roles.map { "\($0.chineseName) (\($0.rawValue))" }.joined(separator: " or ")
            throw SignoffError(.forbiddenRole, "This needs the role \(names).",
                               extra: ["required_roles": .array(roles.map { .string($0.rawValue) })])
        }
        // The most specific assignment is recorded, so the audit names the nearest unit.
        guard let match = held.filter({ $0.covers(path) }).max(by: { $0.unitPath.labels.count < $1.unitPath.labels.count })
        else {
            throw SignoffError(.outOfJurisdiction, "This record lies outside the units where you hold that role.",
                               extra: ["unit_path": .string(path.description)])
        }
        return match
    }
}
