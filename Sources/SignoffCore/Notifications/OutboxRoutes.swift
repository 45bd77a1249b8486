import Foundation

/// Who takes the facts queued in the outbox. An event no consumer here takes is not queued:
/// it would wait in the table for ever. Reactions in the transition's own transaction (a
/// credential signed, a role row written) are declared by the store beside them.
public enum OutboxRoutes {
    /// The consumers that drain the outbox, each with its own mark on the row.
    public enum Consumer: String, Sendable, CaseIterable {
        /// Turns vehicle facts into household infraction entries (`delivered_at`).
        case vehicleEvents = "vehicle_events"
        /// Sends notices and webhooks per `workflows/notifications.yaml` (`notified_at`).
        case notifications
    }

    /// What the vehicle-event consumer scores.
    public static let vehicleEvents: Set<String> = Set(InfractionLedger.scoredEvents.keys)

    /// What a notice may be sent for: the notification policy may name only these. Facts a
    /// machine publishes for people (`notices(for:)`) and the timers' firings.
    public static let notifications: Set<String> = Set([
        PassApplication.effectiveEvent,
        "vehicle_pass.rejected",
        "isolation.fever",
        "visit.fever",
        "certificate.issued",
        "transport_trip.approved",
    ] + DueMoment.Name.allCases.map { DueMoment($0, occurrence: "", at: .distantPast).eventName })

    /// The consumers that take an event, empty when none does.
    public static func consumers(of name: String) -> [Consumer] {
        var consumers: [Consumer] = []
        if self.vehicleEvents.contains(name) { consumers.append(.vehicleEvents) }
        if self.notifications.contains(name) { consumers.append(.notifications) }
        return consumers
    }

    /// Whether an event is queued at all.
    public static func isQueued(_ name: String) -> Bool {
        !self.consumers(of: name).isEmpty
    }
}
