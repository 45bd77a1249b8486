import Foundation
import Hummingbird
import NIOCore
import Prometheus
import SignoffCore
import SignoffStore

/// Liveness, readiness, metrics and the API description.
struct SystemController {
    let database: Database
    let registry: PrometheusCollectorRegistry

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health") { _, _ in
            try JSONBody.response(["status": "ok"])
        }
        router.get("/ready") { _, _ in
            // Bounded: a down database answers 503 within about a second, never a hang.
            do {
                try await self.database.withConnection(wait: .seconds(1)) { connection in
                    try await connection.query("SELECT 1", logger: self.database.logger)
                }
            } catch {
                throw SignoffError(.databaseUnavailable, "The database does not answer.",
                                   extra: ["retry_after": .int(self.database.limits.retryAfterSeconds)])
            }
            return try JSONBody.response(["status": "ready"])
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            self.registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
    }
}

/// The OpenAPI 3.1 document, shipped with the binary.
public enum OpenAPIDocument {
    public static let yaml: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
              let text = try? String(contentsOf: url, encoding: .utf8)
        else {
            // Unreachable: the file is a resource of this module and is always bundled.
            fatalError("openapi.yaml is missing from the SignoffHTTP bundle")
        }
        return text
    }()
}
