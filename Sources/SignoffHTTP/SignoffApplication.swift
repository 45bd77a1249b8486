import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import SignoffCore
import SignoffStore

/// Everything the HTTP layer needs, built once per process.
public struct SignoffServices: Sendable {
    public let database: Database
    public let transitions: TransitionStore
    public let accounts: AccountStore
    public let organisation: OrganisationStore
    public let isolation: IsolationStore
    /// 上下午走访: the grid workers' daily visits and their coverage.
    public let visits: VisitStore
    public let vehicleEvents: VehicleEventConsumer
    public let workers: WorkersStore
    public let reports: ReportStore
    public let registry: PrometheusCollectorRegistry
    public let policies: PolicyCatalog
    public let vehicles: VehicleStore
    public let agriculturalPasses: AgriculturalPassStore
    public let inbox: ApprovalInbox
    public let delegations: DelegationStore
    public let notificationSettings: NotificationSettings
    public let notifications: NotificationStore
    public let webhooks: WebhookStore
    /// Timers, notices and webhooks: one round with `runOnce()`; the service runs it every few seconds.
    public let notificationWorker: NotificationWorker
    /// Rate limits on writes per account and per client address, shared by all instances.
    public let writeLimiter: WriteLimiter
    /// The township key that signs credentials, and the public keys published for checking them.
    public let signingKeys: SigningKeys
    /// The signed credentials issued, and the revocation list.
    public let credentials: CredentialStore
    /// The checkpoints' log, roster and report.
    public let checkpoints: CheckpointStore

    /// `policies` defaults to the `workflows/` folder, read when first needed; `serve` loads it before listening.
    public init(database: Database, clock: any WallClock, accountSettings: AccountSettings = .init(),
                registry: PrometheusCollectorRegistry = .init(), policies: PolicyCatalog = PolicyCatalog(),
                notificationSettings: NotificationSettings = .init(), timers: TimerStore? = nil,
                writeLimits: WriteLimits = .init(), signingKeys: SigningKeys? = nil) {
        self.database = database
        // Without a data folder (tests, a router built to list its routes) the key lives in memory.
        let keys = signingKeys ?? .ephemeral(now: clock.now())
        self.signingKeys = keys
        self.transitions = TransitionStore(database: database, clock: clock, signingKeys: keys)
        self.accounts = AccountStore(transitions: self.transitions, settings: accountSettings)
        self.organisation = OrganisationStore(database: database)
        self.isolation = IsolationStore(transitions: self.transitions, policies: policies)
        self.visits = VisitStore(transitions: self.transitions, isolation: self.isolation)
        self.vehicleEvents = VehicleEventConsumer(isolation: self.isolation)
        self.workers = WorkersStore(transitions: self.transitions, policies: policies, accountSettings: accountSettings)
        self.reports = ReportStore(database: database)
        self.registry = registry
        self.policies = policies
        self.vehicles = VehicleStore(transitions: self.transitions, policies: policies)
        self.agriculturalPasses = AgriculturalPassStore(transitions: self.transitions, policies: policies)
        self.inbox = ApprovalInbox(database: database, clock: clock)
        self.delegations = DelegationStore(transitions: self.transitions, vehicles: self.vehicles)
        self.notificationSettings = notificationSettings
        self.notifications = NotificationStore(database: database, clock: clock, policies: policies)
        self.webhooks = WebhookStore(database: database, clock: clock)
        self.notificationWorker = NotificationWorker(
            timers: timers ?? TimerStore(database: database, clock: clock, policies: policies),
            notifications: self.notifications,
            sender: WebhookSender(store: self.webhooks, settings: notificationSettings, logger: database.logger),
            checkpoints: AuditCheckpointStore(database: database, clock: clock, keys: self.signingKeys),
            metrics: NotificationMetrics(registry: registry))
        self.writeLimiter = WriteLimiter(database: database, clock: clock, limits: writeLimits)
        self.credentials = CredentialStore(database: database)
        self.checkpoints = CheckpointStore(transitions: self.transitions, policies: policies)
    }
}

