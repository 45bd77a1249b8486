import Foundation
import Logging
import SignoffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connection facts for one PostgreSQL server.
public struct DatabaseEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(host: String, port: Int, username: String, password: String?, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `postgres://user:password@host:port/database`.
    public init(url: String) throws(SignoffError) {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme),
              let host = components.host, !host.isEmpty
        else {
            throw SignoffError(.invalidValue, "DATABASE_URL must look like postgres://user:password@host:5432/database.")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user ?? "postgres"
        self.password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? self.username : path
    }

    public func with(database: String) -> DatabaseEndpoint {
        var copy = self
        copy.database = database
        return copy
    }
}

/// A private PostgreSQL cluster on loopback, under a data folder, as embedded databases do.
///
/// `initdb` and `pg_ctl` come from PATH or `/usr/lib/postgresql/*/bin`. When the process runs
/// as root they run as the `postgres` OS user, which PostgreSQL requires.
public struct PostgresCluster: Sendable {
    public struct Options: Sendable {
        /// Faster, unsafe settings for throwaway test clusters.
        public var forTests: Bool
        public var maxConnections: Int

        public init(forTests: Bool = false, maxConnections: Int = 200) {
            self.forTests = forTests
            self.maxConnections = maxConnections
        }
    }

    /// What `start` did, so the caller stops only what it started.
    public struct Handle: Sendable {
        public let endpoint: DatabaseEndpoint
        public let startedHere: Bool
    }

    public let folder: URL
    public let options: Options
    private let logger: Logger

    public static let superuser = "signoff"
    public static let defaultDatabase = "signoff"

    public init(folder: URL, options: Options = .init(), logger: Logger) {
        self.folder = folder.standardizedFileURL
        self.options = options
        self.logger = logger
    }

    private var dataDirectory: URL { self.folder.appendingPathComponent("pgdata") }
    private var stateFile: URL { self.folder.appendingPathComponent("cluster.json") }

    private struct State: Codable {
        var port: Int
        var password: String
    }

    /// Creates the cluster if needed, starts it unless it runs already, and returns how to reach it.
    public func start() throws -> Handle {
        let binaries = try Self.findBinaries()
        try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
        if Self.runningAsRoot {
            chmod(self.folder.path, 0o755)
            let reachable = try ChildProcess.run(["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/test", "-x", self.folder.path])
            guard reachable.status == 0 else {
                throw SignoffError(.databaseUnavailable, "The PostgreSQL server runs as the ‘postgres’ user, which cannot enter \(self.folder.path) (a folder above it is private). Use a data folder it can reach, for example --data-dir /var/lib/signoff or SIGNOFF_DATA_DIR=/var/lib/signoff.")
            }
        }
        var state: State
        if FileManager.default.fileExists(atPath: self.dataDirectory.appendingPathComponent("PG_VERSION").path) {
            state = try JSONDecoder().decode(State.self, from: Data(contentsOf: self.stateFile))
        } else {
            state = State(port: try Self.freeLoopbackPort(), password: Self.randomPassword())
            try self.initialise(binaries: binaries, password: state.password)
            try self.writeConfiguration(port: state.port)
            try JSONEncoder().encode(state).write(to: self.stateFile)
            chmod(self.stateFile.path, 0o600)
        }
        let endpoint = DatabaseEndpoint(
            host: "127.0.0.1", port: state.port, username: Self.superuser,
            password: state.password, database: Self.defaultDatabase
        )
        if try self.isRunning(binaries: binaries) {
            self.logger.info("reusing running PostgreSQL cluster", metadata: ["folder": "\(self.folder.path)", "port": "\(state.port)"])
            return Handle(endpoint: endpoint, startedHere: false)
        }
        if !Self.isPortFree(state.port) {
            // Another program took the port while the cluster was down: move to a free one.
            state.port = try Self.freeLoopbackPort()
            try self.writeConfiguration(port: state.port)
            try JSONEncoder().encode(state).write(to: self.stateFile)
        }
        let log = self.dataDirectory.appendingPathComponent("server.log").path
        let result = try self.run(binaries.pgCtl, ["start", "-D", self.dataDirectory.path, "-w", "-t", "120", "-l", log])
        guard result.status == 0 else {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(10).joined(separator: "\n") ?? ""
            throw SignoffError(.databaseUnavailable, "PostgreSQL did not start: \(result.output)\n\(tail)")
        }
        self.logger.info("started private PostgreSQL cluster", metadata: ["folder": "\(self.folder.path)", "port": "\(state.port)"])
        return Handle(endpoint: DatabaseEndpoint(
            host: "127.0.0.1", port: state.port, username: Self.superuser,
            password: state.password, database: Self.defaultDatabase
        ), startedHere: true)
    }

