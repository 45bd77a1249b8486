import Foundation
import Hummingbird
import Logging
import Prometheus
import SignoffCore
import SignoffStore

/// Everything the HTTP layer needs, built once per process.
public struct SignoffServices: Sendable {
    public let database: Database
    public let transitions: TransitionStore
    public let accounts: AccountStore
    public let organisation: OrganisationStore
    public let workers: WorkersStore
    public let reports: ReportStore
    public let registry: PrometheusCollectorRegistry

    public init(
        database: Database, clock: any WallClock, accountSettings: AccountSettings = .init(),
        workerPolicy: WorkerPolicy = .builtIn, registry: PrometheusCollectorRegistry = .init()
    ) {
        self.database = database
        self.transitions = TransitionStore(database: database, clock: clock)
        self.accounts = AccountStore(transitions: self.transitions, settings: accountSettings)
        self.organisation = OrganisationStore(database: database)
        self.workers = WorkersStore(transitions: self.transitions, policy: workerPolicy, accountSettings: accountSettings)
        self.reports = ReportStore(database: database)
        self.registry = registry
    }
}

/// The router with every route and middleware.
public func buildRouter(_ services: SignoffServices) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: AuthenticationMiddleware(accounts: services.accounts))

    SystemController(database: services.database, registry: services.registry).addRoutes(to: router)
    let authenticated = router.group(context: AuthenticatedContext.self)
    AuthController(accounts: services.accounts).addRoutes(to: router, authenticated: authenticated)
    UnitsController(organisation: services.organisation).addRoutes(to: authenticated)
    UsersController(accounts: services.accounts).addRoutes(to: authenticated)
    AuditController(database: services.database).addRoutes(to: authenticated)
    WorkersController(workers: services.workers).addRoutes(to: router, authenticated: authenticated)
    ReportsController(reports: services.reports).addRoutes(to: authenticated)
    return router
}

/// The service: the router on a server, with the database pool as a lifecycle service.
///
/// `beforeServerStarts` runs once the pool runs and before the port opens (migrations, the
/// demo); the lines it returns are handed to `onServerRunning` for the start-up banner.
public func buildApplication(
    _ services: SignoffServices,
    host: String,
    port: Int,
    logger: Logger,
    beforeServerStarts: @escaping @Sendable () async throws -> [String] = { [] },
    onServerRunning: @escaping @Sendable (Int, [String]) async -> Void = { _, _ in }
) -> some ApplicationProtocol {
    let banner = Banner()
    var application = Application(
        router: buildRouter(services),
        configuration: .init(address: .hostname(host, port: port), serverName: "signoff"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port, await banner.lines) },
        logger: logger
    )
    application.addServices(services.database.client)
    application.beforeServerStarts {
        await banner.set(try await beforeServerStarts())
    }
    return application
}

private actor Banner {
    var lines: [String] = []
    func set(_ lines: [String]) { self.lines = lines }
}
