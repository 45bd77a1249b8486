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
        public var description: String { "line \(self.line): \(self.message)" }
    }

    let organisation: OrganisationStore

    public init(organisation: OrganisationStore) {
        self.organisation = organisation
    }

    public func run(csv: String) async throws -> Summary {
        let rows = CSV.parse(csv)
        guard let first = rows.first else {
            throw SignoffError(.importInvalid, "The file is empty.")
        }
        let header = first.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard Array(header.prefix(4)) == Array(Self.header.prefix(4)), header.allSatisfy(Self.header.contains) else {
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
            for record in records {
                func fail(_ message: String) { errors.append(RowError(line: record.line, message: message)) }
                guard record.count == header.count else {
                    fail("expected \(header.count) fields, found \(record.count)")
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
                        if unitsByCode[code] != nil { fail("unit code ‘\(code)’ appears twice in the file"); continue }
                        var parent: OrgUnit?
                        if !value("parent").isEmpty {
                            parent = try await self.resolveUnit(value("parent"), known: unitsByCode, on: connection)
                            if parent == nil { fail("parent unit ‘\(value("parent"))’ is neither above in the file nor stored"); continue }
                        }
                        try UnitRules.validate(kind: unitKind, code: code, name: value("name"), parent: parent)
                        if try await self.organisation.unit(code: code, on: connection) != nil {
                            fail("unit code ‘\(code)’ exists already"); continue
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
                        guard !code.isEmpty else { fail("a household needs a code"); continue }
                        if householdsByCode[code] != nil { fail("household code ‘\(code)’ appears twice in the file"); continue }
                        guard let grid = try await self.resolveUnit(value("parent"), known: unitsByCode, on: connection) else {
                            fail("grid ‘\(value("parent"))’ is neither above in the file nor stored"); continue
                        }
                        guard grid.kind == .grid else { fail("a household's parent must be a grid, not a \(grid.kind.rawValue)"); continue }
                        guard let poor = Self.flag(value("poor")) else { fail("poor must be yes/no, 是/否, true/false or 1/0, not ‘\(value("poor"))’"); continue }
                        guard value("name").trimmedReason != nil else { fail("a household needs the name of its head"); continue }
                        if write {
                            householdsByCode[code] = try await self.organisation.createHousehold(
                                gridID: grid.id, code: code, headName: value("name"), address: value("address"), poor: poor, on: connection)
                            summary.households += 1
                        } else {
                            householdsByCode[code] = Household(id: UUID(), gridID: grid.id, code: code, headName: value("name"), address: "", poor: poor)
                        }
                    case "person":
                        guard let household = householdsByCode[value("parent")] else {
                            fail("household ‘\(value("parent"))’ is not above in the file"); continue
                        }
                        let phone = value("phone").isEmpty ? nil : value("phone")
                        if let phone { try UnitRules.validatePhone(phone) }
                        guard value("name").trimmedReason != nil else { fail("a person needs a name"); continue }
                        if write {
                            _ = try await self.organisation.createPerson(
                                householdID: household.id, name: value("name"),
                                idNumber: value("id_number").isEmpty ? nil : value("id_number"), phone: phone, on: connection)
                            summary.persons += 1
                        }
                    default:
                        fail("record must be township, village, group, grid, household or person, not ‘\(value("record"))’")
                    }
                } catch let error as SignoffError {
                    fail(error.detail)
                    if !write || error.code == .duplicate { continue }
                }
                // A database error aborts the transaction; report what we have.
                if errors.count >= 100 { break }
            }
            guard errors.isEmpty else {
                throw SignoffError(.importInvalid,
                                   "Nothing was imported: \(errors.count) row(s) are wrong. \(errors.prefix(5).map(\.description).joined(separator: "; "))",
                                   extra: ["errors": .array(errors.map { .object(["line": .int($0.line), "message": .string($0.message)]) })])
            }
            return summary
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
