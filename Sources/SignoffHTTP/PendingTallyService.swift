import Logging
import ServiceLifecycle
import SignoffStore

/// Folds the appended pending deltas into the kept counts of 待办总览 every `interval`.
///
/// The page reads the counts and the unfolded deltas together, so its figures are exact whether
/// or not this runs; folding only keeps the deltas few. Any number of servers may run it against
/// one database: the fold takes an advisory lock, and the others skip that round.
struct PendingTallyService: Service {
    let queries: AdminQueries
    let interval: Duration
    let logger: Logger
    /// True once the service's start-up work (migrations) is done.
    let isReady: @Sendable () async -> Bool

    func run() async {
        await runRounds(every: self.interval, isReady: self.isReady) {
            do {
                try await self.queries.foldPendingTally()
            } catch {
                self.logger.warning("pending counts not folded", metadata: ["signoff.error": "\(String(reflecting: error))"])
            }
        }
    }
}
