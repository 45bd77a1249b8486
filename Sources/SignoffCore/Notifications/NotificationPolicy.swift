import Foundation

/// The township's notification rules (`workflows/notifications.yaml`): who hears of which
/// event, the Chinese text, the quiet hours and how old a fact may be and still be sent.
public struct NotificationPolicy: Sendable, Hashable {
    /// Who receives a notice.
    public enum Audience: Sendable, Hashable {
        /// Holders of a role at a unit covering the record.
        case role(Role)
        /// Holders of the role named by the event's `role` field (the pending level's signer).
        case pendingRole
        /// The accounts of the persons listed in the event's `person_ids` field.
        case persons
    }

    public struct Rule: Sendable, Hashable {
        public var event: String
        public var audiences: [Audience]
        /// Sent even in quiet hours (a fever).
        public var urgent: Bool
        public var title: String
        public var body: String
    }

    /// Local quiet hours, such as 22:00–07:00 China time; may wrap midnight.
    public struct QuietHours: Sendable, Hashable {
        /// Minutes after local midnight.
        public var startMinute: Int
        public var endMinute: Int
        public var utcOffsetSeconds: Int

        public init(startMinute: Int, endMinute: Int, utcOffsetSeconds: Int) {
            self.startMinute = startMinute
            self.endMinute = endMinute
            self.utcOffsetSeconds = utcOffsetSeconds
        }

        /// When a notice held back at `now` may go: nil when `now` is outside the quiet hours.
        public func release(after now: Date) -> Date? {
            guard self.startMinute != self.endMinute else { return nil }
            let local = now.timeIntervalSince1970 + Double(self.utcOffsetSeconds)
            let dayStart = (local / 86_400).rounded(.down) * 86_400
            let minute = Int((local - dayStart) / 60)
            let quiet = self.startMinute < self.endMinute
                ? (minute >= self.startMinute && minute < self.endMinute)
                : (minute >= self.startMinute || minute < self.endMinute)
            guard quiet else { return nil }
            var end = dayStart + Double(self.endMinute) * 60
            if end <= local { end += 86_400 }
            return Date(timeIntervalSince1970: end - Double(self.utcOffsetSeconds))
        }
    }

    public var version: String
    public var quietHours: QuietHours
    /// A fact older than this when its turn comes is recorded as skipped, not sent: after a
    /// long outage, or for the demo's 2020 history when the service starts today.
    public var staleAfter: TimeInterval
    public var rules: [String: Rule]

    public init(version: String, quietHours: QuietHours, staleAfter: TimeInterval, rules: [String: Rule]) {
        self.version = version
        self.quietHours = quietHours
        self.staleAfter = staleAfter
        self.rules = rules
    }

    /// Every event a notice may be sent for.
    public var events: [String] { self.rules.keys.sorted() }

    /// The rule's title and body with `{field}` replaced by the event's fields.
    public static func render(_ template: String, _ fields: [String: JSONValue]) -> String {
        var text = template
        for (key, value) in fields {
            let placeholder = "{\(key)}"
            guard text.contains(placeholder) else { continue }
            text = text.replacingOccurrences(of: placeholder, with: Self.text(value))
        }
        return text
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .bool(let flag): flag ? "是" : "否"
        case .int(let number): String(number)
        case .double(let number): String(format: "%.1f", number)
        case .string(let text): text
        case .array(let items): items.map(Self.text).joined(separator: "、")
        case .object: ""
        }
    }
}

// MARK: - Loading
extension NotificationPolicy {
    public static let defaultFileName = "notifications.yaml"

    /// Parses and validates the policy; unknown keys, unknown roles or audiences, a bad time
    /// of day and a template naming a field the event never has are `policy_invalid` with the line.
    public static func load(yaml: String, file: String = Self.defaultFileName) throws(SignoffError) -> NotificationPolicy {
        let root = try PolicyReader.root(yaml: yaml, file: file)
        try root.allowOnly(["version", "quiet_hours", "stale_after_hours", "events"])
        let version = try root.string("version")
        let quiet = try root.mapping("quiet_hours")
        try quiet.allowOnly(["start", "end", "utc_offset_hours"])
        let start = try Self.minute(try quiet.value("start"))
        let end = try Self.minute(try quiet.value("end"))
        let offsetValue = try quiet.value("utc_offset_hours")
        let offset = try offsetValue.int()
        guard (-12...14).contains(offset) else { throw offsetValue.invalid("must be between -12 and 14.") }
        let stale = try root.positiveInt("stale_after_hours")
        let events = try root.mapping("events")
        var rules: [String: Rule] = [:]
        for name in events.keys {
            let entry = try events.mapping(name)
            try entry.allowOnly(["to", "urgent", "title", "body"])
            var audiences: [Audience] = []
            let list = try entry.sequence("to")
            guard !list.isEmpty else { throw try entry.value("to").invalid("names at least one audience.") }
            for item in list {
                let text = try item.string()
                switch text {
                case "pending_role": audiences.append(.pendingRole)
                case "persons": audiences.append(.persons)
                default:
                    guard let role = Role(rawValue: text) else {
                        throw item.invalid("‘\(text)’ is not a role, pending_role or persons.")
                    }
                    audiences.append(.role(role))
                }
            }
            let urgent = entry.contains("urgent") ? try entry.bool("urgent") : false
            rules[name] = Rule(event: name, audiences: audiences, urgent: urgent,
                               title: try entry.string("title"), body: try entry.string("body"))
        }
        return NotificationPolicy(
            version: version,
            quietHours: QuietHours(startMinute: start, endMinute: end, utcOffsetSeconds: offset * 3_600),
            staleAfter: TimeInterval(stale) * 3_600, rules: rules)
    }

    /// "22:00" → 1320.
    static func minute(_ value: PolicyValue) throws(SignoffError) -> Int {
        let text = try value.string()
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute)
        else { throw value.invalid("‘\(text)’ is not a time of day such as 22:00.") }
        return hour * 60 + minute
    }
}
