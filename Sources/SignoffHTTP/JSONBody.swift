import Foundation
import Hummingbird
import NIOCore
import SignoffCore

/// A request body whose fields are exactly its coding keys: any other field is refused.
///
/// A field holding an object (or a list of objects) names the object's own strict type in
/// `nested`, so the check reaches every level; an object in a field that names none is refused.
public protocol StrictRequest: Decodable, Sendable {
    associatedtype CodingKeys: CodingKey & CaseIterable
    /// Wire field name → the strict type of the object(s) it holds.
    static var nested: [String: any StrictRequest.Type] { get }
}

extension StrictRequest {
    public static var nested: [String: any StrictRequest.Type] { [:] }
    static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }
}

/// JSON in and out. Field names are snake_case on the wire: responses convert, and requests
/// name their wire keys in `CodingKeys`.
enum JSONBody {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601))
        }
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// Reads a request body, refusing malformed JSON, unknown fields and wrong types with their own codes.
    static func decode<T: StrictRequest>(_ type: T.Type, from request: Request, maxSize: Int) async throws -> (T, Data) {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxSize)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw SignoffError(.payloadTooLarge, "The request body is larger than \(maxSize / 1024) KiB.")
        }
        let data = Data(buffer: buffer)
        return (try self.decode(type, from: data), data)
    }

    static func decode<T: StrictRequest>(_ type: T.Type, from data: Data) throws -> T {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data.isEmpty ? Data("{}".utf8) : data, options: [.fragmentsAllowed])
        } catch {
            throw SignoffError(.invalidJSON, "The request body is not valid JSON.")
        }
        guard let fields = object as? [String: Any] else {
            throw SignoffError(.invalidType, "The request body must be a JSON object.", extra: ["field": ""])
        }
        try Self.check(fields, as: T.self, path: "")
        do {
            return try Self.decoder().decode(T.self, from: data.isEmpty ? Data("{}".utf8) : data)
        } catch let error as DecodingError {
            throw Self.translate(error)
        }
    }

    /// Refuses unknown fields at every level, and NUL characters in any string (PostgreSQL
    /// cannot store them in text, and no form field needs one).
    static func check(_ fields: [String: Any], as type: any StrictRequest.Type, path: String) throws {
        let known = type.fieldNames
        for name in fields.keys.sorted() {
            let field = path.isEmpty ? name : "\(path).\(name)"
            guard known.contains(name) else {
                throw SignoffError(.unknownField, "The field ‘\(field)’ is not part of this request. Allowed: \(known.sorted().joined(separator: ", ")).",
                                   extra: ["field": .string(field)])
            }
            try Self.check(value: fields[name]!, nested: type.nested[name], field: field)
        }
    }

    private static func check(value: Any, nested: (any StrictRequest.Type)?, field: String) throws {
        switch value {
        case let text as String:
            if text.unicodeScalars.contains("\u{0}") {
                throw SignoffError(.invalidValue, "The field ‘\(field)’ contains a NUL character (\\u0000), which is not allowed in text.",
                                   extra: ["field": .string(field)])
            }
        case let object as [String: Any]:
            guard let nested else {
                throw SignoffError(.invalidType, "The field ‘\(field)’ must not be an object.", extra: ["field": .string(field)])
            }
            try Self.check(object, as: nested, path: field)
        case let list as [Any]:
            for (index, element) in list.enumerated() {
                try Self.check(value: element, nested: nested, field: "\(field)[\(index)]")
            }
        default:
            break
        }
    }

    static func translate(_ error: DecodingError) -> SignoffError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            if field == "reason" || field.hasSuffix(".reason") {
                return SignoffError(.reasonRequired, "A reason is required for this action.", extra: ["field": .string(field)])
            }
            return SignoffError(.missingField, "The field ‘\(field)’ is required.", extra: ["field": .string(field)])
        case .typeMismatch(let expected, let context), .valueNotFound(let expected, let context):
            let field = path(context.codingPath)
            return SignoffError(.invalidType, "The field ‘\(field)’ must be \(Self.describe(expected)).", extra: ["field": .string(field)])
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return SignoffError(.invalidValue, "The field ‘\(field)’ has an invalid value: \(context.debugDescription)", extra: ["field": .string(field)])
        @unknown default:
            return SignoffError(.invalidJSON, "The request body could not be read.")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "a whole number"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        case is UUID.Type: "a UUID string"
        default: "of type \(type)"
        }
    }

    static func data<T: Encodable>(_ value: T) throws -> Data {
        try Self.encoder().encode(value)
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Self.response(data: try Self.data(value), status: status)
    }

    static func response(data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
