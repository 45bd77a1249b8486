import Foundation

// MARK: - Explanation
extension ReturneeIsolation {
    /// Why the returnee isolates where they do: the rule applied, the entries and the total.
    /// `GET` on a returnee shows it, and the audit rows of register and of a move carry it.
    public struct Explanation: Sendable, Hashable {
        public var rule: Rule
        public var placement: Placement
        /// The key area matched, when that rule applied.
        public var keyArea: String?
        public var fromProvince: String
        public var fromCity: String?
        public var entries: [InfractionEntry]
        public var total: Int
        public var threshold: Int
        /// When the placement was decided: registration, or the move to central.
        public var decidedAt: Date
        public var isolationEndsAt: Date
        public var policyVersion: String
        /// One sentence, Chinese then English.
        public var summary: String

        public var json: JSONValue {
            [
                "rule": .string(self.rule.rawValue), "placement": .string(self.placement.rawValue),
                "key_area": self.keyArea.map(JSONValue.string) ?? .null, "from_province": .string(self.fromProvince),
                "from_city": self.fromCity.map(JSONValue.string) ?? .null, "entries": .array(self.entries.map(\.json)),
                "total": .int(self.total), "threshold": .int(self.threshold),
                "self_paid": .bool(self.placement == .centralSelfPaid), "designated_site": .bool(self.placement.isCentral),
                "decided_at": .string(DomainFormat.timestamp(self.decidedAt)),
                "isolation_ends_at": .string(DomainFormat.timestamp(self.isolationEndsAt)),
                "policy_version": .string(self.policyVersion), "summary": .string(self.summary),
            ]
        }
    }

    public var explanation: Explanation {
        let total = self.infractionTotal
        let summary: String
        switch (self.placement, self.keyArea) {
        case (_, .some(let area)):
            summary = "来自重点疫区\(area), 在指定地点强制集中隔离。Returned from the key area \(area): compulsory central isolation at a designated site."
        case (.home, nil):
            summary = "积分 \(total) 分, 不满 \(self.threshold) 分, 居家隔离观察。\(total) points, under \(self.threshold): home isolation."
        case (_, nil):
            summary = "积分 \(total) 分, 达到 \(self.threshold) 分 (含), 本人自费在指定地点集中隔离。\(total) points, \(self.threshold) or more: central isolation at a designated site at own expense."
        }
        return Explanation(
            rule: self.rule, placement: self.placement, keyArea: self.keyArea, fromProvince: self.fromProvince,
            fromCity: self.fromCity, entries: self.entries, total: total, threshold: self.threshold,
            decidedAt: self.movedToCentralAt ?? self.registeredAt, isolationEndsAt: self.isolationEndsAt,
            policyVersion: self.policyVersion, summary: summary)
    }
}
