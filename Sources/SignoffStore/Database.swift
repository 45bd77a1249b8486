import Foundation
import Logging
import PostgresNIO
import SignoffCore
import Synchronization

/// How long the service waits on PostgreSQL before it answers `503 database_unavailable`.
public struct DatabaseLimits: Sendable {
    /// The longest wait for a pooled connection.
    public var connectionWait: Duration
    /// The wait for a connection while the server is known to be unreachable (fail fast).
    public var unreachableWait: Duration
    /// The longest one unit of work (a transaction, or the queries on one lease) may hold a
    /// connection; past it the connection is closed, which ends any query still waiting.
    public var operation: Duration
    /// Sent as `Retry-After` with `database_unavailable`.
    public var retryAfterSeconds: Int
    /// How long a unit of work may go on after its connection closed before the caller stops
    /// waiting for it (a query the closed connection dropped never ends).
    public var closedGrace: Duration = .seconds(1)

    public init(connectionWait: Duration = .seconds(2), unreachableWait: Duration = .milliseconds(250),
                operation: Duration = .seconds(15), retryAfterSeconds: Int = 2) {
        self.connectionWait = connectionWait
        self.unreachableWait = unreachableWait
        self.operation = operation
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// The service's PostgreSQL: one pool for writes, and optionally one for reads on a replica.
///
/// Every lease is bounded (`DatabaseLimits`): a request never waits on an unreachable server
/// for longer than the bound, and it gets `503 database_unavailable` with `Retry-After`.
public final class Database: Sendable {
    public let client: PostgresClient
    public let endpoint: DatabaseEndpoint
    public let logger: Logger
    public let limits: DatabaseLimits
    /// When a lease last failed because the server was unreachable; nil once one succeeds.
    private let unreachableSince = Mutex<ContinuousClock.Instant?>(nil)
    /// While unreachable, one request a second waits the full bound, so the pool gets the time
    /// to reconnect once the server is back; the others fail fast.
    private let lastProbe = Mutex<ContinuousClock.Instant>(.now)

    /// Set for start-up work (migrations, the demo) that may wait for and hold a connection
    /// longer than a request; inherited by its child tasks.
    @TaskLocal public static var unboundedOperations = false

    public init(endpoint: DatabaseEndpoint, maxConnections: Int = 20, limits: DatabaseLimits = .init(), logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username,
            password: endpoint.password, database: endpoint.database, tls: .disable
        )
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectionIdleTimeout = .seconds(60)
        configuration.options.connectTimeout = limits.connectionWait
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.endpoint = endpoint
        self.logger = logger
        self.limits = limits
    }

    /// The write request being handled in this task, if any (`scoped`); inherited by child tasks.
    @TaskLocal static var scope: RequestScope?

    /// Runs a whole write request on one connection, so its token check, its write count and
    /// its transition are one transaction and one lease instead of three of each.
    ///
    /// Inside, `opening` statements (the token check, the write count) start a transaction; the
    /// first `transaction` adopts it if nothing else ran in it, else commits it first and begins
    /// its own, so every statement keeps the outcome it would have had on its own. What is still
    /// open at the end commits. A nested or concurrent use while the connection is busy, or a
    /// task that outlives the request, gets a connection of its own, as outside a scope.
    public func scoped<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        if let current = Self.scope, current.database === self { return try await body() }
        let lease = try await self.lease(wait: self.leaseWait())
        defer { lease.release() }
        let scope = RequestScope(database: self, lease: lease)
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(try await Self.$scope.withValue(scope) { try await body() })
        } catch {
            outcome = .failure(error)
        }
        let closing = await scope.close(logger: self.logger)
        let result = try outcome.get()
        try closing.get()
        return result
    }

    /// A statement of the request's own opening (the token check, the write count): inside a
    /// write request's scope it joins the transaction that the request's transition adopts;
    /// outside one it runs on a connection of its own.
    ///
    /// A statement whose write must stand whatever the request's outcome (`keeps`: the write
    /// count, which a refused request must not escape) runs again on its own after the request's
    /// transition rolls back.
    public func opening<Result: Sendable>(
        keeps: Bool = false,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard let scope = self.claimScope() else { return try await self.withConnection(body) }
        defer { scope.release() }
        try await scope.begin(logger: self.logger)
        do {
            let result = try await self.watched(scope.lease, body)
            if keeps { scope.keep { connection in _ = try await body(connection) } }
            return result
        } catch {
            await scope.abort(logger: self.logger)
            throw error
        }
    }

    /// The current request's scope, claimed for one use, when it is this database's and free.
    private func claimScope() -> RequestScope? {
        guard let scope = Self.scope, scope.database === self, scope.claim() else { return nil }
        return scope
    }

    /// Whether the last lease found the server unreachable.
    public var isKnownUnreachable: Bool { self.unreachableSince.withLock { $0 != nil } }

    /// Runs `body` in one transaction. Errors thrown by `body` come back unwrapped, so a
    /// `SignoffError` from a machine reaches the caller as itself; the transaction is rolled back.
    ///
    /// `level` is the transaction's isolation; a repeatable-read one (a consistent picture of
    /// many tables) never adopts a request's opening transaction, which has run statements already.
    @discardableResult
    public func transaction<Result: Sendable>(
        level: TransactionLevel = .readCommitted,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if let scope = self.claimScope() {
            defer { scope.release() }
            // The request's opening transaction (its token check and write count) becomes this
            // one when nothing else ran in it, so a signature is one transaction; otherwise
            // that one commits first, as the statements would have one by one.
            let adoption = try await scope.prepareTransaction(adopting: level == .readCommitted, logger: self.logger)
            do {
                return try await self.watched(scope.lease) { [logger = self.logger] connection in
                    try await Self.transaction(on: connection, logger: logger, begin: adoption == nil ? level : nil, body)
                }
            } catch {
                // The opening's writes rolled back with the transition; those that must stand run again.
                if let adoption { await scope.redo(adoption, logger: self.logger) }
                throw error
            }
        }
        return try await self.withConnection { [logger = self.logger] connection in
            try await Self.transaction(on: connection, logger: logger, begin: level, body)
        }
    }

    /// A transaction's isolation level.
    public enum TransactionLevel: Sendable {
        case readCommitted
        case repeatableRead

        var begin: PostgresQuery {
            switch self {
            case .readCommitted: "BEGIN"
            case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
            }
        }
    }

    static func transaction<Result: Sendable>(
        isolation: isolated (any _Concurrency.Actor)? = #isolation,
        on connection: PostgresConnection,
        logger: Logger,
        begin: TransactionLevel? = .readCommitted,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if let begin { try await Self.query(begin.begin, on: connection, logger: logger) }
        let result: Result
        do {
            result = try await body(connection)
        } catch {
            let translated = Self.translate(error)
            // A lost connection rolled the transaction back already, and a ROLLBACK written to
            // its closed channel would never answer.
            if !Self.isConnectionLost(translated) {
                _ = try? await Self.query("ROLLBACK", on: connection, logger: logger)
            }
            await Prepared.closeIfSpoiled(connection, by: error, logger: logger)
            throw translated
        }
        do {
            try await Self.query("COMMIT", on: connection, logger: logger)
        } catch {
            throw Self.translate(error)
        }
        return result
    }

    /// Runs `body` on a pooled connection, waiting for one at most `limits.connectionWait`
    /// (`unreachableWait` while the server is known down) and holding it at most `limits.operation`.
    @discardableResult
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.withConnection(wait: nil, body)
    }

    private enum BodyEvent<Value: Sendable>: Sendable {
        case finished(Swift.Result<Value, any Error>)
        /// The connection closed (the server went, the bound passed, the caller was cancelled).
        case closed
        /// The operation bound passed.
        case overdue
        /// The connection closed a while ago and the body has still not ended.
        case abandon
    }

    /// The same with an explicit wait for the connection (`/ready` uses a short one).
    ///
    /// `body` runs in a task of its own, so the caller always gets an answer within the bounds:
    /// PostgresNIO drops, without ever failing it, a query written to a connection that has just
    /// closed (how requests in flight hung at an immediate PostgreSQL stop). Once the connection
    /// is closed, a body that has not ended within `closedGrace` is left behind and the caller
    /// gets `database_unavailable`.
    @discardableResult
    public func withConnection<Result: Sendable>(
        wait: Duration?,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if let scope = self.claimScope() {
            defer { scope.release() }
            scope.noteForeignStatement()
            return try await self.watched(scope.lease, body)
        }
        let lease = try await self.lease(wait: wait ?? self.leaseWait())
        defer { lease.release() }
        return try await self.watched(lease, body)
    }

    /// How long a new lease may wait: long for unbounded work (the CLI, seeding), short while
    /// the server is known down (but for a probe a second), else the configured wait.
    private func leaseWait() -> Duration {
        Self.unboundedOperations ? .seconds(600)
            : self.isKnownUnreachable && !self.takeProbe() ? self.limits.unreachableWait : self.limits.connectionWait
    }

    /// Runs `body` on the leased connection in a task of its own, watched (see `withConnection`).
    func watched<Result: Sendable>(
        _ lease: Lease,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let unbounded = Self.unboundedOperations
        let connection = lease.connection
        // The pool may hand out a connection whose server has just gone (it learns of the close
        // a moment later); a query written to it would never answer.
        if connection.isClosed {
            self.unreachableSince.withLock { $0 = $0 ?? .now }
            throw self.unavailable("The connection to the database was lost. If the change was not confirmed, retry it with the same Idempotency-Key.")
        }
        let (events, sink) = AsyncStream<BodyEvent<Result>>.makeStream()
        defer { sink.finish() }
        let work = Task {
            do {
                sink.yield(.finished(.success(try await body(connection))))
            } catch {
                sink.yield(.finished(.failure(error)))
            }
        }
        // Watches the connection (polled: a close callback per lease would pile up on a pooled
        // connection) and the operation bound. A query that never returns (a server that stopped
        // answering) ends when the connection is closed past the bound; the pool replaces it.
        // Both are timers of the connection's event loop, so a lease costs no task or thread of
        // its own for them: a sleeping task took a dispatch timer per lease.
        let loop = connection.eventLoop
        let poll = TimeAmount.milliseconds(200)
        let closedWatch = loop.scheduleRepeatedTask(initialDelay: poll, delay: poll) { task in
            if connection.isClosed {
                sink.yield(.closed)
                task.cancel()
            }
        }
        let overdueWatch = unbounded ? nil : loop.scheduleTask(in: TimeAmount(self.limits.operation)) { sink.yield(.overdue) }
        var grace: Task<Void, Never>?
        defer {
            closedWatch.cancel()
            overdueWatch?.cancel()
            grace?.cancel()
        }
        let outcome: Swift.Result<Result, any Error>? = await withTaskCancellationHandler {
            for await event in events {
                switch event {
                case .finished(let result):
                    return result
                case .overdue:
                    self.logger.warning("database operation exceeded its bound; closing its connection",
                                        metadata: ["signoff.db.bound_ms": "\(Self.milliseconds(self.limits.operation))"])
                    lease.timedOut.withLock { $0 = true }
                    connection.close().whenComplete { _ in }
                case .closed where grace == nil:
                    grace = Task { [closedGrace = self.limits.closedGrace] in
                        guard (try? await Task.sleep(for: closedGrace)) != nil else { return }
                        sink.yield(.abandon)
                    }
                case .closed:
                    break
                case .abandon:
                    self.logger.warning("database operation did not end after its connection closed; answering without it")
                    work.cancel()
                    return nil
                }
            }
            return nil
        } onCancel: {
            // A cancelled request (its deadline passed) closes its connection, which ends a query
            // still running; the pool replaces the connection.
            lease.cancelled.withLock { $0 = true }
            work.cancel()
            connection.close().whenComplete { _ in }
        }
        if lease.cancelled.withLock({ $0 }) { throw CancellationError() }
        if lease.timedOut.withLock({ $0 }) {
            throw self.unavailable("A database operation took longer than \(self.limits.operation.components.seconds) s and was stopped. The change was not saved; try again.")
        }
        guard let outcome else {
            self.unreachableSince.withLock { $0 = $0 ?? .now }
            throw self.unavailable("The connection to the database was lost. If the change was not confirmed, retry it with the same Idempotency-Key.")
        }
        do {
            return try outcome.get()
        } catch {
            await Prepared.closeIfSpoiled(connection, by: error, logger: self.logger)
            let translated = Self.translate(error)
            if let signoff = translated as? SignoffError, signoff.code == .databaseUnavailable {
                self.unreachableSince.withLock { $0 = $0 ?? .now }
                throw self.unavailable(signoff.detail)
            }
            throw translated
        }
    }

    /// A statement of the transaction's own (BEGIN, COMMIT, ROLLBACK), refused at once on a
    /// connection already closed instead of being handed to a channel that would drop it.
    static func query(_ sql: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        guard !connection.isClosed else {
            throw SignoffError(.databaseUnavailable, "The connection to the database was lost. If the change was not confirmed, retry it with the same Idempotency-Key.")
        }
        try await connection.query(sql, logger: logger)
    }

    static func isConnectionLost(_ error: any Error) -> Bool {
        (error as? SignoffError)?.code == .databaseUnavailable
    }

    func takeProbe() -> Bool {
        self.lastProbe.withLock { last in
            guard ContinuousClock.now - last >= .seconds(1) else { return false }
            last = .now
            return true
        }
    }

    /// A connection borrowed from the pool by a helper task that parks until it is released, so
    /// the wait for it can be bounded and abandoned without running the caller's body elsewhere.
    final class Lease: Sendable {
        let connection: PostgresConnection
        let timedOut = Mutex(false)
        let cancelled = Mutex(false)
        private let done: AsyncStream<Void>.Continuation
        init(connection: PostgresConnection, done: AsyncStream<Void>.Continuation) {
            self.connection = connection
            self.done = done
        }
        func release() { self.done.finish() }
    }

    private enum LeaseEvent: Sendable {
        case leased(Lease)
        case failed(any Error)
        case timedOut
    }

    private func lease(wait: Duration) async throws -> Lease {
        let (events, sink) = AsyncStream<LeaseEvent>.makeStream(bufferingPolicy: .bufferingNewest(4))
        let (done, release) = AsyncStream<Void>.makeStream()
        let client = self.client
        let holder = Task {
            do {
                try await client.withConnection { connection in
                    let lease = Lease(connection: connection, done: release)
                    // If the caller gave up already, the event is dropped and the lease returns at once.
                    if Task.isCancelled { return }
                    sink.yield(.leased(lease))
                    for await _ in done {}
                }
            } catch {
                sink.yield(.failed(error))
            }
            sink.finish()
        }
        // A timer of an event loop, not a sleeping task (a dispatch timer per lease).
        let timer = PostgresClient.defaultEventLoopGroup.any().scheduleTask(in: TimeAmount(wait)) { sink.yield(.timedOut) }
        defer { timer.cancel() }
        var iterator = events.makeAsyncIterator()
        let event = await withTaskCancellationHandler {
            await iterator.next()
        } onCancel: {
            sink.yield(.timedOut)
        }
        switch event {
        case .leased(let lease):
            self.unreachableSince.withLock { $0 = nil }
            return lease
        case .failed(let error):
            let translated = Self.translate(error)
            if let signoff = translated as? SignoffError, signoff.code == .databaseUnavailable {
                self.unreachableSince.withLock { $0 = $0 ?? .now }
                throw self.unavailable(signoff.detail)
            }
            throw translated
        case .timedOut, nil:
            // A lease that arrives after we stopped waiting goes straight back to the pool: the
            // holder sees its cancellation, or its `done` stream is already finished.
            holder.cancel()
            release.finish()
            if Task.isCancelled { throw CancellationError() }
            self.unreachableSince.withLock { $0 = $0 ?? .now }
            throw self.unavailable("No database connection within \(Self.milliseconds(wait)) ms: the database is unreachable or busy.")
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private func unavailable(_ detail: String) -> SignoffError {
        SignoffError(.databaseUnavailable, detail, extra: ["retry_after": .int(self.limits.retryAfterSeconds)])
    }

    /// Maps constraint violations to stable codes and lost connections to `database_unavailable`;
    /// everything else passes through. Constraint names stay in the logs, not in responses.
    static func translate(_ error: any Error) -> any Error {
        guard let psql = error as? PSQLError else { return error }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed:
            return SignoffError(.databaseUnavailable, "The connection to the database was lost. If the change was not confirmed, retry it with the same Idempotency-Key.")
        default:
            break
        }
        guard let state = psql.serverInfo?[.sqlState] else { return error }
        switch state {
        case "23505":
            return SignoffError(.duplicate, "A record with the same unique value exists already.")
        case "40001", "40P01":
            return SignoffError(.versionConflict, "Another change to the same record happened at the same time. Reload and try again.")
        case "22021", "22P05":
            return SignoffError(.invalidValue, "A text value holds a character the database cannot store (such as NUL).")
        case "57014":
            return SignoffError(.databaseUnavailable, "A database statement took longer than the service allows and was stopped. The change was not saved; try again.")
        case "57P01", "57P02", "57P03":
            return SignoffError(.databaseUnavailable, "The database is shutting down or starting up.")
        case let state where state.hasPrefix("08"):
            return SignoffError(.databaseUnavailable, "The connection to the database failed.")
        default:
            return error
        }
    }
}

