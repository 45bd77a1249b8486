import Foundation
import Hummingbird
import Testing
import Yams
import SignoffCore
@testable import SignoffHTTP
import SignoffStore

@Suite("The OpenAPI document stays true to the routes", .timeLimit(.minutes(2)))
struct OpenAPITests {
    /// Every operation of the document, as `METHOD /path/{param}` (the router describes its routes the same way).
    static func documented() throws -> Set<String> {
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        var operations = Set<String>()
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where methods.contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        // The router is built without touching the database.
        let database = Database(endpoint: .init(host: "127.0.0.1", port: 1, username: "x", password: nil, database: "x"), logger: TestCluster.logger)
        let services = SignoffServices(database: database, clock: SignoffCore.SystemWallClock())
        // The web app's pages are HTML for browsers, not part of the JSON API.
        let routes = Set(buildRouter(services).routes.filter { !WebApp.isWebPath("\($0.path)") }
            .map { "\($0.method.rawValue) \($0.path)" })
        let documented = try Self.documented()
        #expect(routes.subtracting(documented).sorted() == [], "routes missing from openapi.yaml")
        #expect(documented.subtracting(routes).sorted() == [], "documented routes the router does not have")
        #expect(routes.count > 10)
    }

    @Test func theDocumentIsServed() async throws {
        try await TestWorld.with { _, client in
            let reply = try await client.call(.get, "/openapi.yaml")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType] == "application/yaml")
            #expect(reply.text == OpenAPIDocument.yaml)
        }
    }
}
