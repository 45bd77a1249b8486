import Foundation
import SignoffCore
import Synchronization

/// The township's policy files of `workflows/`, read and validated together at start-up.
///
/// New records copy the policy in force when they start; `reload` swaps in changed files for
/// new records only, since records in flight keep the values and the version they copied.
public final class PolicyCatalog: Sendable {
    /// Every policy file, as one consistent set.
    public struct Policies: Sendable {
        public var vehicle: VehiclePolicy
        public var isolation: IsolationPolicy
        public var workers: WorkerPolicy
        public var notifications: NotificationPolicy
        public var checkpoints: CheckpointPolicy
    }

    private let current: Mutex<(folder: URL?, policies: Policies?)>

    /// A catalog that reads `folder` (default: `defaultFolder()`) when first asked.
    public init(folder: URL? = nil) {
        self.current = Mutex((folder, nil))
    }

    /// Reads and validates every file now, so a bad policy stops the service before it listens.
    public static func load(from folder: URL) throws -> PolicyCatalog {
        let catalog = PolicyCatalog(folder: folder)
        _ = try catalog.policies()
        return catalog
    }

    /// The vehicle policy in force (`vehicle-pass.yaml`).
    public func vehiclePolicy() throws -> VehiclePolicy { try self.policies().vehicle }

    /// The returnee isolation policy in force (`isolation.yaml`).
    public func isolationPolicy() throws -> IsolationPolicy { try self.policies().isolation }

    /// The migrant-worker policy in force (`workers.yaml`).
    public func workerPolicy() throws -> WorkerPolicy { try self.policies().workers }

    /// The notification policy in force (`notifications.yaml`).
    public func notificationPolicy() throws -> NotificationPolicy { try self.policies().notifications }

    /// The checkpoint policy in force (`checkpoints.yaml`).
    public func checkpointPolicy() throws -> CheckpointPolicy { try self.policies().checkpoints }

    public func policies() throws -> Policies {
        if let policies = self.current.withLock({ $0.policies }) { return policies }
        let folder = try self.current.withLock { $0.folder } ?? Self.defaultFolder()
        let policies = try Self.read(in: folder)
        return self.current.withLock { state in
            // Another caller may have loaded them meanwhile; the first one stays.
            let kept = state.policies ?? policies
            state = (folder, kept)
            return kept
        }
    }

    /// Reads the files again, from `folder` when given; on an error the policies in force stay.
    @discardableResult
    public func reload(from folder: URL? = nil) throws -> Policies {
        let folder = try folder ?? self.current.withLock { $0.folder } ?? Self.defaultFolder()
        let policies = try Self.read(in: folder)
        self.current.withLock { $0 = (folder, policies) }
        return policies
    }

    static func read(in folder: URL) throws -> Policies {
        Policies(
            vehicle: try Self.readFile(VehiclePolicy.defaultFileName, in: folder) { try VehiclePolicy.load(yaml: $0, file: $1) },
            isolation: try Self.readFile(IsolationPolicy.defaultFileName, in: folder) { try IsolationPolicy.load(yaml: $0, file: $1) },
            workers: try Self.readFile(WorkerPolicy.defaultFileName, in: folder) { try WorkerPolicy.load(yaml: $0, file: $1) },
            notifications: try Self.readFile(NotificationPolicy.defaultFileName, in: folder) {
                try NotificationPolicy.load(yaml: $0, file: $1)
            },
            checkpoints: try Self.readFile(CheckpointPolicy.defaultFileName, in: folder) { try CheckpointPolicy.load(yaml: $0, file: $1) }
        )
    }

    static func readFile<Policy>(_ name: String, in folder: URL, _ parse: (String, String) throws -> Policy) throws -> Policy {
        let text: String
        do {
            text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        } catch {
            throw SignoffError(.policyInvalid, "The policy file \(name) cannot be read in \(folder.lastPathComponent)/.",
                               extra: ["file": .string(name)])
        }
        return try parse(text, name)
    }

    /// The `workflows/` folder: `SIGNOFF_WORKFLOWS_DIR`, else the nearest `workflows/` holding
    /// `vehicle-pass.yaml` above the working directory or the executable.
    public static func defaultFolder() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["SIGNOFF_WORKFLOWS_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        if let found = ProjectFolder.find("workflows", containing: VehiclePolicy.defaultFileName) { return found }
        throw SignoffError(.policyInvalid, "No workflows/ folder found. Run signoff from the project folder, or set SIGNOFF_WORKFLOWS_DIR.")
    }
}

/// Finds a folder of the project (`schema/`, `workflows/`) above the working directory or the executable.
enum ProjectFolder {
    static func find(_ name: String, containing file: String) -> URL? {
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent(),
        ]
        for start in starts {
            var folder = start.standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(file).path) { return candidate }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { return nil }
                folder = parent
            }
        }
        return nil
    }
}
