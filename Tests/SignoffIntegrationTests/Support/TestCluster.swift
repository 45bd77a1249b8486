import Foundation
import Logging
import PostgresNIO
import SignoffStore

#if canImport(Glibc)
import Glibc
#endif

/// One private PostgreSQL cluster per test process, with a migrated template database.
/// Each test gets its own database cloned from the template, so tests run in parallel.
actor TestCluster {
    static let shared = TestCluster()

    static let templateName = "signoff_template"

    private var ready: Task<DatabaseEndpoint, any Error>?

    static var logger: Logger {
        var logger = Logger(label: "signoff.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["SIGNOFF_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    static var schemaFolder: URL { repositoryRoot.appendingPathComponent("schema") }

    /// The cluster's superuser endpoint, started on first use.
    func endpoint() async throws -> DatabaseEndpoint {
        if let ready { return try await ready.value }
        let task = Task { try await Self.start() }
        self.ready = task
        return try await task.value
    }

    private static func start() async throws -> DatabaseEndpoint {
        let logger = Self.logger
        if let url = ProcessInfo.processInfo.environment["SIGNOFF_TEST_DATABASE_URL"], !url.isEmpty {
            let endpoint = try DatabaseEndpoint(url: url)
            try await Self.createTemplate(endpoint, logger: logger)
            return endpoint
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("signoff-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
        let cluster = PostgresCluster(folder: folder, options: .init(forTests: true, maxConnections: 400), logger: logger)
        let handle = try cluster.start()
        try cluster.removeWhenProcessExits(getpid())
        try await Self.createTemplate(handle.endpoint, logger: logger)
        return handle.endpoint
    }

    private static func createTemplate(_ endpoint: DatabaseEndpoint, logger: Logger) async throws {
        try await Database.with(endpoint: endpoint.with(database: "postgres"), maxConnections: 1, logger: logger) { admin in
            try await admin.waitUntilReachable(timeout: .seconds(60))
            try await admin.client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(Self.templateName) WITH (FORCE)"), logger: logger)
            try await admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(Self.templateName)"), logger: logger)
        }
        try await Database.with(endpoint: endpoint.with(database: Self.templateName), maxConnections: 1, logger: logger) { database in
            try await Migrator.load(from: Self.schemaFolder).migrate(database)
        }
    }

    /// A new database cloned from the migrated template, or an empty one.
    func freshDatabase(migrated: Bool = true) async throws -> DatabaseEndpoint {
        let endpoint = try await self.endpoint()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let template = migrated ? " TEMPLATE \(Self.templateName)" : ""
        try await Database.with(endpoint: endpoint.with(database: "postgres"), maxConnections: 1, logger: Self.logger) { admin in
            try await admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(template)"), logger: Self.logger)
        }
        return endpoint.with(database: name)
    }
}
