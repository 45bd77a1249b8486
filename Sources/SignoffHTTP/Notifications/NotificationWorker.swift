import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import SignoffStore
import Synchronization

/// The counters and gauges of time-driven work, in the service's Prometheus registry.
final class NotificationMetrics: Sendable {
    let timersDue: Gauge
    let timersFired: Counter
    let timersStale: Counter
    let timersRetried: Counter
    let timerLateness: ValueHistogram
    let timerLatenessP99: Gauge
    let notificationsSent: Counter
    let notificationsDeferred: Counter
    let notificationsFailed: Counter
    let webhooksDelivered: Counter
    let webhooksFailed: Counter
    let webhooksDeadLettered: Counter
    /// The latest lateness samples, for the p99 gauge.
    private let recent = Mutex<[Double]>([])

    init(registry: PrometheusCollectorRegistry) {
        self.timersDue = registry.makeGauge(descriptor: .named("signoff_timers_due", help: "Timers due and not fired yet"))
        self.timersFired = registry.makeCounter(descriptor: .named("signoff_timers_fired_total", help: "Timers fired"))
        self.timersStale = registry.makeCounter(descriptor: .named("signoff_timers_stale_total", help: "Timers too old when due; nothing sent"))
        self.timersRetried = registry.makeCounter(descriptor: .named("signoff_timers_retried_total", help: "Timer firings that failed and wait for a retry"))
        self.timerLateness = registry.makeValueHistogram(descriptor: .named("signoff_timer_lateness_seconds", help: "Seconds between a timer's due time and its firing"), buckets: [1, 5, 15, 30, 60, 120, 300, 900, 3_600])
        self.timerLatenessP99 = registry.makeGauge(descriptor: .named("signoff_timer_lateness_p99_seconds", help: "p99 lateness of the last 1000 firings"))
        self.notificationsSent = registry.makeCounter(descriptor: .named("signoff_notifications_sent_total", help: "In-app notices written"))
        self.notificationsDeferred = registry.makeCounter(descriptor: .named("signoff_notifications_deferred_total", help: "Facts held back by quiet hours"))
        self.notificationsFailed = registry.makeCounter(descriptor: .named("signoff_notifications_failed_total", help: "Facts whose notices failed"))
        self.webhooksDelivered = registry.makeCounter(descriptor: .named("signoff_webhook_deliveries_sent_total", help: "Webhook deliveries accepted"))
        self.webhooksFailed = registry.makeCounter(descriptor: .named("signoff_webhook_deliveries_failed_total", help: "Webhook tries that failed"))
        self.webhooksDeadLettered = registry.makeCounter(descriptor: .named("signoff_webhook_deliveries_dead_total", help: "Webhook deliveries dead-lettered"))
    }

    func record(_ timers: TimerStore.Report) {
        self.timersFired.increment(by: Int64(timers.fired))
        self.timersStale.increment(by: Int64(timers.stale))
        self.timersRetried.increment(by: Int64(timers.retried))
        for late in timers.lateness { self.timerLateness.record(late) }
        guard !timers.lateness.isEmpty else { return }
        let p99 = self.recent.withLock { samples -> Double in
            samples.append(contentsOf: timers.lateness)
            if samples.count > 1_000 { samples.removeFirst(samples.count - 1_000) }
            let sorted = samples.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        }
        self.timerLatenessP99.set(p99)
    }
}

/// One round of time-driven work: fire due timers, turn new facts into notices, send due
/// webhooks, and write the day's signed audit checkpoint once a China-time day. Every service
/// instance runs it; each step claims its rows with SKIP LOCKED (the checkpoint: a lock and a
/// unique day).
public struct NotificationWorker: Sendable {
    public struct Report: Sendable, Equatable {
        public var timers: TimerStore.Report
        public var notifications: NotificationStore.Report
        public var webhooks: WebhookSender.Report
        /// The daily signed audit checkpoint, when this round wrote it.
        public var checkpoint: AuditCheckpoint?
    }

    public let timers: TimerStore
    public let notifications: NotificationStore
    public let sender: WebhookSender
    public let checkpoints: AuditCheckpointStore
    let metrics: NotificationMetrics

    init(timers: TimerStore, notifications: NotificationStore, sender: WebhookSender, checkpoints: AuditCheckpointStore,
         metrics: NotificationMetrics) {
        self.timers = timers
        self.notifications = notifications
        self.sender = sender
        self.checkpoints = checkpoints
        self.metrics = metrics
    }

    @discardableResult
    public func runOnce() async throws -> Report {
        let fired = try await self.timers.fireDue()
        self.metrics.record(fired)
        let notified = try await self.notifications.drain()
        self.metrics.notificationsSent.increment(by: Int64(notified.notices))
        self.metrics.notificationsDeferred.increment(by: Int64(notified.deferred))
        self.metrics.notificationsFailed.increment(by: Int64(notified.failed))
        let sent = try await self.sender.sendDue()
        self.metrics.webhooksDelivered.increment(by: Int64(sent.delivered))
        self.metrics.webhooksFailed.increment(by: Int64(sent.failed))
        self.metrics.webhooksDeadLettered.increment(by: Int64(sent.deadLettered))
        self.metrics.timersDue.set(Double(try await self.timers.dueCount()))
        let checkpoint = try await self.checkpoints.writeDailyIfDue()
        return Report(timers: fired, notifications: notified, webhooks: sent, checkpoint: checkpoint)
    }
}

/// Runs the notification worker every `interval`, next to the server, like `VehicleEventService`.
struct NotificationService: Service {
    let worker: NotificationWorker
    let interval: Duration
    let logger: Logger
    let isReady: @Sendable () async -> Bool

    func run() async {
        await runRounds(every: self.interval, isReady: self.isReady) { await self.roundOnce() }
    }

    func roundOnce() async {
        do {
            let report = try await self.worker.runOnce()
            if let checkpoint = report.checkpoint {
                self.logger.info("daily audit checkpoint written", metadata: [
                    "signoff.audit.records": "\(checkpoint.records)", "signoff.audit.root": "\(checkpoint.merkleRoot)",
                ])
            }
            if report.timers.fired + report.notifications.notices + report.webhooks.delivered + report.webhooks.failed > 0 {
                self.logger.info("notifications", metadata: [
                    "signoff.timers.fired": "\(report.timers.fired)", "signoff.timers.stale": "\(report.timers.stale)",
                    "signoff.notices": "\(report.notifications.notices)",
                    "signoff.webhooks.delivered": "\(report.webhooks.delivered)",
                    "signoff.webhooks.failed": "\(report.webhooks.failed)",
                ])
            }
        } catch {
            self.logger.warning("notification round failed", metadata: ["signoff.error": "\(String(reflecting: error))"])
        }
    }
}

extension MetricNameDescriptor {
    /// A metric known by its whole name (`signoff_timers_fired_total`), with its help text.
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        // An empty unit adds nothing to the name.
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
