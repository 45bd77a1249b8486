import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SignoffCore
import Synchronization

/// Renders every failure as RFC 9457 problem+json with a stable `code`.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The router's routes, to tell "no such address" (404) from "not with this method" (405).
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var problem = Self.problem(for: error)
            var allow: [String] = []
            if let http = error as? HTTPError, http.status == .notFound {
                allow = self.routes.methods(forPath: request.uri.path)
                if !allow.isEmpty {
                    problem = SignoffError(.methodNotAllowed, "This address accepts \(allow.joined(separator: ", ")) only.")
                }
            }
            if WebApp.isWebPath(request.uri.path), problem.code == .notFound || problem.code == .methodNotAllowed {
                // A mistyped or stale link in the web app gets a page, not a JSON document.
                return WebRenderer.html(WebApp.notFoundPage, status: .notFound)
            }
            if WebApp.isWebPath(request.uri.path), !WebOutcome.wantsJSON(request),
               [.serviceBusy, .tooManyRequests, .databaseUnavailable, .requestTimeout].contains(problem.code) {
                // Refused before the web app's own pages ran (the cap of requests in progress): a page in Chinese.
                let title = problem.code == .tooManyRequests ? "操作太频繁" : "请稍后再试"
                var page = WebRenderer.html(WebApp.messagePage(title: title, message: WebText.message(for: problem)),
                                            status: .init(code: problem.code.httpStatus))
                if case .int(let seconds)? = problem.extra["retry_after"] { page.headers[.retryAfter] = String(seconds) }
                return page
            }
            if problem.code.httpStatus >= 500 {
                context.logger.error("request failed", metadata: ["signoff.error": "\(String(reflecting: error))"])
            } else {
                context.logger.info("request refused", metadata: ["signoff.error.code": "\(problem.code)"])
            }
            var response = Self.response(problem, instance: request.uri.path, requestID: context.id)
            if !allow.isEmpty { response.headers[.allow] = allow.joined(separator: ", ") }
            return response
        }
    }

    static func problem(for error: any Error) -> SignoffError {
        switch error {
        case let error as SignoffError:
            return error
        case is CancellationError:
            // The request's deadline passed (or the client went away) while it waited.
            return SignoffError(.requestTimeout, "The request was stopped before it finished. Try again.", extra: ["retry_after": .int(2)])
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge:
                return SignoffError(.payloadTooLarge, "The request body is larger than the service accepts.")
            case .notFound:
                return SignoffError(.notFound, "There is no such address.")
            case .methodNotAllowed:
                return SignoffError(.methodNotAllowed, "This address does not accept that method.")
            case .unauthorized:
                return SignoffError(.unauthenticated, error.body ?? "Sign in first.")
            case .badRequest:
                return SignoffError(.invalidJSON, error.body ?? "The request could not be read.")
            default:
                return SignoffError(.internalError, "The request failed.")
            }
        default:
            return SignoffError(.internalError, "Something went wrong on our side. The change was not saved; try again.")
        }
    }

    static func response(_ problem: SignoffError, instance: String, requestID: String) -> Response {
        var object: [String: JSONValue] = [
            "type": .string("https://signoff.example/problems/\(problem.code.rawValue)"),
            "title": .string(problem.code.title),
            "status": .int(problem.code.httpStatus),
            "code": .string(problem.code.rawValue),
            "detail": .string(problem.detail),
            "instance": .string(instance),
            "request_id": .string(requestID),
        ]
        for (key, value) in problem.extra where object[key] == nil {
            object[key] = value
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(JSONValue.object(object))) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if case .int(let seconds) = problem.extra["retry_after"] {
            headers[.retryAfter] = String(seconds)
        }
        return Response(
            status: .init(code: problem.code.httpStatus),
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

/// The router's paths and their methods, filled once the routes are registered.
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [Substring], method: String)]>([])

    func set(_ routes: [(path: String, method: String)]) {
        self.routes.withLock { $0 = routes.map { ($0.path.split(separator: "/"), $0.method) } }
    }

    /// The methods routed for `path`, where `{name}` segments match anything.
    func methods(forPath path: String) -> [String] {
        let segments = path.split(separator: "/")
        return self.routes.withLock { routes in
            routes.filter { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            }.map(\.method)
        }.sorted()
    }
}

/// Caps the requests in progress: past the cap a request is answered at once with
/// `503 service_busy` and `Retry-After`, instead of queueing behind the others without bound.
struct ConcurrencyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let gate: RequestGate

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard self.gate.enter() else {
            throw SignoffError(.serviceBusy, "The service is handling \(self.gate.limit) requests already. Try again in a moment.",
                               extra: ["retry_after": .int(1)])
        }
        defer { self.gate.leave() }
        return try await next(request, context)
    }
}

/// A counter of requests in progress with a ceiling.
final class RequestGate: Sendable {
    let limit: Int
    private let inFlight = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Takes a place if one is free.
    func enter() -> Bool {
        self.inFlight.withLock { count in
            guard count < self.limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { self.inFlight.withLock { $0 -= 1 } }

    var current: Int { self.inFlight.withLock { $0 } }
}

/// Puts the request id on every response, so a user can quote it and it can be found in the logs.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.requestID] = context.id
        return response
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-ID")!
    static let idempotencyKey = Self("Idempotency-Key")!
}
