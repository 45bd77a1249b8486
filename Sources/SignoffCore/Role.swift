/// The roles of DESIGN.md. Each is held by a user at a unit of the jurisdiction tree.
public enum Role: String, Sendable, Codable, CaseIterable, Hashable {
    case gridWorker = "grid_worker"
    case groupLeader = "group_leader"
    case branchSecretary = "branch_secretary"
    case villageLeader = "village_leader"
    case chiefLeader = "chief_leader"
    case healthOfficer = "health_officer"
    case admin
    case worker

    /// The term of the source document, for user-facing text.
    public var chineseName: String {
        switch self {
        case .gridWorker: "网格员"
        case .groupLeader: "组长"
        case .branchSecretary: "支部书记"
        case .villageLeader: "驻村领导"
        case .chiefLeader: "主要领导"
        case .healthOfficer: "卫生院"
        case .admin: "乡政府办公室"
        case .worker: "务工人员"
        }
    }

    /// Whether the role may be held at a unit of this kind. Administrators sit at the township
    /// office, and a village may have its own administrator for its subtree.
    public func canBeHeld(at kind: UnitKind) -> Bool {
        self == .admin ? (kind == .township || kind == .village) : kind == self.heldAt
    }

    /// The kind of unit at which the role is normally held.
    public var heldAt: UnitKind {
        switch self {
        case .gridWorker, .worker: .grid
        case .groupLeader: .group
        case .branchSecretary, .villageLeader: .village
        case .chiefLeader, .healthOfficer, .admin: .township
        }
    }
}

/// The levels of the jurisdiction tree: township → village → group → grid.
public enum UnitKind: String, Sendable, Codable, CaseIterable, Hashable {
    case township
    case village
    case group
    case grid

    public var chineseName: String {
        switch self {
        case .township: "乡"
        case .village: "村"
        case .group: "组"
        case .grid: "网格"
        }
    }

    /// The kind a child of this unit must be, or nil for a leaf.
    public var childKind: UnitKind? {
        switch self {
        case .township: .village
        case .village: .group
        case .group: .grid
        case .grid: nil
        }
    }
}
