import Foundation
import Hummingbird
import NIOCore
import SignoffCore
import SignoffStore

/// A submitted `application/x-www-form-urlencoded` form, checked for its CSRF token.
struct WebForm: Sendable {
    /// Field names in the order sent; a name may repeat (check boxes).
    private(set) var fields: [(name: String, value: String)]
    /// The raw body without the CSRF token, for the idempotency digest.
    let canonical: Data

    static let maxSize = 64 * 1024

    init(fields: [(name: String, value: String)]) {
        self.fields = fields
        let kept = fields.filter { $0.name != "csrf" && $0.name != "idempotency_key" }
        self.canonical = Data(kept.map { "\($0.name)=\($0.value)" }.joined(separator: "\n").utf8)
    }

    /// Reads the body, refusing a form without this session's CSRF token.
    static func read(_ request: Request, csrf: String, maxSize: Int = Self.maxSize) async throws -> WebForm {
        try Self.checked(try await Self.read(request, maxSize: maxSize), csrf: csrf)
    }

    /// The form, if it carries this session's CSRF token.
    static func checked(_ form: WebForm, csrf: String) throws -> WebForm {
        guard let sent = form["csrf"], sent.utf8.count == csrf.utf8.count, Self.equal(sent, csrf) else {
            throw WebRefusal.csrf
        }
        return form
    }

    static func read(_ request: Request, maxSize: Int = Self.maxSize) async throws -> WebForm {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxSize)
        } catch {
            throw SignoffError(.payloadTooLarge, "The form is larger than \(maxSize / 1024) KiB.")
        }
        return WebForm(fields: Self.parse(String(buffer: buffer)))
    }

    /// Splits `a=1&b=%E4%B8%AD` into decoded pairs; `+` is a space, as browsers send it.
    static func parse(_ body: String) -> [(name: String, value: String)] {
        body.split(separator: "&", omittingEmptySubsequences: true).compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]), !name.isEmpty else { return nil }
            let value = parts.count > 1 ? decode(parts[1]) ?? "" : ""
            // NUL never belongs in a form field (PostgreSQL refuses it in text).
            return (name, value.replacingOccurrences(of: "\u{0}", with: ""))
        }
    }

    subscript(_ name: String) -> String? {
        self.fields.first { $0.name == name }?.value
    }

    /// The trimmed value, nil when empty.
    func text(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func all(_ name: String) -> [String] {
        self.fields.filter { $0.name == name }.map(\.value)
    }

    func uuid(_ name: String) throws(SignoffError) -> UUID {
        guard let text = self.text(name), let id = UUID(uuidString: text) else {
            throw SignoffError(.missingField, "The form lacks ‘\(name)’.", extra: ["field": .string(name)])
        }
        return id
    }

    func int(_ name: String) -> Int? {
        self.text(name).flatMap { Int($0) }
    }

    /// The idempotency key the page put in the form (or the outbox made), with the request digest.
    func metadata(path: String, requestID: String) throws(SignoffError) -> RequestMetadata {
        var metadata = RequestMetadata(requestID: requestID)
        if let key = self.text("idempotency_key") {
            guard (1...200).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw SignoffError.invalidValue("idempotency_key", "An Idempotency-Key has 1 to 200 visible ASCII characters.")
            }
            metadata.idempotency = IdempotencyRequest(key: key, method: "POST", path: path, body: self.canonical)
        }
        return metadata
    }

    /// Constant-time comparison, so the CSRF token cannot be guessed byte by byte.
    private static func equal(_ a: String, _ b: String) -> Bool {
        zip(a.utf8, b.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Refusals that belong to the web app rather than to a workflow.
enum WebRefusal: Error {
    /// A POST without the session's CSRF token.
    case csrf
}
