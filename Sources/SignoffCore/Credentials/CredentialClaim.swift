import Foundation

/// What a transition asks the door to sign: a credential's contents, carried in the emitted
/// event's payload under `credential`, and signed in the same transaction by the store's
/// credential reaction (`CredentialIssuer`). A machine declares it; it never signs or writes.
///
/// A transition that ends a credential's force (a pass revoked, a certificate revoked) carries
/// `revoke_credential` with the number instead (`CredentialClaim.revocationPayload`).
public struct CredentialClaim: Sendable, Equatable {
    /// Who or what the credential is for, as the checkpoint reads it.
    public enum Holder: Sendable, Equatable {
        /// A vehicle's plate, shown as it is.
        case plate(String)
        /// A person, whose name the store looks up and masks (张*三).
        case person(UUID)
        /// A farm vehicle without a plate: its description and the household head's masked name.
        case household(UUID, vehicle: String)
    }

    public var kind: Credential.Kind
    public var number: String
    public var holder: Holder
    public var scope: String
    public var validFrom: Date
    public var validUntil: Date

    public init(kind: Credential.Kind, number: String, holder: Holder, scope: String, validFrom: Date, validUntil: Date) {
        self.kind = kind
        self.number = number
        self.holder = holder
        self.scope = scope
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    public static let payloadKey = "credential"
    public static let revocationKey = "revoke_credential"

    /// The claim as a payload field of a domain event.
    public var payload: JSONValue {
        var fields: [String: JSONValue] = [
            "kind": .string(self.kind.rawValue), "number": .string(self.number), "scope": .string(self.scope),
            "valid_from": .string(DomainFormat.timestamp(self.validFrom)),
            "valid_until": .string(DomainFormat.timestamp(self.validUntil)),
        ]
        switch self.holder {
        case .plate(let plate): fields["plate"] = .string(plate)
        case .person(let id): fields["person_id"] = .string(id.uuidString.lowercased())
        case .household(let id, let vehicle):
            fields["household_id"] = .string(id.uuidString.lowercased())
            fields["vehicle"] = .string(vehicle)
        }
        return .object(fields)
    }

    /// Reads the claim an event carries; nil when it carries none or a malformed one.
    public init?(event: DomainEvent) {
        guard case .object(let fields)? = event.payload[Self.payloadKey],
              case .string(let kindText)? = fields["kind"], let kind = Credential.Kind(rawValue: kindText),
              case .string(let number)? = fields["number"], case .string(let scope)? = fields["scope"],
              case .string(let fromText)? = fields["valid_from"], let from = Self.date(fromText),
              case .string(let untilText)? = fields["valid_until"], let until = Self.date(untilText)
        else { return nil }
        let holder: Holder
        if case .string(let plate)? = fields["plate"] {
            holder = .plate(plate)
        } else if case .string(let text)? = fields["person_id"], let id = UUID(uuidString: text) {
            holder = .person(id)
        } else if case .string(let text)? = fields["household_id"], let id = UUID(uuidString: text),
                  case .string(let vehicle)? = fields["vehicle"] {
            holder = .household(id, vehicle: vehicle)
        } else {
            return nil
        }
        self.init(kind: kind, number: number, holder: holder, scope: scope, validFrom: from, validUntil: until)
    }

    /// The payload field that revokes the credential numbered `number` of `kind`.
    public static func revocationPayload(kind: Credential.Kind, number: String) -> JSONValue {
        .object(["kind": .string(kind.rawValue), "number": .string(number)])
    }

    /// The credential an event revokes, if any: its kind and number.
    public static func revocation(in event: DomainEvent) -> (kind: Credential.Kind, number: String)? {
        guard case .object(let fields)? = event.payload[Self.revocationKey],
              case .string(let kindText)? = fields["kind"], let kind = Credential.Kind(rawValue: kindText),
              case .string(let number)? = fields["number"]
        else { return nil }
        return (kind, number)
    }

    private static func date(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }
}
