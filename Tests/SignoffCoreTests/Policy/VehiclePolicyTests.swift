import Foundation
import Testing

@testable import SignoffCore

@Suite struct VehiclePolicyTests {
    /// A valid policy, one line per element so tests can name lines.
    static let lines = [
        "version: \"t1\"",  // 1
        "clearance_days: 14",  // 2
        "violation_restarts_clock: true",  // 3
        "pass_validity_days: 30",  // 4
        "agricultural_pass_validity_days: 20",  // 5
        "chain:",  // 6
        "  - level: 1",  // 7
        "    role: grid_worker",  // 8
        "    limit_hours: 24",  // 9
        "  - level: 2",  // 10
        "    role: group_leader",  // 11
        "    limit_hours: 12",  // 12
        "  - level: 3",  // 13
        "    role: chief_leader",  // 14
        "    limit_hours: 48",  // 15
    ]

    /// Lines 1 to 5, for files whose chain a test writes itself.
    static let head = Self.lines.prefix(5).joined(separator: "\n") + "\n"

    static func yaml(replacing replacements: [Int: String] = [:], inserting inserts: [Int: String] = [:]) -> String {
        var lines: [String] = []
        for (index, line) in Self.lines.enumerated() {
            let number = index + 1
            if let extra = inserts[number] { lines.append(extra) }
            lines.append(replacements[number] ?? line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func expectPolicyError(_ yaml: String, line: Int, mentioning text: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let error = expectError(.policyInvalid, sourceLocation: sourceLocation) { () throws(SignoffError) in
            try VehiclePolicy.load(yaml: yaml, file: "vehicle-pass.yaml")
        }
        #expect(error?.extra["line"] == .int(line), "\(String(reflecting: error))", sourceLocation: sourceLocation)
        #expect(error?.detail.contains("line \(line)") == true, sourceLocation: sourceLocation)
        #expect(error?.detail.contains(text) == true, "\(error?.detail ?? "")", sourceLocation: sourceLocation)
        #expect(error?.extra["file"] == "vehicle-pass.yaml", sourceLocation: sourceLocation)
    }

    @Test func aValidFileLoads() throws {
        let policy = try VehiclePolicy.load(yaml: Self.yaml())
        #expect(policy == (try VehiclePolicy(
            version: "t1", clearanceDays: 14, violationRestartsClock: true,
            chain: [.init(level: 1, role: .gridWorker, limitHours: 24), .init(level: 2, role: .groupLeader, limitHours: 12),
                    .init(level: 3, role: .chiefLeader, limitHours: 48)],
            passValidityDays: 30, agriculturalPassValidityDays: 20)))
        #expect(policy.clearancePeriod == 14 * 86_400)
        #expect(policy.chain[1].limit == 12 * 3_600)
    }

    @Test func theTownshipsFileLoadsWithTheFiveLevelChain() throws {
        let url = RepoPaths.workflows.appendingPathComponent(VehiclePolicy.defaultFileName)
        let policy = try VehiclePolicy.load(yaml: String(contentsOf: url, encoding: .utf8))
        #expect(policy.clearanceDays == 14)
        #expect(policy.violationRestartsClock)
        #expect(policy.chain.map(\.role) == [.gridWorker, .groupLeader, .branchSecretary, .villageLeader, .chiefLeader])
        #expect(policy.chain.map(\.level) == [1, 2, 3, 4, 5])
        #expect(!policy.version.isEmpty)
    }

    @Test func anUnknownKeyNamesItsLine() {
        self.expectPolicyError(Self.yaml(inserting: [4: "clearence_days: 14"]), line: 4, mentioning: "clearence_days")
        self.expectPolicyError(Self.yaml(replacing: [12: "    limit_hour: 12"]), line: 12, mentioning: "chain[2].limit_hour")
    }

    @Test func anUnknownRoleNamesItsLine() {
        self.expectPolicyError(Self.yaml(replacing: [11: "    role: team_leader"]), line: 11, mentioning: "team_leader")
        // A real role that does not sign passes is refused too.
        self.expectPolicyError(Self.yaml(replacing: [11: "    role: health_officer"]), line: 11, mentioning: "health_officer")
    }

    @Test func aDuplicateLevelOrRoleNamesItsLine() {
        self.expectPolicyError(Self.yaml(replacing: [13: "  - level: 2"]), line: 13, mentioning: "declared twice (first on line 10)")
        self.expectPolicyError(Self.yaml(replacing: [14: "    role: group_leader"]), line: 14, mentioning: "already signs another level (line 11)")
        self.expectPolicyError(Self.yaml(inserting: [3: "clearance_days: 10"]), line: 3, mentioning: "repeats the key clearance_days (first on line 2)")
    }

    @Test func levelsMustFollowChainOrder() {
        self.expectPolicyError(Self.yaml(replacing: [13: "  - level: 4"]), line: 13, mentioning: "expected 3")
    }

    @Test func aNonPositiveDurationNamesItsLine() {
        self.expectPolicyError(Self.yaml(replacing: [2: "clearance_days: 0"]), line: 2, mentioning: "positive")
        self.expectPolicyError(Self.yaml(replacing: [9: "    limit_hours: -4"]), line: 9, mentioning: "positive")
        self.expectPolicyError(Self.yaml(replacing: [4: "pass_validity_days: 0"]), line: 4, mentioning: "pass_validity_days")
    }

    @Test func aMissingKeyNamesTheMappingsLine() {
        self.expectPolicyError(Self.yaml(replacing: [3: "# no violation rule"]), line: 1, mentioning: "violation_restarts_clock")
        self.expectPolicyError(Self.yaml(replacing: [12: "    # no limit"]), line: 10, mentioning: "chain[2].limit_hours")
    }

    @Test func aWrongTypeNamesItsLine() {
        self.expectPolicyError(Self.yaml(replacing: [2: "clearance_days: fourteen"]), line: 2, mentioning: "whole number")
        self.expectPolicyError(Self.yaml(replacing: [2: "clearance_days: \"14\""]), line: 2, mentioning: "whole number")
        self.expectPolicyError(Self.yaml(replacing: [3: "violation_restarts_clock: yes please"]), line: 3, mentioning: "true or false")
        self.expectPolicyError(Self.head + "chain: everyone\n", line: 6, mentioning: "a list")
        self.expectPolicyError(Self.head + "chain:\n  - grid_worker\n", line: 7, mentioning: "mapping")
        self.expectPolicyError(Self.yaml(replacing: [1: "version: [1, 2]"]), line: 1, mentioning: "text")
    }

    @Test func brokenYamlOrAnEmptyFileIsRefused() {
        self.expectPolicyError(Self.yaml(replacing: [8: "    role: [grid_worker"]), line: 9, mentioning: "not valid YAML")
        self.expectPolicyError("", line: 1, mentioning: "empty")
        self.expectPolicyError("- 1\n- 2\n", line: 1, mentioning: "mapping")
        self.expectPolicyError(Self.head + "chain: []\n", line: 6, mentioning: "at least one level")
    }
}