/// One write request's connection (`Database.scoped`) and where its transaction stands.
final class RequestScope: Sendable {
    enum Phase: Sendable {
        /// No transaction is open.
        case idle
        /// BEGIN was sent and only opening statements ran since.
        case opening
        /// BEGIN was sent and other statements ran in it too.
        case mixed
    }

    private struct State: Sendable {
        var phase = Phase.idle
        var busy = false
        var closed = false
        /// Opening statements to run again if the transaction that adopted them rolls back.
        var kept: [@Sendable (PostgresConnection) async throws -> Void] = []
    }

    let database: Database
    let lease: Database.Lease
    private let state = Mutex(State())

    init(database: Database, lease: Database.Lease) {
        self.database = database
        self.lease = lease
    }

    /// Takes the connection for one use; false while another use holds it or after the request.
    func claim() -> Bool {
        self.state.withLock { state in
            guard !state.busy, !state.closed, !self.lease.connection.isClosed else { return false }
            state.busy = true
            return true
        }
    }

    func release() {
        self.state.withLock { $0.busy = false }
    }

    private var phase: Phase {
        get { self.state.withLock { $0.phase } }
        set { self.state.withLock { $0.phase = newValue } }
    }

    /// A statement that is not an opening one runs in the open transaction, if there is one.
    func noteForeignStatement() {
        self.state.withLock { if $0.phase == .opening { $0.phase = .mixed } }
    }

