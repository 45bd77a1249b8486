/// A materialised path in the jurisdiction tree, such as `lianhe.v01.g02.w05`.
///
/// Labels are the units' codes. The same text is stored as PostgreSQL `ltree`,
/// so subtree queries are index scans.
public struct UnitPath: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public let labels: [String]

    public init(labels: [String]) {
        self.labels = labels
    }

    /// Parses `a.b.c`, refusing labels that `ltree` would refuse.
    public init(_ text: String) throws(SignoffError) {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for label in labels where !UnitPath.isValidLabel(label) {
            throw SignoffError.invalidValue("path", "‘\(text)’ is not a valid unit path.")
        }
        self.labels = labels
    }

    /// A unit code: ASCII letters, digits and `_`, 1 to 64 characters: what `ltree` accepts in a
    /// label on every supported PostgreSQL (15 refuses `-`).
    public static func isValidLabel(_ label: String) -> Bool {
        !label.isEmpty && label.count <= 64
            && label.unicodeScalars.allSatisfy { scalar in
                (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
                    || (scalar >= "0" && scalar <= "9") || scalar == "_"
            }
    }

    public var description: String { self.labels.joined(separator: ".") }

    public func appending(_ label: String) -> UnitPath {
        UnitPath(labels: self.labels + [label])
    }

    /// True when `other` is this unit or lies below it.
    public func contains(_ other: UnitPath) -> Bool {
        other.labels.count >= self.labels.count && Array(other.labels.prefix(self.labels.count)) == self.labels
    }

    public static func < (lhs: UnitPath, rhs: UnitPath) -> Bool {
        lhs.description < rhs.description
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.detail))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}
