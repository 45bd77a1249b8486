import Logging
import ServiceLifecycle
import SignoffStore

/// Drains the vehicle events into the infraction ledger every `interval`, next to the server.
///
/// Stateless: any number of instances may run it against one database, because the consumer
/// claims each outbox row with `FOR UPDATE SKIP LOCKED`.
struct VehicleEventService: Service {
    let consumer: VehicleEventConsumer
    let interval: Duration
    let logger: Logger
    /// True once the service's start-up work (migrations) is done.
    let isReady: @Sendable () async -> Bool

    func run() async {
        await runRounds(every: self.interval, isReady: self.isReady) { await self.drainOnce() }
    }

    func drainOnce() async {
        do {
            let report = try await self.consumer.drain()
            if report.delivered > 0 || report.failed > 0 {
                self.logger.info("vehicle events delivered", metadata: [
                    "signoff.events.delivered": "\(report.delivered)", "signoff.events.scored": "\(report.scored)",
                    "signoff.events.duplicates": "\(report.duplicates)", "signoff.events.failed": "\(report.failed)",
                ])
            }
        } catch {
            // The database may be restarting; the next round tries again.
            self.logger.warning("vehicle events not drained", metadata: ["signoff.error": "\(String(reflecting: error))"])
        }
    }
}