    func begin(logger: Logger) async throws {
        guard self.phase == .idle else { return }
        try await self.finish("BEGIN", logger: logger)
        self.phase = .opening
    }

    /// Before a transaction: true when it adopts the open one (BEGIN already sent); one that
    /// may not (`adopting` false) finds the open one committed.
    func prepareTransaction(adopting: Bool, logger: Logger) async throws -> Adoption? {
        let (phase, kept) = self.state.withLock { state in
            defer { state.phase = .idle; state.kept = [] }
            return (state.phase, state.kept)
        }
        switch phase {
        case .idle:
            return nil
        case .opening where adopting:
            return Adoption(kept: kept)
        case .opening, .mixed:
            try await self.finish("COMMIT", logger: logger)
            return nil
        }
    }

    /// An opening transaction a transition took over, with the statements to run again if it rolls back.
    struct Adoption: Sendable {
        let kept: [@Sendable (PostgresConnection) async throws -> Void]
    }

    /// Remembers an opening statement whose write must stand (`Database.opening(keeps:)`).
    func keep(_ statement: @escaping @Sendable (PostgresConnection) async throws -> Void) {
        self.state.withLock { $0.kept.append(statement) }
    }

    /// After the transaction that adopted the opening rolled back: runs the kept statements
    /// again, each on its own (autocommit). A failure is logged; the request's own error stands.
    func redo(_ adoption: Adoption, logger: Logger) async {
        for statement in adoption.kept where !self.lease.connection.isClosed {
            do {
                try await self.database.watched(self.lease, statement)
            } catch {
                logger.warning("An opening statement could not be kept after a rollback", metadata: ["signoff.error": "\(error)"])
            }
        }
    }

