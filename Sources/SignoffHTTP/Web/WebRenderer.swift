import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The web app's Mustache templates, read once from the module's resources. Mustache escapes
/// every `{{value}}`; the templates never use the unescaped forms.
struct WebRenderer: Sendable {
    let library: MustacheLibrary

    static let templatesFolder = "web/templates"
    static let assetsFolder = "web/assets"

    static func load() throws -> WebRenderer {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent(Self.templatesFolder) else {
            // Unreachable: the folder is a resource of this module and is always bundled.
            fatalError("web templates are missing from the SignoffHTTP bundle")
        }
        var library = MustacheLibrary()
        let files = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".mustache") }.sorted()
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        return WebRenderer(library: library)
    }

    /// The folder of the static files (CSS, JS, the service worker, icons).
    static var assetsPath: String {
        Bundle.module.resourceURL?.appendingPathComponent(Self.assetsFolder).path ?? Self.assetsFolder
    }

    static func asset(_ name: String) -> String? {
        try? String(contentsOfFile: Self.assetsPath + "/" + name, encoding: .utf8)
    }

    func render(_ template: String, _ model: Any) -> String {
        guard let html = self.library.render(model, withTemplate: template) else {
            // Unreachable: every template name used is a file in the templates folder (a test renders each).
            fatalError("no web template named \(template)")
        }
        return html
    }

    func page(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok) -> Response {
        Self.html(self.render(template, model), status: status)
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status,
                 headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

/// An empty string is "false" in a section, as in mustache.js, so `{{#reason}}…{{/reason}}`
/// shows nothing when there is no reason. Values are still escaped.
extension String: @retroactive MustacheCustomRenderable {
    public var renderText: String { self }
    public var isNull: Bool { self.isEmpty }
}
