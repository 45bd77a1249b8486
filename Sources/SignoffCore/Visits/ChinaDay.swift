import Foundation

/// A calendar day in China time (UTC+8, no daylight saving), as the township counts "today".
public struct ChinaDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = DomainFormat.chinaTime
        return calendar
    }

    /// The China-time day `date` falls on.
    public init(containing date: Date) {
        let parts = Self.calendar.dateComponents([.year, .month, .day], from: date)
        // A Gregorian calendar always gives these three.
        self.year = parts.year ?? 1970
        self.month = parts.month ?? 1
        self.day = parts.day ?? 1
    }

    /// `2020-02-20`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...9999).contains(year),
              let date = Self.calendar.date(from: DateComponents(year: year, month: month, day: day))
        else { return nil }
        // A date the calendar rolled over (2月30日) is not a day.
        let found = ChinaDay(containing: date)
        guard found.year == year, found.month == month, found.day == day else { return nil }
        self = found
    }

    /// `2020-02-20`, as stored and as SQL `date` reads it.
    public var text: String { String(format: "%04d-%02d-%02d", self.year, self.month, self.day) }
    public var description: String { self.text }

    /// `2月20日`.
    public var chineseName: String { "\(self.month)月\(self.day)日" }

    /// Midnight China time at the start of the day.
    public var start: Date {
        // Every day of the Gregorian calendar has a midnight.
        Self.calendar.date(from: DateComponents(year: self.year, month: self.month, day: self.day)) ?? Date(timeIntervalSince1970: 0)
    }

    /// Noon China time.
    public var noon: Date { self.start.addingTimeInterval(12 * 3_600) }

    /// The next day's midnight (China time has no daylight saving: always 24 hours later).
    public var end: Date { self.start.addingTimeInterval(24 * 3_600) }

    public func adding(days: Int) -> ChinaDay {
        ChinaDay(containing: self.start.addingTimeInterval(TimeInterval(days) * 86_400 + 3_600))
    }

    public static func < (lhs: ChinaDay, rhs: ChinaDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// One half-day of the daily visits 上下午走访: the morning (China time 00:00 to 12:00) or the
/// afternoon (12:00 to midnight) of a day.
public struct VisitSlot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Half: String, Sendable, Codable, CaseIterable, Hashable {
        /// 上午.
        case morning = "am"
        /// 下午.
        case afternoon = "pm"

        public var chineseName: String {
            switch self {
            case .morning: "上午"
            case .afternoon: "下午"
            }
        }
    }

    public let day: ChinaDay
    public let half: Half

    public init(day: ChinaDay, half: Half) {
        self.day = day
        self.half = half
    }

    /// The half-day `date` falls in: noon itself is the afternoon, midnight the next morning.
    public init(containing date: Date) {
        let day = ChinaDay(containing: date)
        self.init(day: day, half: date < day.noon ? .morning : .afternoon)
    }

    /// `2020-02-20 am`: the stored form and the `category` column; nil for anything else.
    public init?(label: String) {
        let parts = label.split(separator: " ")
        guard parts.count == 2, let day = ChinaDay(String(parts[0])), let half = Half(rawValue: String(parts[1])) else { return nil }
        self.init(day: day, half: half)
    }

    public var label: String { "\(self.day.text) \(self.half.rawValue)" }
    public var description: String { self.label }

    /// `2月20日上午`.
    public var chineseName: String { self.day.chineseName + self.half.chineseName }

    public var start: Date { self.half == .morning ? self.day.start : self.day.noon }
    public var end: Date { self.half == .morning ? self.day.noon : self.day.end }

    /// Both half-days of a day, morning first.
    public static func both(of day: ChinaDay) -> [VisitSlot] {
        Half.allCases.map { VisitSlot(day: day, half: $0) }
    }

    public static func < (lhs: VisitSlot, rhs: VisitSlot) -> Bool {
        (lhs.day, lhs.half == .morning ? 0 : 1) < (rhs.day, rhs.half == .morning ? 0 : 1)
    }
}