    /// After a failed statement in the open transaction: the database refuses everything else
    /// in it, so it is rolled back (the kept statements before it run again) and the connection is free again.
    func abort(logger: Logger) async {
        let (phase, kept) = self.state.withLock { state in
            defer { state.phase = .idle; state.kept = [] }
            return (state.phase, state.kept)
        }
        guard phase != .idle else { return }
        _ = try? await self.finish("ROLLBACK", logger: logger)
        await self.redo(Adoption(kept: kept), logger: logger)
    }

    /// At the request's end: commits what is still open.
    func close(logger: Logger) async -> Swift.Result<Void, any Error> {
        let phase = self.state.withLock { state in
            state.closed = true
            return state.phase
        }
        guard phase != .idle, !self.lease.connection.isClosed else { return .success(()) }
        do {
            try await self.finish("COMMIT", logger: logger)
            return .success(())
        } catch {
            return .failure(Database.translate(error))
        }
    }

    /// BEGIN, COMMIT or ROLLBACK, watched like any statement (a closed connection never answers).
    private func finish(_ sql: PostgresQuery, logger: Logger) async throws {
        guard !self.lease.connection.isClosed else { return }
        try await self.database.watched(self.lease) { connection in
            try await Database.query(sql, on: connection, logger: logger)
        }
    }
}

extension Database {
    /// Runs `body` while the pool's background task runs, for CLI commands and tests.
    @discardableResult
    public static func with<Result: Sendable>(
        endpoint: DatabaseEndpoint,
        maxConnections: Int = 20,
        limits: DatabaseLimits = .init(),
        logger: Logger,
        _ body: @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        let database = Database(endpoint: endpoint, maxConnections: maxConnections, limits: limits, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            // Let the pool's run loop start before the first lease, which it would otherwise warn about.
            try await Task.sleep(for: .milliseconds(20))
            return try await body(database)
        }
    }

    /// Waits until the server answers, for at most `timeout`.
    public func waitUntilReachable(timeout: Duration = .seconds(30)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            do {
                try await self.client.query("SELECT 1", logger: self.logger)
                return
            } catch {
                if clock.now >= deadline {
                    throw SignoffError(.databaseUnavailable, "PostgreSQL at \(self.endpoint.host):\(self.endpoint.port) did not answer: \(String(reflecting: error))")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
