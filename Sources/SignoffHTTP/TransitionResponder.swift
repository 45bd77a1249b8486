import Foundation
import HTTPTypes
import Hummingbird
import PostgresNIO
import SignoffCore
import SignoffStore

/// Turns a request into one call of the store's transition path and its outcome into a response.
///
/// It reads `Idempotency-Key`, so a retried request (a phone that lost the answer) gets the
/// first response again and makes no second transition.
struct TransitionResponder: Sendable {
    let store: TransitionStore

    static func metadata(_ request: Request, body: Data, requestID: String) throws -> RequestMetadata {
        var metadata = RequestMetadata(requestID: requestID)
        if let key = request.headers[.idempotencyKey] {
            guard (1...200).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw SignoffError.invalidValue("Idempotency-Key", "An Idempotency-Key has 1 to 200 visible ASCII characters.")
            }
            metadata.idempotency = IdempotencyRequest(key: key, method: request.method.rawValue, path: request.uri.path, body: body)
        }
        return metadata
    }

    static func render<Machine: AuditedMachine, View: Encodable & SendableMetatype>(
        status: HTTPResponse.Status = .ok,
        _ view: @escaping @Sendable (Transitioned<Machine>) -> View
    ) -> TransitionStore.Render<Machine> {
        { transitioned in StoredResponse(status: Int(status.code), body: try JSONBody.data(view(transitioned))) }
    }

    static func response<Machine: AuditedMachine>(_ outcome: TransitionOutcome<Machine>) -> Response {
        switch outcome {
        case .applied(_, let response?):
            return JSONBody.response(data: response.body, status: .init(code: response.status))
        case .applied(let transitioned, nil):
            // Unreachable: the HTTP layer always passes a renderer, so the store always returns a response.
            return JSONBody.response(data: Data("{\"id\":\"\(transitioned.stored.id)\"}".utf8))
        case .replayed(let response):
            var replayed = JSONBody.response(data: response.body, status: .init(code: response.status))
            replayed.headers[.idempotentReplayed] = "true"
            return replayed
        }
    }
}

extension TransitionResponder {
    /// The response of a write that is not one transition, or the one kept under its key.
    static func response(_ outcome: WriteOutcome<StoredResponse>) -> Response {
        switch outcome {
        case .applied(let response, _):
            return Self.response(response)
        case .replayed(let response):
            var replayed = Self.response(response)
            replayed.headers[.idempotentReplayed] = "true"
            return replayed
        }
    }

    private static func response(_ stored: StoredResponse) -> Response {
        stored.status == 204 ? Response(status: .noContent) : JSONBody.response(data: stored.body, status: .init(code: stored.status))
    }
}

extension HTTPField.Name {
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}

extension RouterGroup where Context == AuthenticatedContext {
    /// A POST that reads a strict JSON body and makes one transition through the store, with
    /// `Idempotency-Key` replay: the shape of every state-changing route.
    func transition<Body: StrictRequest, Machine: AuditedMachine>(
        _ path: RouterPath,
        body: Body.Type,
        maxSize: Int = 16 * 1024,
        _ perform: @escaping @Sendable (AuthenticatedContext, Body, RequestMetadata) async throws -> TransitionOutcome<Machine>
    ) {
        self.post(path) { request, context in
            let (body, raw) = try await JSONBody.decode(Body.self, from: request, maxSize: maxSize)
            let metadata = try TransitionResponder.metadata(request, body: raw, requestID: context.requestID)
            return TransitionResponder.response(try await perform(context, body, metadata))
        }
    }
}

extension RouterGroup where Context == AuthenticatedContext {
    /// A write that is not one transition (an account, a role grant, a unit, a webhook): a strict
    /// JSON body, and `Idempotency-Key` replay through `TransitionStore.write`, in one transaction
    /// with `perform`, whose answer is kept with the key.
    func write<Body: StrictRequest, View: Encodable>(
        _ path: RouterPath,
        method: HTTPRequest.Method = .post,
        body: Body.Type,
        status: HTTPResponse.Status = .created,
        store: TransitionStore,
        _ perform: @escaping @Sendable (AuthenticatedContext, Body, PostgresConnection) async throws -> View
    ) {
        self.on(path, method: method) { request, context in
            let (body, raw) = try await JSONBody.decode(Body.self, from: request, maxSize: 16 * 1024)
            let metadata = try TransitionResponder.metadata(request, body: raw, requestID: context.requestID)
            let outcome = try await store.write(metadata: metadata, actor: context.actor) { connection in
                let view = try await perform(context, body, connection)
                return StoredResponse(status: Int(status.code), body: status == .noContent ? Data() : try JSONBody.data(view))
            }
            return TransitionResponder.response(outcome)
        }
    }
}
