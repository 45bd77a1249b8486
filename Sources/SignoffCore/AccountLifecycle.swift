import Foundation

/// The life of a user account: active → suspended → reactivated (active again), or closed.
///
/// A suspended or closed account cannot log in and its tokens stop working.
public struct AccountLifecycle: AuditedMachine {
    public enum State: String, Sendable, Codable, Equatable {
        case active
        case suspended
        case closed
    }

    public struct Start: Sendable {
        public var username: String
        /// The unit whose administrators manage this account.
        public var homePath: UnitPath
        /// A migrant worker's own account 务工人员, which the grid worker of their grid may create.
        public var isWorkerAccount: Bool
        /// Why the account is made (the web asks for one), kept in the audit.
        public var reason: String?

        public init(username: String, homePath: UnitPath, isWorkerAccount: Bool = false, reason: String? = nil) {
            self.username = username
            self.homePath = homePath
            self.isWorkerAccount = isWorkerAccount
            self.reason = reason
        }
    }

    public enum Command: Sendable, Equatable {
        case suspend(reason: String?)
        case reactivate(reason: String?)
        case close(reason: String?)
    }

    public static let kind = "account"

    public private(set) var state: State
    public let userID: UUID
    public let username: String
    public let homePath: UnitPath
    /// How many times the account was reactivated, shown to administrators.
    public private(set) var reactivations: Int

    public var stateName: String { self.state.rawValue }

    public var projection: Projection {
        Projection(unitPath: self.homePath, subjectRef: self.userID)
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = start.isWorkerAccount
            ? try actor.assignment(asAnyOf: [.gridWorker, .admin], covering: start.homePath)
            : try Self.administrator(actor, for: start.homePath)
        let machine = AccountLifecycle(state: .active, userID: id, username: start.username, homePath: start.homePath, reactivations: 0)
        return (machine, Effect(event: "create", actingAs: acting, reason: start.reason?.trimmedReason, payload: ["username": .string(start.username)]))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .suspend(let reason): try self.suspend(by: actor, reason: reason)
        case .reactivate(let reason): try self.reactivate(by: actor, reason: reason)
        case .close(let reason): try self.close(by: actor, reason: reason)
        }
    }

    public mutating func suspend(by actor: Principal, reason: String?) throws(SignoffError) -> Effect {
        let acting = try Self.administrator(actor, for: self.homePath)
        guard actor.userID != self.userID else {
            throw SignoffError(.invalidValue, "Administrators cannot suspend their own account.")
        }
        let reason = try requireReason(reason)
        guard self.state == .active else { throw .invalidTransition("suspend", from: self.stateName) }
        self.state = .suspended
        return Effect(event: "suspend", actingAs: acting, reason: reason)
    }

    public mutating func reactivate(by actor: Principal, reason: String?) throws(SignoffError) -> Effect {
        let acting = try Self.administrator(actor, for: self.homePath)
        guard self.state == .suspended else { throw .invalidTransition("reactivate", from: self.stateName) }
        self.state = .active
        self.reactivations += 1
        return Effect(event: "reactivate", actingAs: acting, reason: reason?.trimmedReason,
                      payload: ["reactivations": .int(self.reactivations)])
    }

    public mutating func close(by actor: Principal, reason: String?) throws(SignoffError) -> Effect {
        let acting = try Self.administrator(actor, for: self.homePath)
        guard actor.userID != self.userID else {
            throw SignoffError(.invalidValue, "Administrators cannot close their own account.")
        }
        let reason = try requireReason(reason)
        guard self.state != .closed else { throw .invalidTransition("close", from: self.stateName) }
        self.state = .closed
        return Effect(event: "close", actingAs: acting, reason: reason)
    }

    private static func administrator(_ actor: Principal, for path: UnitPath) throws(SignoffError) -> RoleAssignment {
        try actor.assignment(as: .admin, covering: path)
    }

    private init(state: State, userID: UUID, username: String, homePath: UnitPath, reactivations: Int) {
        self.state = state
        self.userID = userID
        self.username = username
        self.homePath = homePath
        self.reactivations = reactivations
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case userID = "user_id"
        case username
        case homePath = "home_path"
        case reactivations
    }
}
