import Foundation

/// The township's checkpoints 卡点 (`workflows/checkpoints.yaml`): where they are, the shifts of
/// the duty roster 值班, the reasons a turn-back 劝返 may name, and who may be on duty or record.
///
/// A check copies the names it needs and keeps `version`, so a changed file never changes a record.
public struct CheckpointPolicy: Sendable, Hashable {
    public struct Checkpoint: Sendable, Hashable {
        /// What the log and the roster store; never reused for another place.
        public var code: String
        public var name: String
        public var place: String
    }

    /// A shift of the duty roster, in China time; one whose end is before its start runs past midnight.
    public struct Shift: Sendable, Hashable {
        public var code: String
        public var name: String
        /// Minutes after midnight.
        public var start: Int
        public var end: Int

        /// Whether the shift holds at `minute` (minutes after midnight, China time).
        public func holds(atMinute minute: Int) -> Bool {
            self.start < self.end ? (self.start <= minute && minute < self.end) : (minute >= self.start || minute < self.end)
        }

        public var hours: String {
            "\(Self.clock(self.start))–\(Self.clock(self.end))"
        }

        static func clock(_ minutes: Int) -> String {
            String(format: "%02d:%02d", minutes / 60, minutes % 60)
        }
    }

    public struct Reason: Sendable, Hashable {
        public var code: String
        public var name: String
    }

    public var version: String
    public var checkpoints: [Checkpoint]
    public var shifts: [Shift]
    public var turnBackReasons: [Reason]
    public var dutyRoles: [Role]
    public var recorderRoles: [Role]

    public func checkpoint(_ code: String) -> Checkpoint? { self.checkpoints.first { $0.code == code } }
    public func shift(_ code: String) -> Shift? { self.shifts.first { $0.code == code } }
    public func reason(_ code: String) -> Reason? { self.turnBackReasons.first { $0.code == code } }

    /// The shift at `date` and the China-time day it belongs to (a night shift after midnight
    /// belongs to the day it started).
    public func shift(at date: Date) -> (shift: Shift, day: String)? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = DomainFormat.chinaTime
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        guard let shift = self.shifts.first(where: { $0.holds(atMinute: minute) }) else { return nil }
        let started = shift.start > shift.end && minute < shift.end ? date.addingTimeInterval(-86_400) : date
        return (shift, Self.day(started))
    }

    /// `2020-02-16`: the China-time calendar day of `date`.
    public static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = DomainFormat.chinaTime
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}

// MARK: - Loading
extension CheckpointPolicy {
    public static let defaultFileName = "checkpoints.yaml"

    private enum Key {
        static let version = "version"
        static let checkpoints = "checkpoints"
        static let shifts = "shifts"
        static let reasons = "turn_back_reasons"
        static let dutyRoles = "duty_roles"
        static let recorderRoles = "recorder_roles"
    }

