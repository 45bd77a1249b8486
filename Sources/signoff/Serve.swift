import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import SignoffCore
import SignoffHTTP
import SignoffStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP service. Ctrl-C stops it; the data folder stays reusable.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Address to listen on.") var host: String = ProcessInfo.processInfo.environment["SIGNOFF_HOST"] ?? "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = Int(ProcessInfo.processInfo.environment["SIGNOFF_PORT"] ?? "") ?? 8080
    @Flag(help: "Create the demo township (联合苗族乡) with one account per role, if the database is empty.") var demo = false
    @Option(help: "Password of the demo accounts (default: SIGNOFF_DEMO_PASSWORD, else one generated and kept in the data folder).")
    var demoPassword: String?
    @Option(help: "Writes (POST, PUT, PATCH, DELETE) one account may make per window; 0 turns it off (SIGNOFF_WRITE_LIMIT_ACCOUNT).")
    var writeLimitAccount: Int = RequestLimits.fromEnvironment().writes.perAccount
    @Option(help: "Writes one client address may make per window; 0 turns it off (SIGNOFF_WRITE_LIMIT_ADDRESS).")
    var writeLimitAddress: Int = RequestLimits.fromEnvironment().writes.perAddress
    @Option(help: "Length of the write-limit window in seconds (SIGNOFF_WRITE_LIMIT_WINDOW).")
    var writeLimitWindow: Int = RequestLimits.fromEnvironment().writes.windowSeconds
    @Option(help: "Seconds a request may take before it is answered 503 request_timeout (SIGNOFF_REQUEST_DEADLINE).")
    var requestDeadline: Double = Self.seconds(RequestLimits.fromEnvironment().requestDeadline)
    @Option(help: "Seconds a connection may send nothing complete before it is closed (SIGNOFF_IDLE_TIMEOUT).")
    var idleTimeout: Double = Self.seconds(RequestLimits.fromEnvironment().idleTimeout)

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    var limits: RequestLimits {
        var limits = RequestLimits.fromEnvironment()
        limits.writes = WriteLimits(perAccount: max(0, self.writeLimitAccount), perAddress: max(0, self.writeLimitAddress),
                                    windowSeconds: self.writeLimitWindow)
        limits.requestDeadline = .milliseconds(Int64(max(0.1, self.requestDeadline) * 1000))
        limits.idleTimeout = .milliseconds(Int64(max(0.1, self.idleTimeout) * 1000))
        return limits
    }

    func run() async throws {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = self.database.logger
        let demoPassword = self.demo ? try self.resolveDemoPassword() : nil
        let migrator = try Migrator.load(from: Migrator.defaultFolder())
        let policies = try PolicyCatalog.load(from: PolicyCatalog.defaultFolder())
        let signingKeys = try SigningKeys.load(dataFolder: URL(fileURLWithPath: self.database.dataDir))
        // The service owns its private cluster: Ctrl-C stops it, also when it was found running.
        try await self.database.withEndpoint(stopOnExit: true) { endpoint in
            let database = Database(endpoint: endpoint, logger: logger)
            let limits = self.limits
            let services = SignoffServices(database: database, clock: SystemWallClock(), registry: registry, policies: policies,
                                           notificationSettings: .fromEnvironment(), writeLimits: limits.writes,
                                           signingKeys: signingKeys)
            let host = self.host
            let app = buildApplication(
                services, host: host, port: self.port, logger: logger, limits: limits,
                beforeServerStarts: { try await Database.$unboundedOperations.withValue(true) {
                    try await database.waitUntilReachable()
                    try await migrator.migrate(database)
                    guard let password = demoPassword else { return [] }
                    let result = try await DemoTownship(accounts: services.accounts, workers: services.workers).seed(password: password)
                    var banner = [result.created ? "Demo township 联合苗族乡 created." : "Demo township already present."]
                    banner.append("Demo logins (password: \(password)):")
                    for login in result.logins {
                        banner.append("  \(login.username.padding(toLength: 18, withPad: " ", startingAt: 0)) \(login.role.rawValue) \(login.role.chineseName) at \(login.unit)")
                    }
                    banner.append("  gw01 … gw84 are the grid workers of the 84 grids. The figures: GET /reports/township or `signoff report`.")
                    return banner
                } },
                onServerRunning: { port, banner in
                    // Written unbuffered, so the banner reaches a log file at once.
                    let lines = ["Signoff is listening on http://\(host):\(port)  (database \(endpoint.host):\(endpoint.port)/\(endpoint.database))"]
                        + ["Credentials are signed with key \(signingKeys.keyID) (public keys: GET /.well-known/signoff-keys)."]
                        + banner + ["Try: curl http://\(host):\(port)/ready"]
                    FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
                }
            )
            let dataDir = self.database.dataDir
            try await runUntilSignalled(app, logger: logger, onStuck: {
                // The private cluster must not outlive the service, even when shutdown is stuck.
                guard ProcessInfo.processInfo.environment["DATABASE_URL"]?.isEmpty ?? true else { return }
                try? PostgresCluster(folder: URL(fileURLWithPath: dataDir), logger: logger).stop()
            })
        }
    }

    private func resolveDemoPassword() throws -> String {
        if let password = self.demoPassword ?? ProcessInfo.processInfo.environment["SIGNOFF_DEMO_PASSWORD"] { return password }
        let file = URL(fileURLWithPath: self.database.dataDir).appendingPathComponent("demo-password")
        if let saved = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !saved.isEmpty {
            return saved
        }
        let password = "demo-" + String(UUID().uuidString.prefix(8)).lowercased()
        try FileManager.default.createDirectory(atPath: self.database.dataDir, withIntermediateDirectories: true)
        try Data(password.utf8).write(to: file)
        return password
    }
}
