import Foundation
import Testing

@testable import SignoffCore

/// A valid policy file, one line per element, so tests can break one line and name it.
struct PolicyLines {
    var lines: [String]

    /// The text with 1-based lines replaced, or new lines inserted before them.
    func yaml(replacing replacements: [Int: String] = [:], inserting inserts: [Int: String] = [:]) -> String {
        var result: [String] = []
        for (index, line) in self.lines.enumerated() {
            let number = index + 1
            if let extra = inserts[number] { result.append(extra) }
            result.append(replacements[number] ?? line)
        }
        return result.joined(separator: "\n") + "\n"
    }
}

/// Expects `load` to refuse the text as `policy_invalid`, naming `file`, `line` and `text`.
func expectPolicyInvalid<Policy>(
    _ yaml: String, file: String, line: Int, mentioning text: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ load: (String, String) throws(SignoffError) -> Policy
) {
    let error = expectError(.policyInvalid, sourceLocation: sourceLocation) { () throws(SignoffError) in
        try load(yaml, file)
    }
    #expect(error?.extra["line"] == .int(line), "\(String(reflecting: error))", sourceLocation: sourceLocation)
    #expect(error?.detail.contains("line \(line)") == true, sourceLocation: sourceLocation)
    #expect(error?.detail.contains(text) == true, "\(error?.detail ?? "")", sourceLocation: sourceLocation)
    #expect(error?.extra["file"] == .string(file), sourceLocation: sourceLocation)
}
