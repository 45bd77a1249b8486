import Foundation

/// "At most one at a time" for a kind of instance (one active pledge per vehicle, one open
/// isolation per person, one visit per household and half-day), as the key the store's unique
/// index holds (`instances_exclusive`, per kind).
///
/// One format for every kind: the scope, a colon and the id in upper case, then the slot where
/// the rule holds per slot. Machines and the stores that look an instance up by its key build
/// it here, so the two cannot drift apart.
public struct ExclusiveKey: Sendable, Hashable, CustomStringConvertible {
    /// The stored text, `scope:ID` or `scope:ID:slot`.
    public let text: String

    private init(_ scope: String, _ id: UUID, slot: String? = nil) {
        self.text = "\(scope):\(id.uuidString.uppercased())" + (slot.map { ":\($0)" } ?? "")
    }

    /// A vehicle's pledge, key custody or pass application in force.
    public static func vehicle(_ id: UUID) -> Self { Self("vehicle", id) }

    /// A person's open isolation or certificate request.
    public static func person(_ id: UUID) -> Self { Self("person", id) }

    /// A household's visit in one half-day slot.
    public static func household(_ id: UUID, slot: String) -> Self { Self("household", id, slot: slot) }

    public var description: String { self.text }
}
