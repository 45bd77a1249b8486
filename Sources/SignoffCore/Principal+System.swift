import Foundation

extension Principal {
    /// The reserved user id of the service itself.
    public static let systemUserID = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!  // a valid literal

    /// The service acting on a fact another workflow published (for example releasing a
    /// parking pledge once its pass is effective). It holds no role, so no user-facing
    /// path can act as it; commands reserved to it check `isSystem` and audit with no role.
    public static let system = Principal(userID: systemUserID, displayName: "系统 (system)", assignments: [])

    public var isSystem: Bool {
        self.userID == Self.systemUserID && self.assignments.isEmpty
    }

    /// Refuses anyone but the service itself.
    public func requireSystem(for event: String) throws(SignoffError) {
        guard self.isSystem else {
            throw SignoffError(.forbiddenRole, "‘\(event)’ is done by the service itself, not by a user.",
                               extra: ["required_roles": .array([]), "event": .string(event)])
        }
    }
}