    /// Parses and validates the policy; every mistake is `policy_invalid` naming its line.
    public static func load(yaml: String, file: String = Self.defaultFileName) throws(SignoffError) -> CheckpointPolicy {
        let root = try PolicyReader.root(yaml: yaml, file: file)
        try root.allowOnly([Key.version, Key.checkpoints, Key.shifts, Key.reasons, Key.dutyRoles, Key.recorderRoles])
        let version = try root.string(Key.version)

        var codes = Set<String>()
        func code(_ mapping: PolicyMapping) throws(SignoffError) -> String {
            let value = try mapping.value("code")
            let text = try value.string()
            guard text.range(of: "^[a-z][a-z0-9_]{0,31}$", options: .regularExpression) != nil else {
                throw value.invalid("must be lower-case letters, digits and _ (at most 32), such as daxueshan.")
            }
            guard codes.insert(text).inserted else { throw value.invalid("repeats the code ‘\(text)’.") }
            return text
        }

        let checkpointItems = try root.sequence(Key.checkpoints)
        guard !checkpointItems.isEmpty else { throw try root.value(Key.checkpoints).invalid("needs at least one checkpoint.") }
        var checkpoints: [Checkpoint] = []
        for item in checkpointItems {
            let mapping = try item.mapping()
            try mapping.allowOnly(["code", "name", "place"])
            checkpoints.append(Checkpoint(code: try code(mapping), name: try mapping.string("name"), place: try mapping.string("place")))
        }

        codes = []
        let shiftItems = try root.sequence(Key.shifts)
        guard !shiftItems.isEmpty else { throw try root.value(Key.shifts).invalid("needs at least one shift.") }
        var shifts: [Shift] = []
        for item in shiftItems {
            let mapping = try item.mapping()
            try mapping.allowOnly(["code", "name", "start", "end"])
            let shift = Shift(code: try code(mapping), name: try mapping.string("name"),
                              start: try Self.minutes(mapping.value("start")), end: try Self.minutes(mapping.value("end")))
            guard shift.start != shift.end else { throw try mapping.value("end").invalid("must differ from the start.") }
            for other in shifts {
                // Shifts may not overlap: each moment belongs to at most one.
                let overlaps = (0..<(24 * 60)).contains { shift.holds(atMinute: $0) && other.holds(atMinute: $0) }
                if overlaps { throw item.invalid("overlaps the shift ‘\(other.code)’.") }
            }
            shifts.append(shift)
        }

        codes = []
        let reasonItems = try root.sequence(Key.reasons)
        guard !reasonItems.isEmpty else { throw try root.value(Key.reasons).invalid("needs at least one reason.") }
        var reasons: [Reason] = []
        for item in reasonItems {
            let mapping = try item.mapping()
            try mapping.allowOnly(["code", "name"])
            reasons.append(Reason(code: try code(mapping), name: try mapping.string("name")))
        }

        func roles(_ key: String) throws(SignoffError) -> [Role] {
            let items = try root.sequence(key)
            guard !items.isEmpty else { throw try root.value(key).invalid("needs at least one role.") }
            var roles: [Role] = []
            for item in items {
                let role = try item.oneOf(Role.self, allowed: Role.allCases.filter { $0 != .worker }, what: "role")
                guard !roles.contains(role) else { throw item.invalid("repeats the role ‘\(role.rawValue)’.") }
                roles.append(role)
            }
            return roles
        }
        return CheckpointPolicy(version: version, checkpoints: checkpoints, shifts: shifts, turnBackReasons: reasons,
                                dutyRoles: try roles(Key.dutyRoles), recorderRoles: try roles(Key.recorderRoles))
    }

    /// `"08:00"` → 480.
    static func minutes(_ value: PolicyValue) throws(SignoffError) -> Int {
        let text = try value.string()
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0..<24).contains(hours), (0..<60).contains(minutes)
        else { throw value.invalid("must be a time of day such as \"08:00\".") }
        return hours * 60 + minutes
    }

    /// The rules as shipped in `workflows/checkpoints.yaml`, for tests.
    public static let builtIn: CheckpointPolicy = CheckpointPolicy(
        version: "2020-02-v1",
        checkpoints: [
            Checkpoint(code: "daxueshan", name: "大雪山镇交界卡点", place: "省道 联合苗族乡—大雪山镇交界处"),
            Checkpoint(code: "gaoping", name: "高坪苗族乡交界卡点", place: "省道 联合苗族乡—高坪苗族乡交界处"),
        ],
        shifts: [Shift(code: "day", name: "白班", start: 480, end: 1_200), Shift(code: "night", name: "夜班", start: 1_200, end: 480)],
        turnBackReasons: [
            Reason(code: "outsider_no_reason", name: "外乡人员、车辆无特殊情况进入"),
            Reason(code: "local_leaving", name: "本地人员、车辆无特殊情况流出"),
            Reason(code: "no_credential", name: "未持通行证或健康证"),
            Reason(code: "credential_refused", name: "证件核验未通过（已过期、已撤销或签名无效）"),
            Reason(code: "fever", name: "体温异常"),
        ],
        dutyRoles: [.villageLeader, .chiefLeader],
        recorderRoles: [.gridWorker, .groupLeader, .branchSecretary, .villageLeader, .chiefLeader, .healthOfficer, .admin])
}
