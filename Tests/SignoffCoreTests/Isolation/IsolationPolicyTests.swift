import Foundation
import Testing

@testable import SignoffCore

@Suite struct IsolationPolicyTests {
    /// A valid policy, one line per element so tests can name lines.
    static let file = PolicyLines(lines: [
        "version: \"i1\"",  // 1
        "key_areas:",  // 2
        "  - name: 湖北",  // 3
        "    also: [Hubei]",  // 4
        "  - name: 深圳",  // 5
        "    also: [Shenzhen]",  // 6
        "threshold: 10",  // 7
        "infractions:",  // 8
        "  vehicle_on_road_before_clearance: 5",  // 9
        "  key_not_handed_in: 5",  // 10
        "  visited_other_household: 10",  // 11
        "  family_member_visited: 5",  // 12
        "  family_not_separated: 5",  // 13
        "  no_isolation_barrier: 5",  // 14
        "  missed_temperature_check: 5",  // 15
        "  refused_prevention_staff: 5",  // 16
        "isolation_days: 14",  // 17
        "central_period_starts: move_to_central",  // 18
        "temperature:",  // 19
        "  fever_celsius: 37.3",  // 20
        "  min_celsius: 30.0",  // 21
        "  max_celsius: 45",  // 22
        "  reading_every_hours: 24",  // 23
        "autonomy_credit:",  // 24
        "  prevention_work: 10",  // 25
    ])

    static func yaml(replacing replacements: [Int: String] = [:], inserting inserts: [Int: String] = [:]) -> String {
        Self.file.yaml(replacing: replacements, inserting: inserts)
    }

    func expectPolicyError(_ yaml: String, line: Int, mentioning text: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        expectPolicyInvalid(yaml, file: "isolation.yaml", line: line, mentioning: text,
                            sourceLocation: sourceLocation) { (text, file) throws(SignoffError) in
            try IsolationPolicy.load(yaml: text, file: file)
        }
    }

    @Test func aValidFileLoads() throws {
        let policy = try IsolationPolicy.load(yaml: Self.yaml())
        #expect(policy.version == "i1")
        #expect(policy.keyAreas == [.init(name: "湖北", aliases: ["Hubei"]), .init(name: "深圳", aliases: ["Shenzhen"])])
        #expect(policy.threshold == 10)
        #expect(policy.points(for: .visitedOtherHousehold) == 10)
        #expect(policy.points(for: .vehicleOnRoadBeforeClearance) == 5)
        #expect(policy.infractionPoints.count == InfractionKind.allCases.count)
        #expect(policy.isolationDays == 14)
        #expect(policy.centralPeriodStart == .moveToCentral)
        #expect(policy.feverCelsius == 37.3)
        #expect(policy.validReadings == 30.0...45.0)
        #expect(policy.readingEveryHours == 24)
        #expect(policy.points(for: .preventionWork) == 10)
    }

