import Foundation
import SignoffCore

/// Reads `workflows/isolation.yaml`, the township's returnee rules, once at start-up.
///
/// New returnees are registered under the policy loaded here; each keeps the version it
/// started under, so a restart with an edited file changes only later registrations.
public enum IsolationPolicyStore {
    /// The `workflows/` folder: `SIGNOFF_WORKFLOWS_DIR`, else the nearest `workflows/` holding
    /// the policy above the working directory or the executable (as `Migrator.defaultFolder()`).
    public static func defaultFolder() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["SIGNOFF_WORKFLOWS_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent(),
        ]
        for start in starts {
            var folder = start.standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent("workflows")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(IsolationPolicy.defaultFileName).path) {
                    return candidate
                }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        throw SignoffError(.policyInvalid,
                           "No workflows/\(IsolationPolicy.defaultFileName) found. Run signoff from the project folder, or set SIGNOFF_WORKFLOWS_DIR.")
    }

    /// Loads and validates the policy file of `folder`; `policy_invalid` names the line at fault.
    public static func load(from folder: URL) throws -> IsolationPolicy {
        let file = folder.appendingPathComponent(IsolationPolicy.defaultFileName)
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw SignoffError(.policyInvalid, "The policy file \(IsolationPolicy.defaultFileName) cannot be read.",
                               extra: ["file": .string(IsolationPolicy.defaultFileName)])
        }
        return try IsolationPolicy.load(yaml: text, file: IsolationPolicy.defaultFileName)
    }

    /// The policy of the default folder.
    public static func load() throws -> IsolationPolicy {
        try Self.load(from: Self.defaultFolder())
    }
}
