import Foundation

// MARK: - Temperature readings and fever reports
extension ReturneeIsolation {
    /// One temperature reading 体温监测.
    public struct Reading: Sendable, Codable, Hashable {
        public var celsius: Double
        public var takenAt: Date
        public var recordedAt: Date
        public var recordedBy: UUID
        public var recordedByName: String
        /// At or above the policy's fever threshold.
        public var isFever: Bool

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case celsius
            case takenAt = "taken_at"
            case recordedAt = "recorded_at"
            case recordedBy = "recorded_by"
            case recordedByName = "recorded_by_name"
            case isFever = "is_fever"
        }
    }

    /// An urgent fever report 发热报告: open from the first fever reading until the health
    /// centre handles it. Further fever readings while it is open join it.
    public struct FeverReport: Sendable, Codable, Hashable {
        /// When the first fever reading was taken; the report waits since then.
        public var raisedAt: Date
        public var highestCelsius: Double
        public var feverReadings: Int
        public var handledAt: Date?
        public var handledBy: UUID?
        public var handledByName: String?
        /// What the health centre did, such as "已转县医院发热门诊".
        public var note: String?

        public var isOpen: Bool { self.handledAt == nil }

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case raisedAt = "raised_at"
            case highestCelsius = "highest_celsius"
            case feverReadings = "fever_readings"
            case handledAt = "handled_at"
            case handledBy = "handled_by"
            case handledByName = "handled_by_name"
            case note
        }
    }

    /// The fever report waiting for the health centre, if any.
    public var openFever: FeverReport? {
        self.feverReports.last.flatMap { $0.isOpen ? $0 : nil }
    }

    /// When the next daily reading is due: the policy's interval after the latest reading,
    /// or after registration before the first. Nil once released.
    public var nextReadingDue: Date? {
        guard self.isIsolating else { return nil }
        let latest = self.readings.map(\.takenAt).max().map { max($0, self.registeredAt) } ?? self.registeredAt
        return latest.addingTimeInterval(TimeInterval(self.readingEveryHours) * 3_600)
    }

    /// Whether a reading was missed: `now` is past the due time and none came.
    public func isReadingOverdue(at now: Date) -> Bool {
        self.nextReadingDue.map { now > $0 } ?? false
    }

    /// Refuses a reading that cannot be a body temperature: not a number, or outside `range`.
    public static func validateReading(_ celsius: Double, range: ClosedRange<Double>) throws(SignoffError) {
        let bounds = "\(range.lowerBound)–\(range.upperBound) °C"
        let extra: [String: JSONValue] = [
            "field": "celsius", "min": .double(range.lowerBound), "max": .double(range.upperBound),
        ]
        guard celsius.isFinite else {
            throw SignoffError(.invalidValue, "体温必须是数字 (\(bounds))。The temperature must be a number in °C, within \(bounds).",
                               extra: extra)
        }
        guard range.contains(celsius) else {
            throw SignoffError(
                .invalidValue,
                "体温 \(celsius) °C 不在有效范围 \(bounds) 内, 请复测后重新录入。The reading \(celsius) °C is outside \(bounds); measure again and record the new reading.",
                extra: extra)
        }
    }

    /// Records a reading by the grid worker or the health centre. A fever opens an urgent
    /// report for the health centre, or joins the one already open.
    public mutating func recordTemperature(
        celsius: Double, takenAt: Date?, by actor: Principal, at now: Date
    ) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.carerRoles, covering: self.gridPath)
        try Self.validateReading(celsius, range: self.validReadings)
        let takenAt = takenAt ?? now
        guard takenAt <= now else {
            throw SignoffError.invalidValue("taken_at", "测量时间不能晚于现在。A reading cannot be taken in the future.")
        }
        guard takenAt >= self.arrivedAt else {
            throw SignoffError.invalidValue("taken_at", "测量时间早于返乡日期。The reading is from before the returnee arrived.")
        }
        guard self.isIsolating else { throw .invalidTransition("record_temperature", from: self.stateName) }
        let fever = celsius >= self.feverCelsius
        self.readings.append(Reading(celsius: celsius, takenAt: takenAt, recordedAt: now, recordedBy: actor.userID,
                                     recordedByName: actor.displayName, isFever: fever))
        if fever {
            if let index = self.feverReports.indices.last, self.feverReports[index].isOpen {
                self.feverReports[index].highestCelsius = max(self.feverReports[index].highestCelsius, celsius)
                self.feverReports[index].feverReadings += 1
            } else {
                self.feverReports.append(FeverReport(raisedAt: takenAt, highestCelsius: celsius, feverReadings: 1))
            }
        }
        var payload: [String: JSONValue] = [
            "celsius": .double(celsius), "taken_at": .string(DomainFormat.timestamp(takenAt)), "fever": .bool(fever),
        ]
        if let due = self.nextReadingDue { payload["next_reading_due"] = .string(DomainFormat.timestamp(due)) }
        if let open = self.openFever { payload["fever_raised_at"] = .string(DomainFormat.timestamp(open.raisedAt)) }
        return Effect(event: "record_temperature", actingAs: acting, payload: payload)
    }

    /// The health centre closes the open fever report, saying what it did.
    public mutating func handleFever(note: String, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(as: .healthOfficer, covering: self.gridPath)
        let note = try DomainFormat.required(note, field: "note", what: "What the health centre did 处置情况", limit: 1_000)
        guard let index = self.feverReports.indices.last, self.feverReports[index].isOpen else {
            throw SignoffError(.invalidTransition, "没有待处置的发热报告。There is no open fever report to handle.",
                               extra: ["state": .string(self.stateName), "event": "handle_fever"])
        }
        self.feverReports[index].handledAt = now
        self.feverReports[index].handledBy = actor.userID
        self.feverReports[index].handledByName = actor.displayName
        self.feverReports[index].note = note
        let report = self.feverReports[index]
        return Effect(event: "handle_fever", actingAs: acting,
                      payload: ["raised_at": .string(DomainFormat.timestamp(report.raisedAt)),
                                "highest_celsius": .double(report.highestCelsius),
                                "fever_readings": .int(report.feverReadings), "note": .string(note)])
    }
}