    @Test func theTownshipsFileLoadsWithTheDocumentsRules() throws {
        let url = RepoPaths.workflows.appendingPathComponent(IsolationPolicy.defaultFileName)
        let policy = try IsolationPolicy.load(yaml: String(contentsOf: url, encoding: .utf8))
        #expect(policy.keyAreas.map(\.name) == ["湖北", "武汉", "温州", "深圳"])
        #expect(policy.threshold == 10)
        #expect(policy.infractionPoints == [
            .vehicleOnRoadBeforeClearance: 5, .keyNotHandedIn: 5, .visitedOtherHousehold: 10, .familyMemberVisited: 5,
            .familyNotSeparated: 5, .noIsolationBarrier: 5, .missedTemperatureCheck: 5, .refusedPreventionStaff: 5,
        ])
        #expect(policy.isolationDays == 14)
        #expect(policy.centralPeriodStart == .moveToCentral)
        #expect(policy.feverCelsius == 37.3)
        #expect(policy.validReadings == 30.0...45.0)
        #expect(policy.creditPoints == [.preventionWork: 10])
        #expect(!policy.version.isEmpty)
    }

    @Test(arguments: [
        ("湖北", nil, "湖北"), ("湖北省", "十堰", "湖北"), ("Hubei", nil, "湖北"), (" hubei province ", nil, "湖北"),
        ("浙江", "温州", "温州"), ("Zhejiang", "WENZHOU", "温州"), ("广东省", "深圳市", "深圳"), ("Guangdong", "shenzhen city", "深圳"),
        ("湖北", "武汉", "湖北"),
    ] as [(String, String?, String)])
    func keyAreasMatchByProvinceOrCityInChineseOrEnglish(province: String, city: String?, area: String) {
        #expect(Fixture.isolationPolicy().keyArea(province: province, city: city)?.name == area)
    }

    @Test func otherPlacesAreNoKeyArea() {
        let policy = Fixture.isolationPolicy()
        #expect(policy.keyArea(province: "四川", city: "成都") == nil)
        #expect(policy.keyArea(province: "广东", city: "广州") == nil)
        #expect(policy.keyArea(province: "Hubeixyz", city: nil) == nil)
        #expect(policy.keyArea(province: "省", city: "") == nil)
    }

    @Test func anUnknownKeyOrInfractionKindNamesItsLine() {
        self.expectPolicyError(Self.yaml(inserting: [7: "treshold: 10"]), line: 7, mentioning: "treshold")
        self.expectPolicyError(Self.yaml(replacing: [14: "  no_barrier: 5"]), line: 14, mentioning: "infractions.no_barrier")
        self.expectPolicyError(Self.yaml(inserting: [17: "  spitting: 5"]), line: 17, mentioning: "infractions.spitting")
        self.expectPolicyError(Self.yaml(replacing: [25: "  cleaning: 10"]), line: 25, mentioning: "autonomy_credit.cleaning")
        self.expectPolicyError(Self.yaml(replacing: [4: "    aka: [Hubei]"]), line: 4, mentioning: "key_areas[1].aka")
        self.expectPolicyError(Self.yaml(replacing: [23: "  readings_per_day: 1"]), line: 23, mentioning: "temperature.readings_per_day")
    }

    @Test func aNonPositiveWeightOrDurationNamesItsLine() {
        self.expectPolicyError(Self.yaml(replacing: [12: "  family_member_visited: 0"]), line: 12, mentioning: "positive")
        self.expectPolicyError(Self.yaml(replacing: [11: "  visited_other_household: -10"]), line: 11, mentioning: "infractions.visited_other_household")
        self.expectPolicyError(Self.yaml(replacing: [7: "threshold: 0"]), line: 7, mentioning: "positive")
        self.expectPolicyError(Self.yaml(replacing: [17: "isolation_days: 0"]), line: 17, mentioning: "isolation_days")
        self.expectPolicyError(Self.yaml(replacing: [23: "  reading_every_hours: 0"]), line: 23, mentioning: "positive")
        self.expectPolicyError(Self.yaml(replacing: [25: "  prevention_work: 0"]), line: 25, mentioning: "positive")
    }

    @Test func aMissingKeyNamesTheMappingsLine() {
        self.expectPolicyError(Self.yaml(replacing: [15: "  # none"]), line: 9, mentioning: "infractions.missed_temperature_check")
        self.expectPolicyError(Self.yaml(replacing: [17: "# none"]), line: 1, mentioning: "isolation_days")
        self.expectPolicyError(Self.yaml(replacing: [18: "# none"]), line: 1, mentioning: "central_period_starts")
        // The temperature mapping then starts on line 21.
        self.expectPolicyError(Self.yaml(replacing: [20: "  # none"]), line: 21, mentioning: "temperature.fever_celsius")
        self.expectPolicyError(Self.yaml(replacing: [5: "  - also: [Shenzhen]", 6: "    # no name"]), line: 5, mentioning: "key_areas[2].name")
    }

    @Test func aWrongTypeNamesItsLine() {
        self.expectPolicyError(Self.yaml(replacing: [7: "threshold: ten"]), line: 7, mentioning: "whole number")
        self.expectPolicyError(Self.yaml(replacing: [10: "  key_not_handed_in: \"5\""]), line: 10, mentioning: "whole number")
        self.expectPolicyError(Self.yaml(replacing: [20: "  fever_celsius: hot"]), line: 20, mentioning: "a number")
        self.expectPolicyError(Self.yaml(replacing: [21: "  min_celsius: \"30\""]), line: 21, mentioning: "a number")
        self.expectPolicyError(Self.yaml(replacing: [21: "  min_celsius: .nan"]), line: 21, mentioning: "a number")
        self.expectPolicyError(Self.yaml(replacing: [18: "central_period_starts: admission"]), line: 18, mentioning: "move_to_central")
        let noTable = Dictionary(uniqueKeysWithValues: (9...16).map { ($0, "#") })
        self.expectPolicyError(Self.yaml(replacing: noTable.merging([8: "infractions: [5, 5]"]) { $1 }), line: 8, mentioning: "mapping")
        let noAreas = Dictionary(uniqueKeysWithValues: (3...6).map { ($0, "#") })
        self.expectPolicyError(Self.yaml(replacing: noAreas.merging([2: "key_areas: 湖北"]) { $1 }), line: 2, mentioning: "a list")
    }

    @Test func temperaturesMustBeConsistent() {
        self.expectPolicyError(Self.yaml(replacing: [22: "  max_celsius: 29"]), line: 22, mentioning: "above min_celsius")
        self.expectPolicyError(Self.yaml(replacing: [20: "  fever_celsius: 46"]), line: 20, mentioning: "between min_celsius and max_celsius")
    }

    @Test func aKeyAreaListedTwiceNamesItsLine() {
        self.expectPolicyError(Self.yaml(replacing: [5: "  - name: 湖北省"]), line: 5, mentioning: "already listed (line 3)")
        self.expectPolicyError(Self.yaml(replacing: [6: "    also: [HUBEI]"]), line: 6, mentioning: "already listed (line 4)")
    }

    @Test func theInitializerRefusesWhatTheFileWouldRefuse() {
        let policy = Fixture.isolationPolicy()
        var weights = policy.infractionPoints
        weights[.noIsolationBarrier] = nil
        expectError(.invalidValue) { () throws(SignoffError) in
            try IsolationPolicy(
                version: "x", keyAreas: [], infractionPoints: weights, threshold: 10, isolationDays: 14,
                centralPeriodStart: .arrival, feverCelsius: 37.3, validReadings: 30...45, readingEveryHours: 24,
                creditPoints: policy.creditPoints)
        }
        expectError(.invalidValue) { () throws(SignoffError) in
            try IsolationPolicy(
                version: "x", keyAreas: [], infractionPoints: policy.infractionPoints, threshold: 10, isolationDays: 14,
                centralPeriodStart: .arrival, feverCelsius: 29, validReadings: 30...45, readingEveryHours: 24,
                creditPoints: policy.creditPoints)
        }
    }
}
