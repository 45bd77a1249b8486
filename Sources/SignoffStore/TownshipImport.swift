import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// Loads a township from CSV in one transaction: either every row is written, or none.
///
/// Columns: `record,code,parent,name,poor,id_number,phone,address`. `record` is one of
/// township, village, group, grid, household, person. `parent` is the parent's code (a
/// unit's code, or a household's code for a person); it may name a row above or a unit
/// already stored.
public struct TownshipImport: Sendable {
    public static let header = ["record", "code", "parent", "name", "poor", "id_number", "phone", "address"]

    public struct Summary: Sendable, Equatable, Codable {
        public var units: Int = 0
        public var households: Int = 0
        public var persons: Int = 0
    }

    public struct RowError: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        /// The same in Chinese, for the web page.
        public var chinese: String = ""
        public var description: String { "line \(self.line): \(self.message)" }
    }

    let organisation: OrganisationStore

    public init(organisation: OrganisationStore) {
        self.organisation = organisation
    }

    /// One row the import will create, for the preview.
    public struct PlannedRow: Sendable, Equatable {
        public var line: Int
        public var record: String
        public var code: String
        public var name: String
        public var parent: String
    }

    /// What a run found: the counts, and each row it creates (or would create).
    public struct Outcome: Sendable, Equatable {
        public var summary: Summary
        public var rows: [PlannedRow]
        /// The wrong rows; when there are any, nothing was written.
        public var errors: [RowError] = []
        public var committed: Bool { self.errors.isEmpty && self.wrote }
        var wrote = false
    }

    public func run(csv: String) async throws -> Summary {
        try await self.checkedRun(csv: csv, commit: true, reportErrors: false).summary
    }

    /// Checks every row in one transaction, and answers the wrong rows as values (for the web
    /// page) rather than an error. With `commit` false (the preview) the transaction is rolled
    /// back; either way nothing is written unless every row is right.
    public func run(csv: String, commit: Bool) async throws -> Outcome {
        do {
            return try await self.checkedRun(csv: csv, commit: commit, reportErrors: true)
        } catch let preview as PreviewRollback {
            return preview.outcome
        }
    }

    /// Thrown out of the transaction to roll a preview back.
    private struct PreviewRollback: Error {
        var outcome: Outcome
    }

    private func checkedRun(csv: String, commit: Bool, reportErrors: Bool) async throws -> Outcome {
        let rows = CSV.parse(csv)
        guard let first = rows.first else {
            if reportErrors { return Outcome(summary: Summary(), rows: [], errors: [RowError(line: 1, message: "The file is empty.", chinese: "文件是空的")]) }
            throw SignoffError(.importInvalid, "The file is empty.")
        }
        let header = first.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard Array(header.prefix(4)) == Array(Self.header.prefix(4)), header.allSatisfy(Self.header.contains) else {
            if reportErrors {
                return Outcome(summary: Summary(), rows: [], errors: [RowError(
                    line: 1, message: "unexpected header",
                    chinese: "第一行应为表头：\(Self.header.joined(separator: ","))（后四列可省略）")])
            }
            throw SignoffError(.importInvalid, "Line 1 must be the header: \(Self.header.joined(separator: ",")) (the last four columns are optional).",
                               extra: ["errors": ["line 1: unexpected header"]])
        }
        let records = rows.dropFirst().map { row in
            (line: row.line, values: Dictionary(uniqueKeysWithValues: zip(header, row.fields.map { $0.trimmingCharacters(in: .whitespaces) })), count: row.fields.count)
        }
        return try await self.organisation.database.transaction { connection in
            var errors: [RowError] = []
            var unitsByCode: [String: OrgUnit] = [:]
            var householdsByCode: [String: Household] = [:]
            var summary = Summary()
            var planned: [PlannedRow] = []
            for record in records {
                func fail(_ message: String, _ chinese: String) { errors.append(RowError(line: record.line, message: message, chinese: chinese)) }
                guard record.count == header.count else {
                    fail("expected \(header.count) fields, found \(record.count)", "应有\(header.count)列，实际\(record.count)列")
                    continue
                }
                let value = { (key: String) in record.values[key] ?? "" }
                let kind = value("record").lowercased()
                // Once a row failed, later rows are only checked, not written.
                let write = errors.isEmpty
                do {
                    switch kind {
                    case "township", "village", "group", "grid":
                        let unitKind = UnitKind(rawValue: kind)!
                        let code = value("code")
                        if unitsByCode[code] != nil { fail("unit code ‘\(code)’ appears twice in the file", "单位编码「\(code)」在文件中出现了两次"); continue }
                        var parent: OrgUnit?
                        if !value("parent").isEmpty {
                            parent = try await self.resolveUnit(value("parent"), known: unitsByCode, on: connection)
                            if parent == nil { fail("parent unit ‘\(value("parent"))’ is neither above in the file nor stored", "上级单位「\(value("parent"))」既不在前面的行里，也不在系统中"); continue }
                        }
                        try UnitRules.validate(kind: unitKind, code: code, name: value("name"), parent: parent)
                        if try await self.organisation.unit(code: code, on: connection) != nil {
                            fail("unit code ‘\(code)’ exists already", "单位编码「\(code)」已存在"); continue
                        }
                        if write {
                            unitsByCode[code] = try await self.organisation.createUnit(kind: unitKind, code: code, name: value("name"), parentID: parent?.id, on: connection)
                            summary.units += 1
                        } else if let parent {
                            unitsByCode[code] = OrgUnit(id: UUID(), parentID: parent.id, kind: unitKind, code: code, name: value("name"), path: parent.path.appending(code))
                        } else {
                            unitsByCode[code] = OrgUnit(id: UUID(), parentID: nil, kind: unitKind, code: code, name: value("name"), path: UnitPath(labels: [code]))
                        }
                    case "household":
                        let code = value("code")
                        guard !code.isEmpty else { fail("a household needs a code", "户缺少编码"); continue }
                        if householdsByCode[code] != nil { fail("household code ‘\(code)’ appears twice in the file", "户编码「\(code)」在文件中出现了两次"); continue }
                        guard let grid = try await self.resolveUnit(value("parent"), known: unitsByCode, on: connection) else {
                            fail("grid ‘\(value("parent"))’ is neither above in the file nor stored", "网格「\(value("parent"))」既不在前面的行里，也不在系统中"); continue
                        }
                        guard grid.kind == .grid else { fail("a household's parent must be a grid, not a \(grid.kind.rawValue)", "户的上级必须是网格，不能是\(grid.kind.chineseName)"); continue }
                        guard let poor = Self.flag(value("poor")) else { fail("poor must be yes/no, 是/否, true/false or 1/0, not ‘\(value("poor"))’", "贫困户一栏应填 是/否（或 yes/no、1/0），不能是「\(value("poor"))」"); continue }
                        guard value("name").trimmedReason != nil else { fail("a household needs the name of its head", "户缺少户主姓名"); continue }
                        if write {
                            householdsByCode[code] = try await self.organisation.createHousehold(
                                gridID: grid.id, code: code, headName: value("name"), address: value("address"), poor: poor, on: connection)
                            summary.households += 1
                        } else {
                            householdsByCode[code] = Household(id: UUID(), gridID: grid.id, code: code, headName: value("name"), address: "", poor: poor)
                        }
                    case "person":
                        guard let household = householdsByCode[value("parent")] else {
                            fail("household ‘\(value("parent"))’ is not above in the file", "所属户「\(value("parent"))」不在前面的行里"); continue
                        }
                        let phone = value("phone").isEmpty ? nil : value("phone")
                        if let phone { try UnitRules.validatePhone(phone) }
                        guard value("name").trimmedReason != nil else { fail("a person needs a name", "人员缺少姓名"); continue }
                        if write {
                            _ = try await self.organisation.createPerson(
                                householdID: household.id, name: value("name"),
                                idNumber: value("id_number").isEmpty ? nil : value("id_number"), phone: phone, on: connection)
                            summary.persons += 1
                        }
                    default:
                        fail("record must be township, village, group, grid, household or person, not ‘\(value("record"))’", "类型应为 township、village、group、grid、household 或 person，不能是「\(value("record"))」")
                    }
                } catch let error as SignoffError {
                    fail(error.detail, Self.chinese(error))
                    if !write || error.code == .duplicate { continue }
                }
                if errors.isEmpty {
                    planned.append(PlannedRow(line: record.line, record: kind, code: record.values["code"] ?? "",
                                              name: record.values["name"] ?? "", parent: record.values["parent"] ?? ""))
                }
                // A database error aborts the transaction; report what we have.
                if errors.count >= 100 { break }
            }
            guard errors.isEmpty else {
                if reportErrors { throw PreviewRollback(outcome: Outcome(summary: Summary(), rows: [], errors: errors)) }
                throw SignoffError(.importInvalid,
                                   "Nothing was imported: \(errors.count) row(s) are wrong. \(errors.prefix(5).map(\.description).joined(separator: "; "))",
                                   extra: ["errors": .array(errors.map { .object(["line": .int($0.line), "message": .string($0.message)]) })])
            }
            var outcome = Outcome(summary: summary, rows: planned)
            if !commit { throw PreviewRollback(outcome: outcome) }
            outcome.wrote = true
            return outcome
        }
    }

    /// A row's refusal from the organisation rules, in Chinese.
    static func chinese(_ error: SignoffError) -> String {
        let field = error.extra["field"].flatMap { if case .string(let name) = $0 { name } else { nil } }
        switch field {
        case "code": return "单位编码只能用字母、数字和「_」（1到64个字符）"
        case "name": return "缺少名称"
        case "parent": return "上级单位不对：乡没有上级，村的上级是乡，组的上级是村，网格的上级是组"
        case "phone": return "手机号应为11位数字"
        default: return error.code == .duplicate ? "与已有记录重复（如身份证号）" : "这一行有误"
        }
    }

    private func resolveUnit(_ code: String, known: [String: OrgUnit], on connection: PostgresConnection) async throws -> OrgUnit? {
        if let unit = known[code] { return unit }
        return try await self.organisation.unit(code: code, on: connection)
    }

    static func flag(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "", "no", "false", "0", "否", "n": false
        case "yes", "true", "1", "是", "y": true
        default: nil
        }
    }
}
