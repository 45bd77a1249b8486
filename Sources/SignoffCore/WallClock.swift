import Foundation
import Synchronization

/// Where the service reads the time. Tests move it on instead of waiting.
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that stands still until moved, for tests and demos that replay weeks in seconds.
public final class ManualClock: WallClock {
    private let current: Mutex<Date>

    public init(_ start: Date) {
        self.current = Mutex(start)
    }

    public func now() -> Date {
        self.current.withLock { $0 }
    }

    public func advance(by seconds: TimeInterval) {
        self.current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    public func advance(days: Int) {
        self.advance(by: TimeInterval(days) * 86_400)
    }

    public func set(_ date: Date) {
        self.current.withLock { $0 = date }
    }
}
