import Foundation
import Yams

/// Reads a YAML policy file strictly, naming the line of every mistake.
///
/// Policies are township rules (durations, the signature chain, point weights), so a typo
/// must stop the load instead of silently falling back to a default. Every error is
/// `policy_invalid` with the file, the line and the key in `extra`.
///
/// ```swift
/// let root = try PolicyReader.root(yaml: text, file: "vehicle-pass.yaml")
/// try root.allowOnly(["version", "clearance_days"])
/// let days = try root.positiveInt("clearance_days")
/// ```
public enum PolicyReader {
    /// Parses `yaml` and returns its top-level mapping.
    public static func root(yaml: String, file: String) throws(SignoffError) -> PolicyMapping {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.syntaxError(error, file: file, yaml: yaml)
        } catch {
            throw Self.error(file: file, line: 1, "cannot be read as YAML.")
        }
        guard let node else {
            throw Self.error(file: file, line: 1, "is empty; a policy needs its keys.")
        }
        return try PolicyValue(node: node, file: file, path: "").mapping()
    }

    /// The one shape of a policy error: `file line N: message`, with the line in `extra`.
    public static func error(file: String, line: Int, key: String? = nil, _ message: String) -> SignoffError {
        var extra: [String: JSONValue] = ["file": .string(file), "line": .int(line)]
        if let key { extra["key"] = .string(key) }
        let subject = key.map { " ‘\($0)’" } ?? ""
        return SignoffError(.policyInvalid, "Policy file \(file) line \(line):\(subject) \(message)", extra: extra)
    }

    private static func syntaxError(_ error: YamlError, file: String, yaml: String) -> SignoffError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return Self.error(file: file, line: mark.line, "is not valid YAML (\(problem)).")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = context.mark
            let line = Self.repeatLine(of: key, after: first, in: yaml) ?? first.line
            return Self.error(file: file, line: line, key: key, "repeats the key \(key) (first on line \(first.line)).")
        default:
            return Self.error(file: file, line: 1, "cannot be read as YAML.")
        }
    }

    /// Yams marks the first of two equal keys; the mistake to show is the later one, the
    /// next line with the same key at the same column.
    private static func repeatLine(of key: String, after first: Mark, in yaml: String) -> Int? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where index + 1 > first.line {
            let scalars = Array(line.unicodeScalars)
            let column = first.column - 1
            guard scalars.count > column, scalars[..<column].allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            if String(String.UnicodeScalarView(scalars[column...])).hasPrefix("\(key):") { return index + 1 }
        }
        return nil
    }
}

/// One YAML node of a policy file, with where it is for error messages.
public struct PolicyValue {
    let node: Node
    public let file: String
    /// The dotted key path, such as `chain[2].role`, for messages.
    public let path: String

    init(node: Node, file: String, path: String) {
        self.node = node
        self.file = file
        self.path = path
    }

    /// The 1-based line where this value starts.
    public var line: Int { self.node.mark?.line ?? 1 }

    public func mapping() throws(SignoffError) -> PolicyMapping {
        guard case .mapping(let mapping) = self.node else { throw self.wrongType("a mapping of keys") }
        return PolicyMapping(mapping: mapping, file: self.file, path: self.path, line: self.line)
    }

    public func sequence() throws(SignoffError) -> [PolicyValue] {
        guard case .sequence(let sequence) = self.node else { throw self.wrongType("a list") }
        return sequence.enumerated().map { index, node in
            PolicyValue(node: node, file: self.file, path: "\(self.path)[\(index + 1)]")
        }
    }

    /// Any scalar, as written. `version: 2020.2` is the text "2020.2", not a number.
    public func string() throws(SignoffError) -> String {
        guard case .scalar(let scalar) = self.node else { throw self.wrongType("text") }
        guard let text = scalar.string.trimmedReason else { throw self.invalid("must not be blank.") }
        return text
    }

    /// An unquoted whole number.
    public func int() throws(SignoffError) -> Int {
        guard case .scalar(let scalar) = self.node, scalar.style == .plain, let value = Int(scalar.string) else {
            throw self.wrongType("a whole number")
        }
        return value
    }

    /// A duration or count that must be above zero.
    public func positiveInt() throws(SignoffError) -> Int {
        let value = try self.int()
        guard value > 0 else { throw self.invalid("must be a positive number, not \(value).") }
        return value
    }

    /// `true` or `false`, unquoted.
    public func bool() throws(SignoffError) -> Bool {
        if case .scalar(let scalar) = self.node, scalar.style == .plain {
            switch scalar.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        throw self.wrongType("true or false")
    }

    /// One of the raw values of `type`, such as a `Role`.
    public func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type, allowed: [T]? = nil, what: String) throws(SignoffError) -> T
    where T.RawValue == String {
        let text = try self.string()
        let allowed = allowed ?? Array(T.allCases)
        guard let value = T(rawValue: text), allowed.contains(where: { $0.rawValue == value.rawValue }) else {
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            throw self.invalid("unknown \(what) ‘\(text)’; expected one of \(names).")
        }
        return value
    }

    /// An error about this value, naming its line and key path.
    public func invalid(_ message: String) -> SignoffError {
        PolicyReader.error(file: self.file, line: self.line, key: self.path.isEmpty ? nil : self.path, message)
    }

    private func wrongType(_ expected: String) -> SignoffError {
        self.invalid("must be \(expected).")
    }
}

/// A YAML mapping of a policy file. Keys are read by name; `allowOnly` refuses the rest.
public struct PolicyMapping {
    let mapping: Node.Mapping
    public let file: String
    public let path: String
    /// The line where the mapping starts, named when a key is missing.
    public let line: Int

    /// Refuses any key not in `keys`, naming the line of the first stranger.
    public func allowOnly(_ keys: [String]) throws(SignoffError) {
        for (key, _) in self.mapping {
            let name = key.string ?? ""
            guard keys.contains(name) else {
                let allowed = keys.joined(separator: ", ")
                throw PolicyReader.error(file: self.file, line: key.mark?.line ?? self.line, key: self.childPath(name),
                                         "is not a known key; expected one of \(allowed).")
            }
        }
    }

    public func contains(_ key: String) -> Bool {
        self.mapping[key] != nil
    }

    /// The keys in the order written, for mappings keyed by name (such as event names).
    public var keys: [String] {
        self.mapping.map { $0.key.string ?? "" }
    }

    /// The value under `key`, or `missing_key` naming the mapping's line.
    public func value(_ key: String) throws(SignoffError) -> PolicyValue {
        guard let node = self.mapping[key] else {
            throw PolicyReader.error(file: self.file, line: self.line, key: self.childPath(key), "is missing.")
        }
        return PolicyValue(node: node, file: self.file, path: self.childPath(key))
    }

    public func optionalValue(_ key: String) -> PolicyValue? {
        self.mapping[key].map { PolicyValue(node: $0, file: self.file, path: self.childPath(key)) }
    }

    public func string(_ key: String) throws(SignoffError) -> String { try self.value(key).string() }
    public func int(_ key: String) throws(SignoffError) -> Int { try self.value(key).int() }
    public func positiveInt(_ key: String) throws(SignoffError) -> Int { try self.value(key).positiveInt() }
    public func bool(_ key: String) throws(SignoffError) -> Bool { try self.value(key).bool() }
    public func mapping(_ key: String) throws(SignoffError) -> PolicyMapping { try self.value(key).mapping() }
    public func sequence(_ key: String) throws(SignoffError) -> [PolicyValue] { try self.value(key).sequence() }

    private func childPath(_ key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }
}
