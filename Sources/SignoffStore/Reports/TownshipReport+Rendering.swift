import Foundation

/// The report as rows of (section, figure, value), shared by the table and the CSV.
extension TownshipReport {
    public struct Line: Sendable, Equatable {
        public var section: String
        public var figure: String
        public var value: Int
    }

    public var lines: [Line] {
        func line(_ section: String, _ figure: String, _ value: Int) -> Line { Line(section: section, figure: figure, value: value) }
        var lines = [
            line("网格 grids", "网格 grids", self.grids),
            line("网格 grids", "网格员 grid workers", self.gridWorkers),
            line("网格 grids", "户 households", self.households),
            line("网格 grids", "贫困户 poor households", self.poorHouseholds),
            line("停放承诺书 parking pledges", "停放中 active", self.pledgesActive),
            line("停放承诺书 parking pledges", "已解除 released", self.pledgesReleased),
            line("钥匙代管 key custody", "代管中 keys held", self.keysHeld),
        ]
        for state in Self.ordered(self.passesByState, first: ["pending", "effective", "rejected", "withdrawn"]) {
            lines.append(line("通行证 travel passes", Self.label(state), self.passesByState[state] ?? 0))
        }
        lines += [
            line("农用车通行证明 agricultural passes", "已开具 issued", self.agriculturalPassesIssued),
            line("健康证 health certificates", "体检 exams", self.exams),
            line("健康证 health certificates", "发证 certificates issued", self.certificatesIssued),
            line("健康证 health certificates", "省内 inside Sichuan", self.certificatesInProvince),
            line("健康证 health certificates", "省外 outside Sichuan", self.certificatesOutOfProvince),
            line("定向运输 directed transport", "车次 trips", self.trips),
            line("定向运输 directed transport", "务工人员 workers carried", self.workersCarried),
            line("定向运输 directed transport", "贫困户务工人员 poor-household workers", self.poorHouseholdWorkers),
        ]
        for placement in Self.ordered(self.returneesByIsolation, first: ["home", "central_compulsory", "central_self_paid"]) {
            lines.append(line("返乡人员 returnees", Self.label(placement), self.returneesByIsolation[placement] ?? 0))
        }
        return lines
    }

    /// The source document's term for a state or placement, with the stored name.
    static func label(_ key: String) -> String {
        let terms = [
            "pending": "审批中", "effective": "已生效", "rejected": "已退回", "withdrawn": "已撤回",
            "home": "居家隔离", "central_compulsory": "集中强制隔离", "central_self_paid": "自费集中隔离",
        ]
        return terms[key].map { "\($0) \(key)" } ?? key
    }

    /// The known keys in their order, then any others alphabetically.
    private static func ordered(_ counts: [String: Int], first: [String]) -> [String] {
        first + counts.keys.filter { !first.contains($0) }.sorted()
    }

    private var periodText: String {
        let format = Date.ISO8601FormatStyle().year().month().day()
        switch (self.period.from, self.period.to) {
        case (nil, nil): return "all time"
        case (let from?, nil): return "from \(from.formatted(format))"
        case (nil, let to?): return "before \(to.formatted(format))"
        case (let from?, let to?): return "\(from.formatted(format)) to before \(to.formatted(format))"
        }
    }

    /// A table for a terminal, one figure per line under its section.
    public func table() -> String {
        var output = ["\(self.unitName) (\(self.unitPath)) — \(self.periodText)", ""]
        var section = ""
        let width = self.lines.map { Self.columns($0.figure) }.max() ?? 0
        for line in self.lines {
            if line.section != section {
                if !section.isEmpty { output.append("") }
                section = line.section
                output.append(section)
            }
            output.append("  " + line.figure + String(repeating: " ", count: width + 2 - Self.columns(line.figure)) + String(line.value))
        }
        return output.joined(separator: "\n") + "\n"
    }

    /// Terminal columns of `text`: Chinese characters take two.
    static func columns(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 2 : 1) }
    }

    /// RFC 4180 CSV with a header: section,figure,value.
    public func csv() -> String {
        var rows = ["section,figure,value"]
        for line in self.lines {
            rows.append([CSV.escape(line.section), CSV.escape(line.figure), String(line.value)].joined(separator: ","))
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }
}