/// The router with every route and middleware; at most `maxConcurrentRequests` are handled at once.
public func buildRouter(_ services: SignoffServices, maxConcurrentRequests: Int = 512) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: MetricsMiddleware())
    // No inline script or style anywhere: the web app's JS and CSS are files under /assets.
    router.add(middleware: ContentSecurityMiddleware(contentSecurityPolicy: [
        .defaultSrc(.self), .imgSrc(.self, "data:"), .formAction(.self), .frameAncestors(.none), .baseURI(.self),
        .objectSrc(.none), .workerSrc(.self), .manifestSrc(.self),
    ]))
    let routes = RouteTable()
    router.add(middleware: ProblemMiddleware(routes: routes))
    router.add(middleware: ConcurrencyLimitMiddleware(gate: RequestGate(limit: maxConcurrentRequests)))
    // A write request runs on one connection, its token check, write count and transition in
    // one transaction (`Database.scoped`).
    router.add(middleware: RequestScopeMiddleware<AppRequestContext>(database: services.database))
    router.add(middleware: AuthenticationMiddleware(accounts: services.accounts))
    // The web app counts its writes after its own session middleware, so they fail as pages.
    router.add(middleware: WriteLimitMiddleware<AppRequestContext>(
        limiter: services.writeLimiter, account: { $0.actor?.userID }, address: { $0.clientAddress },
        skip: { WebApp.isWebPath($0) }))

    SystemController(database: services.database, registry: services.registry).addRoutes(to: router)
    SigningKeysController(keys: services.signingKeys).addRoutes(to: router)
    let authenticated = router.group(context: AuthenticatedContext.self)
    CheckpointController(checkpoints: services.checkpoints, credentials: services.credentials, clock: services.transitions.clock)
        .addRoutes(to: router, authenticated: authenticated)
    AuthController(accounts: services.accounts).addRoutes(to: router, authenticated: authenticated)
    UnitsController(organisation: services.organisation, transitions: services.transitions).addRoutes(to: authenticated)
    UsersController(accounts: services.accounts).addRoutes(to: authenticated)
    AuditController(database: services.database).addRoutes(to: authenticated)
    IsolationController(isolation: services.isolation).addRoutes(to: authenticated)
    VehiclesController(vehicles: services.vehicles, clock: services.transitions.clock).addRoutes(to: authenticated)
    PassesController(vehicles: services.vehicles, delegations: services.delegations, clock: services.transitions.clock)
        .addRoutes(to: authenticated)
    DelegationsController(delegations: services.delegations, clock: services.transitions.clock).addRoutes(to: authenticated)
    AgriculturalPassesController(passes: services.agriculturalPasses, clock: services.transitions.clock).addRoutes(to: authenticated)
    ApprovalsController(inbox: services.inbox, organisation: services.organisation, clock: services.transitions.clock).addRoutes(to: authenticated)
    WorkersController(workers: services.workers).addRoutes(to: router, authenticated: authenticated)
    ReportsController(reports: services.reports).addRoutes(to: authenticated)
    NotificationsController(notifications: services.notifications).addRoutes(to: authenticated)
    WebhooksController(webhooks: services.webhooks, policies: services.policies, settings: services.notificationSettings,
                       transitions: services.transitions)
        .addRoutes(to: authenticated)
    router.add(middleware: FileMiddleware(WebRenderer.assetsPath, urlBasePath: "/assets"))
    do {
        try WebApp(services: services).addRoutes(to: router)
    } catch {
        // Unreachable in a built service: the templates are resources of this module (a test renders each).
        fatalError("the web app's templates could not be read: \(error)")
    }
    routes.set(router.routes.map { ("\($0.path)", $0.method.rawValue) })
    return router
}

/// The service: the router on a server, with the database pool and the vehicle-event
/// consumer as lifecycle services.
///
/// `beforeServerStarts` runs once the pool runs and before the port opens (migrations, the
/// demo); the lines it returns are handed to `onServerRunning` for the start-up banner.
public func buildApplication(
    _ services: SignoffServices,
    host: String,
    port: Int,
    logger: Logger,
    limits: RequestLimits = .init(),
    eventPollInterval: Duration = .seconds(2),
    beforeServerStarts: @escaping @Sendable () async throws -> [String] = { [] },
    onServerRunning: @escaping @Sendable (Int, [String]) async -> Void = { _, _ in }
) -> some ApplicationProtocol {
    let startUp = StartUp()
    var application = Application(
        responder: DeadlineResponder(inner: buildRouter(services, maxConcurrentRequests: limits.maxConcurrentRequests).buildResponder(),
                                     deadline: limits.requestDeadline),
        server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(limits.idleTimeout.components.seconds) * 1_000_000_000
                                                                        + limits.idleTimeout.components.attoseconds / 1_000_000_000))),
        configuration: .init(address: .hostname(host, port: port), serverName: "signoff"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port, await startUp.lines) },
        logger: logger
    )
    application.addServices(services.database.client)
    // The consumer starts once the schema is migrated, not while it is being created.
    application.addServices(VehicleEventService(
        consumer: services.vehicleEvents, interval: eventPollInterval, logger: logger, isReady: { await startUp.isFinished }))
    application.addServices(NotificationService(
        worker: services.notificationWorker, interval: eventPollInterval, logger: logger, isReady: { await startUp.isFinished }))
    application.addServices(PendingTallyService(
        queries: AdminQueries(database: services.database, clock: services.transitions.clock), interval: .seconds(5), logger: logger,
        isReady: { await startUp.isFinished }))
    application.beforeServerStarts {
        await startUp.finish(try await beforeServerStarts())
    }
    return application
}

/// Runs the service until SIGINT or SIGTERM. Graceful shutdown (requests in flight finish, the
/// port closes) lasts at most `shutdownDeadline`; whatever still runs is then cancelled, so
/// Ctrl-C always stops the service, even while the database hangs.
///
/// If the service has still not stopped `shutdownDeadline + 5 s` after the signal (a task that
/// ignores cancellation), `onStuck` runs and the process exits with status 1.
public func runUntilSignalled(
    _ application: some ApplicationProtocol, logger: Logger, shutdownDeadline: Duration = .seconds(10),
    onStuck: @escaping @Sendable () -> Void = {}
) async throws {
    let watchdog = ShutdownWatchdog(after: shutdownDeadline + .seconds(5), logger: logger, onStuck: onStuck)
    var configuration = ServiceGroupConfiguration(services: [application, watchdog], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = shutdownDeadline
    try await ServiceGroup(configuration: configuration).run()
}

/// Waits for graceful shutdown to begin, then arms a timer outside the group that ends the
/// process if the group has not finished by then.
private struct ShutdownWatchdog: Service {
    let after: Duration
    let logger: Logger
    let onStuck: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        let (after, logger, onStuck) = (self.after, self.logger, self.onStuck)
        Task.detached {
            try? await Task.sleep(for: after)
            logger.error("shutdown did not finish in time; exiting")
            onStuck()
            exit(1)
        }
    }
}

/// What the start-up work left: whether it is done, and the banner lines it returned.
private actor StartUp {
    private(set) var lines: [String] = []
    private(set) var isFinished = false

    func finish(_ lines: [String]) {
        self.lines = lines
        self.isFinished = true
    }
}
