import Foundation
import SignoffCore
import Synchronization

/// The township's policy files of `workflows/`, read and validated at start-up.
///
/// New pledges, applications and agricultural passes copy the policy in force when they
/// start; `reload` swaps in a changed file for new records only, since records in flight
/// keep the values and the version they copied.
public final class PolicyCatalog: Sendable {
    private let current: Mutex<(folder: URL?, vehicle: VehiclePolicy?)>

    /// A catalog that reads `folder` (default: `defaultFolder()`) when first asked.
    public init(folder: URL? = nil) {
        self.current = Mutex((folder, nil))
    }

    /// Reads and validates every file now, so a bad policy stops the service before it listens.
    public static func load(from folder: URL) throws -> PolicyCatalog {
        let catalog = PolicyCatalog(folder: folder)
        _ = try catalog.vehiclePolicy()
        return catalog
    }

    /// The vehicle policy in force (`vehicle-pass.yaml`).
    public func vehiclePolicy() throws -> VehiclePolicy {
        if let policy = self.current.withLock({ $0.vehicle }) { return policy }
        let folder = try self.current.withLock { $0.folder } ?? Self.defaultFolder()
        let policy = try Self.readVehiclePolicy(in: folder)
        self.current.withLock { $0 = (folder, $0.vehicle ?? policy) }
        return self.current.withLock { $0.vehicle! }  // set just above
    }

    /// Reads the files again, from `folder` when given; on an error the policy in force stays.
    @discardableResult
    public func reload(from folder: URL? = nil) throws -> VehiclePolicy {
        let folder = try folder ?? self.current.withLock { $0.folder } ?? Self.defaultFolder()
        let policy = try Self.readVehiclePolicy(in: folder)
        self.current.withLock { $0 = (folder, policy) }
        return policy
    }

    static func readVehiclePolicy(in folder: URL) throws -> VehiclePolicy {
        let file = folder.appendingPathComponent(VehiclePolicy.defaultFileName)
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw SignoffError(.policyInvalid, "The policy file \(VehiclePolicy.defaultFileName) cannot be read in \(folder.lastPathComponent)/.",
                               extra: ["file": .string(VehiclePolicy.defaultFileName)])
        }
        return try VehiclePolicy.load(yaml: text, file: VehiclePolicy.defaultFileName)
    }

    /// The `workflows/` folder: `SIGNOFF_WORKFLOWS_DIR`, else the nearest `workflows/` holding
    /// `vehicle-pass.yaml` above the working directory or the executable.
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
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(VehiclePolicy.defaultFileName).path) {
                    return candidate
                }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        throw SignoffError(.policyInvalid, "No workflows/ folder found. Run signoff from the project folder, or set SIGNOFF_WORKFLOWS_DIR.")
    }
}
