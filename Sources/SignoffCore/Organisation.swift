import Foundation

/// A unit of the jurisdiction tree.
public struct OrgUnit: Sendable, Codable, Equatable {
    public var id: UUID
    public var parentID: UUID?
    public var kind: UnitKind
    public var code: String
    public var name: String
    public var path: UnitPath

    public init(id: UUID, parentID: UUID?, kind: UnitKind, code: String, name: String, path: UnitPath) {
        self.id = id
        self.parentID = parentID
        self.kind = kind
        self.code = code
        self.name = name
        self.path = path
    }
}

/// A household 户, in one grid; may be a registered poor household 贫困户.
public struct Household: Sendable, Codable, Equatable {
    public var id: UUID
    public var gridID: UUID
    public var code: String
    public var headName: String
    public var address: String
    public var poor: Bool

    public init(id: UUID, gridID: UUID, code: String, headName: String, address: String, poor: Bool) {
        self.id = id
        self.gridID = gridID
        self.code = code
        self.headName = headName
        self.address = address
        self.poor = poor
    }
}

/// A person, member of one household.
public struct Person: Sendable, Codable, Equatable {
    public var id: UUID
    public var householdID: UUID
    public var name: String
    public var idNumber: String?
    public var phone: String?

    public init(id: UUID, householdID: UUID, name: String, idNumber: String?, phone: String?) {
        self.id = id
        self.householdID = householdID
        self.name = name
        self.idNumber = idNumber
        self.phone = phone
    }
}

/// Checks a unit before it is stored: its code, its name and its place under its parent.
public enum UnitRules {
    public static func validate(kind: UnitKind, code: String, name: String, parent: OrgUnit?) throws(SignoffError) {
        guard UnitPath.isValidLabel(code) else {
            throw SignoffError.invalidValue("code", "The unit code ‘\(code)’ may use only letters, digits and ‘_’ (1 to 64 characters).")
        }
        guard name.trimmedReason != nil else {
            throw SignoffError.invalidValue("name", "A unit needs a name.")
        }
        switch (kind, parent) {
        case (.township, nil):
            return
        case (.township, .some):
            throw SignoffError.invalidValue("parent", "A township (乡) is the root and has no parent.")
        case (_, nil):
            throw SignoffError.invalidValue("parent", "A \(kind.rawValue) (\(kind.chineseName)) needs a parent unit.")
        case (_, .some(let parent)):
            guard parent.kind.childKind == kind else {
                let expected = parent.kind.childKind.map { "\($0.rawValue) (\($0.chineseName))" } ?? "nothing"
                throw SignoffError.invalidValue("parent", "Under a \(parent.kind.rawValue) (\(parent.kind.chineseName)) comes a \(expected), not a \(kind.rawValue).")
            }
        }
    }

    /// Mainland phone numbers: 11 digits starting with 1.
    public static func validatePhone(_ phone: String) throws(SignoffError) {
        guard phone.count == 11, phone.first == "1", phone.allSatisfy(\.isASCII), phone.allSatisfy(\.isNumber) else {
            throw SignoffError.invalidValue("phone", "‘\(phone)’ is not a mobile number (11 digits starting with 1).")
        }
    }
}
