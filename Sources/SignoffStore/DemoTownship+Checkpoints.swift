import Foundation
import PostgresNIO
import SignoffCore

/// The demo's checkpoints 卡点 on the provincial road at the borders with 大雪山镇 and 高坪苗族乡:
/// a week's duty roster of leaders, and three days of checks and turn-backs, recorded through
/// `CheckpointStore` (the log as the checkpoint page writes it, on a clock of its own).
extension DemoTownship {
    /// Turn-backs per checkpoint on each of the three demo days, and releases today on a valid credential.
    public static let demoTurnBacks: [(daxueshan: Int, gaoping: Int)] = [(4, 2), (3, 3), (5, 1)]
    public static let demoReleases = 2

    func seedCheckpoints(_ cast: DemoCast) async throws {
        let database = self.accounts.database
        let now = self.accounts.transitions.clock.now()
        // The log starts two days ago at 09:00 China time, so the report has three days.
        let today = CheckpointPolicy.day(now)
        let morning = (try? Date("\(today)T09:00:00+08:00", strategy: .iso8601)) ?? now
        let clock = ManualClock(morning.addingTimeInterval(-2 * 86_400))
        let store = CheckpointStore(
            transitions: TransitionStore(database: database, clock: clock, signingKeys: self.accounts.transitions.signingKeys),
            policies: self.workers.policies)
        let policy = try store.policy()
        let office = Principal.bootstrap(cast.township)
        let leaders = [try cast.official("chief"), try cast.official("lianhe_stationed")]
        let recorder = try cast.official("lianhe_stationed")

        try await database.transaction { connection in
            // A week of the roster, from two days ago: the two leaders take turns by checkpoint and shift.
            for offset in -2...4 {
                let day = CheckpointPolicy.day(morning.addingTimeInterval(Double(offset) * 86_400))
                for (index, checkpoint) in policy.checkpoints.enumerated() {
                    for (shiftIndex, shift) in policy.shifts.enumerated() {
                        let leader = leaders[(index + shiftIndex + offset + 2) % leaders.count]
                        _ = try await store.assign(.init(checkpoint: checkpoint.code, day: day, shift: shift.code, userID: leader.userID),
                                                   by: office, on: connection)
                    }
                }
            }
            // Valid credentials to show at the road: the demo's health certificates.
            let rows = try await connection.query("""
                SELECT signed, subject FROM credentials WHERE kind = 'health_certificate' AND revoked_at IS NULL
                 ORDER BY number LIMIT \(Self.demoReleases)
                """, logger: database.logger)
            var shown: [(signed: String, subject: String)] = []
            for try await (signed, subject) in rows.decode((String, String).self) { shown.append((signed, subject)) }

            let reasons = policy.turnBackReasons.map(\.code)
            var plate = 0
            for (day, counts) in Self.demoTurnBacks.enumerated() {
                clock.set(morning.addingTimeInterval(Double(day - 2) * 86_400))
                for (code, count) in [("daxueshan", counts.daxueshan), ("gaoping", counts.gaoping)] where policy.checkpoint(code) != nil {
                    for number in 0..<count {
                        plate += 1
                        let leaving = number % 3 == 1
                        let reason = leaving ? "local_leaving" : reasons[(number * 2) % reasons.count]
                        _ = try await store.record(.init(
                            checkpoint: code, direction: leaving ? .leaving : .entering,
                            subject: String(format: leaving ? "川Q·L%03d" : "云C·W%03d", plate), decision: .turnBack(reason: reason),
                            credential: nil, note: nil, checkedAt: nil), by: recorder, on: connection)
                        clock.advance(by: 1_700)
                    }
                }
            }
            // Today, after the certificates were issued: workers leaving with a valid 健康证 are let through.
            clock.set(now)
            for (index, credential) in shown.prefix(Self.demoReleases).enumerated() {
                _ = try await store.record(.init(
                    checkpoint: index % 2 == 0 ? "daxueshan" : "gaoping", direction: .leaving, subject: credential.subject,
                    decision: .release, credential: credential.signed, note: "持健康证外出务工", checkedAt: nil),
                    by: recorder, on: connection)
                clock.advance(by: 60)
            }
        }
    }
}
