import Foundation
import SignoffCore

/// How machine state and payloads are stored as JSON: sorted keys, ISO 8601 times with milliseconds.
enum StoreCoding {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Self.timestamp))
        }
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Date(text, strategy: Self.timestamp) { return date }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not an ISO 8601 time: \(text)")
        }
        return decoder
    }

    static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try Self.encoder().encode(value), as: UTF8.self)
    }

    static func json(_ payload: [String: JSONValue]) throws -> String {
        try Self.json(JSONValue.object(payload))
    }
}
