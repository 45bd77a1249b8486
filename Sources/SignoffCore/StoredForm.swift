import Foundation

/// How machine state and payloads are written as JSON, by the store and by the golden fixtures
/// that freeze the form: sorted keys, unescaped slashes, ISO 8601 times with milliseconds.
/// Field names come from each stored type's explicit `CodingKeys`, never from Swift names.
public enum StoredForm {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Self.timestamp))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
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

    public static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
