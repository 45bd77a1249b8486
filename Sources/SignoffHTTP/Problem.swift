import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SignoffCore

/// Renders every failure as RFC 9457 problem+json with a stable `code`.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error)
            if problem.code.httpStatus >= 500 {
                context.logger.error("request failed", metadata: ["signoff.error": "\(String(reflecting: error))"])
            } else {
                context.logger.info("request refused", metadata: ["signoff.error.code": "\(problem.code)"])
            }
            return Self.response(problem, instance: request.uri.path, requestID: context.id)
        }
    }

    static func problem(for error: any Error) -> SignoffError {
        switch error {
        case let error as SignoffError:
            return error
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge:
                return SignoffError(.payloadTooLarge, "The request body is larger than the service accepts.")
            case .notFound:
                return SignoffError(.notFound, "There is no such address.")
            case .methodNotAllowed:
                return SignoffError(.invalidTransition, "This address does not accept that method.")
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