    /// Stops the cluster and deletes its folder once process `pid` has exited, by a small
    /// watchdog shell; for test clusters, which must not outlive the test run however it ends.
    public func removeWhenProcessExits(_ pid: Int32) throws {
        let binaries = try Self.findBinaries()
        let stop = (Self.runningAsRoot ? "/usr/sbin/runuser -u postgres -- /usr/bin/env -C / " : "")
            + "'\(binaries.pgCtl)' stop -D '\(self.dataDirectory.path)' -m immediate"
        let script = "while kill -0 \(pid) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf '\(self.folder.path)'"
        _ = try ChildProcess.run(["/bin/sh", "-c", script], wait: false)
    }

    /// Stops the cluster; `immediate` skips the shutdown checkpoint (for test clusters).
    public func stop(immediate: Bool = false) throws {
        let binaries = try Self.findBinaries()
        _ = try self.run(binaries.pgCtl, ["stop", "-D", self.dataDirectory.path, "-w", "-m", immediate ? "immediate" : "fast"])
    }

    private func isRunning(binaries: Binaries) throws -> Bool {
        try self.run(binaries.pgCtl, ["status", "-D", self.dataDirectory.path]).status == 0
    }

    private func initialise(binaries: Binaries, password: String) throws {
        try FileManager.default.createDirectory(at: self.dataDirectory, withIntermediateDirectories: true)
        let passwordFile = self.folder.appendingPathComponent("initdb.pw")
        try Data(password.utf8).write(to: passwordFile)
        defer { try? FileManager.default.removeItem(at: passwordFile) }
        try self.handToServerUser(self.dataDirectory, mode: 0o700)
        try self.handToServerUser(passwordFile, mode: 0o600)
        let result = try self.run(binaries.initdb, [
            "-D", self.dataDirectory.path, "-U", Self.superuser, "--auth=scram-sha-256",
            "--pwfile=\(passwordFile.path)", "-E", "UTF8", "--no-locale", "--no-instructions",
        ] + (self.options.forTests ? ["--no-sync"] : []))
        guard result.status == 0 else {
            throw SignoffError(.databaseUnavailable, "initdb failed: \(result.output)")
        }
        let conf = self.dataDirectory.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        handle.seekToEndOfFile()
        handle.write(Data("\ninclude_if_exists = 'signoff.conf'\n".utf8))
        try handle.close()
    }

    private func writeConfiguration(port: Int) throws {
        var lines = [
            "# Written by signoff; changes here are overwritten.",
            "listen_addresses = '127.0.0.1'",
            "port = \(port)",
            "unix_socket_directories = ''",
            "max_connections = \(self.options.maxConnections)",
        ]
        if self.options.forTests {
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off", "shared_buffers = 128MB"]
        } else {
            // Full-page images after each checkpoint are most of a signature's WAL; compressed,
            // about a third (docs/performance.md).
            lines += ["wal_compression = on"]
        }
        let file = self.dataDirectory.appendingPathComponent("signoff.conf")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        try self.handToServerUser(file, mode: 0o600)
    }

    // MARK: - Processes

    struct Binaries {
        var initdb: String
        var pgCtl: String
    }

    static func findBinaries() throws -> Binaries {
        var folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            folders.append("/usr/lib/postgresql/\(version)/bin")
        }
        for folder in folders {
            let initdb = "\(folder)/initdb"
            let pgCtl = "\(folder)/pg_ctl"
            if FileManager.default.isExecutableFile(atPath: initdb), FileManager.default.isExecutableFile(atPath: pgCtl) {
                return Binaries(initdb: initdb, pgCtl: pgCtl)
            }
        }
        throw SignoffError(
            .serverMissing,
            "The PostgreSQL server programs (initdb, pg_ctl) were not found in PATH or /usr/lib/postgresql/*/bin. Install them (on Debian or Ubuntu: apt-get install -y postgresql), or set DATABASE_URL to use an existing server."
        )
    }

    static var runningAsRoot: Bool { geteuid() == 0 }

    private func handToServerUser(_ url: URL, mode: mode_t) throws {
        chmod(url.path, mode)
        guard Self.runningAsRoot else { return }
        guard let entry = getpwnam("postgres") else {
            throw SignoffError(.serverMissing, "Running as root, but there is no ‘postgres’ OS user to run the server as. Install the postgresql package, which creates it.")
        }
        chown(url.path, entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Runs a server program, as the `postgres` user when we are root.
    private func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        // From `/`, since the server user may not be able to enter our working directory.
        let argv = Self.runningAsRoot
            ? ["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/env", "-C", "/", program] + arguments
            : [program] + arguments
        return try ChildProcess.run(argv)
    }

    // MARK: - Ports and secrets

    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SignoffError(.databaseUnavailable, "No socket for a free port.") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SignoffError(.databaseUnavailable, "Could not find a free loopback port.") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func isPortFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func randomPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
