import Foundation
import SignoffCore

/// The store's JSON coding: `StoredForm`, the one definition of the stored form.
enum StoreCoding {
    static func encoder() -> JSONEncoder { StoredForm.encoder() }

    static func decoder() -> JSONDecoder { StoredForm.decoder() }

    static let timestamp = StoredForm.timestamp

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try Self.encoder().encode(value), as: UTF8.self)
    }

    static func json(_ payload: [String: JSONValue]) throws -> String {
        try Self.json(JSONValue.object(payload))
    }
}
