import Foundation

/// One declared transition of a machine: `from` nil is the creating event.
public struct Transition<State: RawRepresentable & Sendable>: Sendable where State.RawValue == String {
    public var from: State?
    /// The audited event name, as in `Effect.event`.
    public var event: String
    public var to: State
    /// A guard shown on the arrow, such as "last level".
    public var guardNote: String?

    public init(_ from: State?, _ event: String, _ to: State, when guardNote: String? = nil) {
        self.from = from
        self.event = event
        self.to = to
        self.guardNote = guardNote
    }
}

/// A machine that declares its states and transitions as data, next to its code, so a
/// diagram can be drawn from them and tests can check that behaviour matches.
public protocol DiagrammedMachine: AuditedMachine {
    associatedtype State: CaseIterable & RawRepresentable & Sendable where State.RawValue == String

    static var transitions: [Transition<State>] { get }
    /// States no event leaves.
    static var finalStates: [State] { get }
    /// A title with the document's term, such as "通行证 travel pass".
    static var title: String { get }
    /// The user-facing name of a state, shown inside its box.
    static func describe(_ state: State) -> String
}

extension DiagrammedMachine {
    public static var diagram: StateMachineDiagram {
        StateMachineDiagram(
            kind: Self.kind,
            title: Self.title,
            states: State.allCases.map { StateMachineDiagram.Node(name: $0.rawValue, label: Self.describe($0)) },
            edges: Self.transitions.map {
                StateMachineDiagram.Edge(from: $0.from?.rawValue, event: $0.event, to: $0.to.rawValue, guardNote: $0.guardNote)
            },
            finalStates: Self.finalStates.map(\.rawValue)
        )
    }
}

/// The states and edges of one machine, rendered as Mermaid `stateDiagram-v2`.
public struct StateMachineDiagram: Sendable, Hashable {
    public struct Node: Sendable, Hashable {
        public var name: String
        public var label: String
    }

    public struct Edge: Sendable, Hashable {
        /// nil for the creating event.
        public var from: String?
        public var event: String
        public var to: String
        public var guardNote: String?
    }

    public var kind: String
    public var title: String
    public var states: [Node]
    public var edges: [Edge]
    public var finalStates: [String]

    /// Mermaid text, stable line for line so a committed copy can be compared.
    public func mermaid() -> String {
        var lines = [
            "---",
            "title: \(self.kind) — \(self.title)",
            "---",
            "stateDiagram-v2",
            "    %% Generated from the Swift types by StateMachineDiagramTests; do not edit.",
            "    %% Regenerate: SIGNOFF_WRITE_DIAGRAMS=1 swift test --filter StateMachineDiagramTests",
        ]
        for state in self.states {
            lines.append("    state \"\(Self.escape(state.label))\" as \(state.name)")
        }
        for edge in self.edges {
            let label = edge.guardNote.map { "\(edge.event) [\($0)]" } ?? edge.event
            lines.append("    \(edge.from ?? "[*]") --> \(edge.to): \(Self.escape(label))")
        }
        for state in self.finalStates {
            lines.append("    \(state) --> [*]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escape(_ text: String) -> String {
        // Mermaid ends a label at a colon, a double quote or a semicolon.
        text.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: ":", with: "：")
            .replacingOccurrences(of: ";", with: ",")
    }
}
