import Foundation

/// A typed state machine whose every transition is stored with an audit row.
///
/// A machine does no I/O, no logging and reads no clock: the store's one `apply` path
/// loads it, calls `start` or `handle` with the actor and the time, then writes the
/// new state (version-checked), the audit row and any emitted events in one transaction.
public protocol AuditedMachine: Sendable, Codable {
    /// What creating an instance needs.
    associatedtype Start: Sendable
    /// The events that move an existing instance.
    associatedtype Command: Sendable

    /// The stored kind, such as `account` or `vehicle_pass`. Never changes once data exists.
    static var kind: String { get }

    /// The version of the stored form (the JSON document's field names and shapes), kept in
    /// `instances.schema_version`. Raise it, with a migration, whenever the form changes; the
    /// golden fixtures in the core tests fail until then.
    static var schemaVersion: Int { get }

    /// The current state's name, as audited in `from_state` / `to_state`.
    var stateName: String { get }

    /// The columns the store indexes for inboxes and reports.
    var projection: Projection { get }

    /// At most one instance of this kind may hold the same key at a time (for example one
    /// active pledge per vehicle). Nil when no such rule applies in the current state.
    var exclusiveKey: ExclusiveKey? { get }

    /// The moments this instance is due for time-driven work (a level's limit, a clearance
    /// date, an expiry), as it stands now. The store keeps the `timers` table equal to this
    /// list on every transition; each moment fires once.
    var dueMoments: [DueMoment] { get }

    /// Notices for people about the transition that just produced `effect` (a rejection, a
    /// fever, a certificate issued), queued in the outbox with it. Pure: derived from the
    /// machine as it now stands.
    func notices(for effect: Effect) -> [DomainEvent]

    static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect)

    mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect
}

extension AuditedMachine {
    public static var schemaVersion: Int { 1 }
    public var exclusiveKey: ExclusiveKey? { nil }
    public var dueMoments: [DueMoment] { [] }
    public func notices(for effect: Effect) -> [DomainEvent] { [] }
}

/// What a transition leaves for the audit trail and for other workflows.
public struct Effect: Sendable, Equatable {
    /// The audited event name, such as `suspend` or `sign`.
    public var event: String
    /// The role and unit the actor acted under; nil for a system action.
    public var actingAs: RoleAssignment?
    public var reason: String?
    public var payload: [String: JSONValue]
    /// Facts other workflows consume (for example a vehicle violation that scores points).
    public var emitted: [DomainEvent]

    public init(
        event: String,
        actingAs: RoleAssignment?,
        reason: String? = nil,
        payload: [String: JSONValue] = [:],
        emitted: [DomainEvent] = []
    ) {
        self.event = event
        self.actingAs = actingAs
        self.reason = reason
        self.payload = payload
        self.emitted = emitted
    }
}

/// A fact published by one workflow for others, written to the outbox in the same transaction.
public struct DomainEvent: Sendable, Equatable, Codable {
    public var name: String
    /// A key that makes consumption idempotent: the same fact delivered twice has the same key.
    public var key: String
    public var payload: [String: JSONValue]

    public init(name: String, key: String, payload: [String: JSONValue]) {
        self.name = name
        self.key = key
        self.payload = payload
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name
        case key
        case payload
    }
}

/// The indexed columns of an instance.
public struct Projection: Sendable, Equatable {
    /// Where the instance lives in the jurisdiction tree; jurisdiction checks and subtree queries use it.
    public var unitPath: UnitPath
    /// The role whose turn it is, if the instance waits for someone.
    public var pendingRole: Role?
    /// Since when it has waited for `pendingRole`.
    public var pendingSince: Date?
    /// A deadline, such as a clearance date or a level's time limit.
    public var dueAt: Date?
    /// The policy version the instance started under.
    public var policyVersion: String?
    /// The record this instance is about (a vehicle, a person), for lookups.
    public var subjectRef: UUID?
    /// The level a chained approval waits at, from 1, for level filters and counts.
    public var pendingLevel: Int?
    /// A number issued to the instance (a pass number, a serial, a certificate number),
    /// unique within its kind.
    public var serialNumber: String?
    /// What reports group the instance by (a certificate's scope, an isolation placement).
    public var category: String?
    /// What reports add up (a trip's boarded headcount).
    public var headcount: Int?
    /// The people the instance carries besides its subject (a trip's workers), for lookups.
    public var memberIDs: [UUID]
    /// How many of those come from poor households 贫困户, for the report.
    public var poorMembers: Int?
    /// What people look the instance up by when they type part of it (a vehicle's plate).
    public var label: String?

    public init(
        unitPath: UnitPath,
        pendingRole: Role? = nil,
        pendingSince: Date? = nil,
        dueAt: Date? = nil,
        policyVersion: String? = nil,
        subjectRef: UUID? = nil,
        pendingLevel: Int? = nil,
        serialNumber: String? = nil,
        category: String? = nil,
        headcount: Int? = nil,
        memberIDs: [UUID] = [],
        poorMembers: Int? = nil,
        label: String? = nil
    ) {
        self.unitPath = unitPath
        self.pendingRole = pendingRole
        self.pendingSince = pendingSince
        self.dueAt = dueAt
        self.policyVersion = policyVersion
        self.subjectRef = subjectRef
        self.pendingLevel = pendingLevel
        self.serialNumber = serialNumber
        self.category = category
        self.headcount = headcount
        self.memberIDs = memberIDs
        self.poorMembers = poorMembers
        self.label = label
    }
}

extension String {
    /// A reason with surrounding blanks removed, or nil when nothing is left.
    public var trimmedReason: String? {
        let trimmed = self.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// Requires a non-blank reason, as every reject, suspension or revocation does.
public func requireReason(_ reason: String?) throws(SignoffError) -> String {
    guard let reason = reason?.trimmedReason else {
        throw SignoffError(.reasonRequired, "A reason is required for this action.", extra: ["field": "reason"])
    }
    return reason
}
