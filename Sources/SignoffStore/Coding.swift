import Foundation
import SignoffCore

/// JSON text for SQL parameters, in the stored form (`StoredForm`, the one definition of it).
enum StoreCoding {
    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try StoredForm.encoder().encode(value), as: UTF8.self)
    }

    static func json(_ payload: [String: JSONValue]) throws -> String {
        try Self.json(JSONValue.object(payload))
    }
}
