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

    /// The JSON Schema keywords a schema here may use. JSON Schema ignores unknown keys, so a
    /// broken line (`such as 村委会院坝.: null` from a colon in a description) passes a validator
    /// and silently changes nothing; this catches it.
    static let schemaKeywords: Set<String> = [
        "type", "format", "description", "title", "properties", "required", "items", "prefixItems", "enum", "const",
        "examples", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
        "pattern", "minItems", "maxItems", "uniqueItems", "additionalProperties", "oneOf", "anyOf", "allOf", "not",
        "$ref", "readOnly", "writeOnly", "deprecated", "minProperties", "maxProperties", "contentMediaType",
    ]

    static func strangeKeys(inSchema value: Any, at path: String) -> [String] {
        guard let schema = value as? [String: Any] else { return [] }
        var found = schema.keys.filter { !Self.schemaKeywords.contains($0) && !$0.hasPrefix("x-") }.map { "\(path): \($0)" }
        for key in ["items", "additionalProperties", "not"] {
            if let nested = schema[key] { found += Self.strangeKeys(inSchema: nested, at: "\(path).\(key)") }
        }
        for key in ["oneOf", "anyOf", "allOf", "prefixItems"] {
            for (index, nested) in (schema[key] as? [Any] ?? []).enumerated() {
                found += Self.strangeKeys(inSchema: nested, at: "\(path).\(key)[\(index)]")
            }
        }
        for (name, nested) in schema["properties"] as? [String: Any] ?? [:] {
            found += Self.strangeKeys(inSchema: nested, at: "\(path).\(name)")
        }
        return found
    }

    static func strangeKeys(in value: Any, at path: String) -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { key, nested in
                key == "schema" ? Self.strangeKeys(inSchema: nested, at: "\(path).schema") : Self.strangeKeys(in: nested, at: "\(path).\(key)")
            }
        }
        if let list = value as? [Any] {
            return list.enumerated().flatMap { Self.strangeKeys(in: $1, at: "\(path)[\($0)]") }
        }
        return []
    }

    @Test func everySchemaUsesOnlySchemaKeywords() throws {
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
        var found = Self.strangeKeys(in: document["paths"] as Any, at: "paths")
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        for (name, schema) in schemas {
            found += Self.strangeKeys(inSchema: schema, at: "components.schemas.\(name)")
        }
        #expect(found.sorted() == [])
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
