import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SignoffCore
import SignoffStore

/// The bounds on requests that protect the service from slow or abusive clients.
public struct RequestLimits: Sendable {
    /// Requests handled at once; past it `503 service_busy`.
    public var maxConcurrentRequests: Int
    /// The longest a request may take from its head to its answer; past it `503 request_timeout`.
    /// Longer than the database bounds (2 s for a connection, 15 s holding it), so a database
    /// outage answers `database_unavailable` first.
    public var requestDeadline: Duration
    /// A connection that sends no complete request head or body part for this long is closed:
    /// a client that trickles its headers, or sends nothing, does not hold a connection.
    public var idleTimeout: Duration
    /// Rate limits on writes, counted in PostgreSQL across instances.
    public var writes: WriteLimits

    public init(maxConcurrentRequests: Int = 512, requestDeadline: Duration = .seconds(20), idleTimeout: Duration = .seconds(30),
                writes: WriteLimits = .init()) {
        self.maxConcurrentRequests = maxConcurrentRequests
        self.requestDeadline = requestDeadline
        self.idleTimeout = idleTimeout
        self.writes = writes
    }

    /// `SIGNOFF_MAX_REQUESTS`, `SIGNOFF_REQUEST_DEADLINE` and `SIGNOFF_IDLE_TIMEOUT` (seconds), and the write limits.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> RequestLimits {
        var limits = RequestLimits(writes: .fromEnvironment(environment))
        func seconds(_ name: String) -> Duration? {
            environment[name].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }.flatMap { $0 > 0 ? .milliseconds(Int64($0 * 1000)) : nil }
        }
        if let count = environment["SIGNOFF_MAX_REQUESTS"].flatMap({ Int($0) }), count > 0 { limits.maxConcurrentRequests = count }
        if let deadline = seconds("SIGNOFF_REQUEST_DEADLINE") { limits.requestDeadline = deadline }
        if let idle = seconds("SIGNOFF_IDLE_TIMEOUT") { limits.idleTimeout = idle }
        return limits
    }
}

/// Answers every request within `deadline`: a handler still running then is cancelled (a body
/// that trickles in, a wait on the database) and the client gets `503 request_timeout` with
/// `Retry-After`, after which its connection closes.
///
/// The handler runs in its own task, so the answer does not depend on the handler reacting to
/// cancellation; one that does not end within `grace` after it is left to finish on its own.
struct DeadlineResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == AppRequestContext {
    typealias Context = AppRequestContext
    let inner: Inner
    let deadline: Duration
    var grace: Duration = .seconds(2)

    private enum Event: Sendable {
        case answered(Result<Response, any Error>)
        case deadline
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let inner = self.inner
        let (events, sink) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(4))
        let work = Task {
            do {
                sink.yield(.answered(.success(try await inner.respond(to: request, context: context))))
            } catch {
                sink.yield(.answered(.failure(error)))
            }
            sink.finish()
        }
        // The two moments are timers of an event loop (the one running this request, under
        // `signoff serve`): no task and no thread of their own per request, where a sleeping
        // task cost a dispatch timer per request.
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let deadline = self.deadline, grace = self.grace
        let timeout = loop.scheduleTask(in: TimeAmount(deadline)) {
            sink.yield(.deadline)
            work.cancel()
        }
        let abandon = loop.scheduleTask(in: TimeAmount(deadline + grace)) { sink.yield(.deadline) }
        defer {
            timeout.cancel()
            abandon.cancel()
        }
        var timedOut = false
        let answer: Result<Response, any Error>? = await withTaskCancellationHandler {
            for await event in events {
                switch event {
                case .answered(let result): return result
                case .deadline where !timedOut: timedOut = true
                case .deadline: return nil
                }
            }
            return nil
        } onCancel: {
            work.cancel()
        }
        if !timedOut, let answer { return try answer.get() }
        context.logger.warning("request passed its deadline", metadata: [
            "signoff.deadline_ms": "\(deadline.components.seconds * 1000 + deadline.components.attoseconds / 1_000_000_000_000_000)",
            "signoff.handler_ended": "\(answer != nil)",
        ])
        // Close the connection once this answer is written: what is left of its body is not read.
        context.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        let problem = SignoffError(.requestTimeout,
                                   "The request was not finished within \(deadline.components.seconds) s and was stopped. If it changed something, a retry with the same Idempotency-Key replays it.",
                                   extra: ["retry_after": .int(2)])
        var response: Response
        if WebApp.isWebPath(request.uri.path), !WebOutcome.wantsJSON(request) {
            response = WebRenderer.html(WebApp.messagePage(title: "处理超时", message: WebText.message(for: problem)), status: .serviceUnavailable)
            response.headers[.retryAfter] = "2"
        } else {
            response = ProblemMiddleware<AppRequestContext>.response(problem, instance: request.uri.path, requestID: context.id)
        }
        response.headers[.requestID] = context.id
        response.headers[.connection] = "close"
        return response
    }
}

/// Counts each write (POST, PUT, PATCH, DELETE) against the per-account and per-address rate
/// limits; past one, `429 too_many_requests` with `Retry-After`, before anything is read or written.
struct WriteLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limiter: WriteLimiter
    /// The signed-in account, once authentication has run.
    let account: @Sendable (Context) -> UUID?
    let address: @Sendable (Context) -> String?
    /// Paths this instance of the middleware leaves to another (the web app counts its own, after its session).
    var skip: @Sendable (String) -> Bool = { _ in false }

    static func isWrite(_ method: HTTPRequest.Method) -> Bool {
        method == .post || method == .put || method == .patch || method == .delete
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.isWrite(request.method), !self.skip(request.uri.path) {
            try await self.limiter.admit(account: self.account(context), address: self.address(context))
        }
        return try await next(request, context)
    }
}

/// Runs each signed-in write (POST, PUT, PATCH, DELETE with a bearer token or a session) inside
/// `Database.scoped`: one connection for the request, so checking its token, counting it against
/// the write limits and its transition are one transaction, as a signature on a weak signal
/// should cost no more than it must.
///
/// The body is read first, so a slow client never holds a database connection while it sends.
/// Only small bodies of a declared length are read this way; an upload (larger, or of unknown
/// length) is handled as before, each statement on a connection of its own.
struct RequestScopeMiddleware<Context: RequestContext>: RouterMiddleware {
    let database: Database
    /// The largest body read ahead (a signature, a form; uploads are larger).
    static var maxBody: Int { 64 * 1024 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard WriteLimitMiddleware<Context>.isWrite(request.method),
              request.headers[.authorization] != nil || request.headers[.cookie]?.contains(WebSession.cookieName) == true
        else { return try await next(request, context) }
        var request = request
        if let declared = request.headers[.contentLength] {
            guard let length = Int(declared), length >= 0, length <= Self.maxBody else { return try await next(request, context) }
            if length > 0 {
                let buffer = try await request.body.collect(upTo: length)
                request.body = RequestBody(buffer: buffer)
            }
        } else if request.headers[.transferEncoding] != nil {
            return try await next(request, context)
        }
        let scoped = request
        return try await self.database.scoped { try await next(scoped, context) }
    }
}
