import Foundation
import Hummingbird
import Logging
import NIOCore
import SignoffCore

/// The context of every request: the request id, and the actor once a bearer token was accepted.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware` from a valid bearer token.
    public var actor: Principal?
    public var bearerToken: String?
    /// Set by `WebSessionMiddleware` from a valid session cookie, on web pages only.
    public var webSession: WebSession?
    /// The client's connection: its address counts writes for the rate limit, and a request
    /// past its deadline closes it.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The client's IP address, when the connection has one (not in router tests).
    public var clientAddress: String? { self.channel.remoteAddress?.ipAddress }

    /// Request bodies are small JSON documents, or a township CSV.
    public var maxUploadSize: Int { 4 * 1024 * 1024 }

    public var requestID: String { self.id }
}

/// The context of routes that need a signed-in user: creating it fails with 401 when there is none.
public struct AuthenticatedContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let actor: Principal
    public let bearerToken: String

    public init(context: AppRequestContext) throws {
        guard let actor = context.actor, let token = context.bearerToken else {
            throw SignoffError(.unauthenticated, "Sign in first: send ‘Authorization: Bearer <token>’ from POST /auth/login.")
        }
        self.coreContext = context.coreContext
        self.actor = actor
        self.bearerToken = token
    }

    public var maxUploadSize: Int { 4 * 1024 * 1024 }
    public var requestID: String { self.id }
}

// MARK: - Path ids
extension Parameters {
    /// A UUID in the path; a malformed one answers `400 invalid_id` naming the segment,
    /// not a body error, since the body (if any) is fine.
    func uuid(_ name: String) throws -> UUID {
        guard let text = self.get(name), let id = UUID(uuidString: text) else {
            throw SignoffError(.invalidID, "The id in the address (‘\(name)’) must be a UUID such as 6f1c2b1e-0000-4000-8000-000000000000.",
                               extra: ["field": .string(name)])
        }
        return id
    }
}
