import Foundation

/// How far a pending item is into its level's time limit, as 待办总览 shows and filters it:
/// past the due time is overdue (逾期); past half the limit is a warning (临近时限); otherwise,
/// or with no limit, it is fresh (正常).
public enum PendingAge: String, CaseIterable, Sendable {
    case fresh, warning, overdue

    public var chineseName: String {
        switch self {
        case .fresh: "正常"
        case .warning: "临近时限"
        case .overdue: "逾期"
        }
    }

    public static func of(pendingSince: Date, dueAt: Date?, now: Date) -> PendingAge {
        guard let due = dueAt else { return .fresh }
        if due < now { return .overdue }
        let limit = due.timeIntervalSince(pendingSince)
        return now.timeIntervalSince(pendingSince) >= limit / 2 ? .warning : .fresh
    }
}
