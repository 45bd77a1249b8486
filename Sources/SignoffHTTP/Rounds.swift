import ServiceLifecycle

/// The loop of the services that run next to the server (the vehicle-event consumer, the
/// notification worker, the pending-count fold): wait until start-up (migrations) is done, then
/// one `round` every `interval` until graceful shutdown, which also ends a sleep early. A round
/// handles its own errors: the database may be restarting, and the next round tries again.
func runRounds(every interval: Duration, isReady: @escaping @Sendable () async -> Bool,
               _ round: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled, await !isReady() {
            try? await Task.sleep(for: .milliseconds(100))
        }
        while !Task.isCancelled {
            await round()
            try? await Task.sleep(for: interval)
        }
    }
}
