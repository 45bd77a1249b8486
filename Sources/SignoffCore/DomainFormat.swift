import Foundation

/// Times (China time, RFC 3339, calendar years, days) and free-text field rules shared by every
/// machine of the domain.
enum DomainFormat {
    /// The township's time zone (China Standard Time, no daylight saving).
    static let chinaTime = TimeZone(secondsFromGMT: 8 * 3_600)!  // a fixed offset always exists

    /// RFC 3339 in UTC, as payloads and error details carry dates.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// The calendar year in China for `date`, as printed on passes.
    static func year(_ date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.chinaTime
        return calendar.component(.year, from: date)
    }

    static func days(_ days: Int) -> TimeInterval {
        TimeInterval(days) * 86_400
    }

    /// A required free-text field, trimmed, at most `limit` characters.
    static func required(_ text: String, field: String, what: String, limit: Int = 200) throws(SignoffError) -> String {
        guard let trimmed = text.trimmedReason else {
            throw SignoffError.invalidValue(field, "\(what) must not be blank.")
        }
        guard trimmed.count <= limit else {
            throw SignoffError.invalidValue(field, "\(what) is longer than \(limit) characters.")
        }
        return trimmed
    }

    static func optional(_ text: String?, field: String, what: String, limit: Int = 200) throws(SignoffError) -> String? {
        guard let text, text.trimmedReason != nil else { return nil }
        return try Self.required(text, field: field, what: what, limit: limit)
    }
}
