import Foundation
import Testing

@testable import SignoffCore

extension Fixture {
    static let visitID = UUID(uuidString: "16000000-0000-0000-0000-000000000001")!
    static let visitRules = HouseholdVisit.Rules(validReadings: 30.0...45.0, feverCelsius: 37.3)

    /// 2020-02-10 in Lianhe: `t0` is its 08:00.
    static let visitDay = ChinaDay(containing: Fixture.t0)

    static func visit(_ finding: HouseholdVisit.Finding, half: VisitSlot.Half = .morning, at: Date = Fixture.t0,
                      by actor: Principal = Fixture.gridWorker) throws(SignoffError) -> (HouseholdVisit, Effect) {
        try HouseholdVisit.start(
            .init(householdID: Fixture.householdID, gridPath: Fixture.grid1, slot: VisitSlot(day: visitDay, half: half),
                  finding: finding, rules: visitRules),
            id: visitID, by: actor, at: at)
    }
}

@Suite struct VisitSlotTests {
    /// 2020-02-10 00:00 China time is 2020-02-09 16:00 UTC.
    static let midnight = Date(timeIntervalSince1970: 1_581_264_000)

    @Test func theHalfDayFollowsChinaTimeAtNoonAndMidnight() {
        let noon = Self.midnight.addingTimeInterval(12 * 3_600)
        #expect(VisitSlot(containing: Self.midnight).label == "2020-02-10 am")
        #expect(VisitSlot(containing: Self.midnight.addingTimeInterval(-1)).label == "2020-02-09 pm")
        #expect(VisitSlot(containing: noon.addingTimeInterval(-1)).label == "2020-02-10 am")
        #expect(VisitSlot(containing: noon).label == "2020-02-10 pm")
        #expect(VisitSlot(containing: Self.midnight.addingTimeInterval(86_400 - 1)).label == "2020-02-10 pm")
        #expect(VisitSlot(containing: Self.midnight.addingTimeInterval(86_400)).label == "2020-02-11 am")
        // 08:00 China time is 00:00 UTC: the UTC date is not the day.
        #expect(ChinaDay(containing: Fixture.t0).text == "2020-02-10")
        #expect(ChinaDay(containing: Self.midnight.addingTimeInterval(-1)).text == "2020-02-09")
    }

    @Test func aSlotKnowsItsBoundsAndItsLabel() throws {
        let slot = try #require(VisitSlot(label: "2020-02-10 pm"))
        #expect(slot.start == Self.midnight.addingTimeInterval(12 * 3_600))
        #expect(slot.end == Self.midnight.addingTimeInterval(24 * 3_600))
        #expect(slot.chineseName == "2月10日下午")
        #expect(VisitSlot.both(of: slot.day).map(\.label) == ["2020-02-10 am", "2020-02-10 pm"])
        #expect(VisitSlot(label: "2020-02-30 am") == nil)
        #expect(VisitSlot(label: "2020-02-10") == nil)
        #expect(VisitSlot(label: "2020-2-10 am") == nil)
        #expect(VisitSlot(label: "2020-02-10 noon") == nil)
        #expect(ChinaDay("2020-02-29")?.adding(days: 1).text == "2020-03-01")
        #expect(ChinaDay("2020-03-01")?.adding(days: -1).text == "2020-02-29")
        #expect(VisitSlot(label: "2020-02-10 am")! < slot)
    }
}

@Suite struct HouseholdVisitTests {
    @Test func aVisitRecordsItsHalfDayAndHoldsTheHouseholdsSlot() throws {
        let (visit, effect) = try Fixture.visit(.visited)
        #expect(visit.state == .visited)
        #expect(visit.slot == "2020-02-10 am")
        #expect(visit.projection.subjectRef == Fixture.householdID)
        #expect(visit.projection.category == "2020-02-10 am")
        #expect(visit.projection.unitPath == Fixture.grid1)
        #expect(visit.exclusiveKey?.text == "household:\(Fixture.householdID.uuidString):2020-02-10 am")
        #expect(effect.event == "record")
        #expect(effect.actingAs?.role == .gridWorker)
        #expect(effect.payload["outcome"] == .string("visited"))
        #expect(visit.notices(for: effect).isEmpty)
    }

    @Test func onlyTheGridsWorkerVisitsAndOnlyInAHalfDayThatHasBegun() throws {
        expectError(.outOfJurisdiction) { () throws(SignoffError) in try Fixture.visit(.visited, by: Fixture.foreignGridWorker) }
        expectError(.forbiddenRole) { () throws(SignoffError) in try Fixture.visit(.visited, by: Fixture.groupLeader) }
        // 08:00: the afternoon has not begun.
        let early = expectError(.invalidValue) { () throws(SignoffError) in try Fixture.visit(.visited, half: .afternoon) }
        #expect(early?.extra["field"] == .string("slot"))
        // 12:00 sharp it has.
        #expect(try Fixture.visit(.visited, half: .afternoon, at: Fixture.t0.plus(hours: 4)).0.state == .visited)
        // A phone offline since the morning may still send it the next day, not two days later.
        #expect(try Fixture.visit(.notAtHome, at: Fixture.t0.plus(hours: 27)).0.state == .notAtHome)
        expectError(.invalidValue) { () throws(SignoffError) in try Fixture.visit(.visited, at: Fixture.t0.plus(hours: 28)) }
    }

    @Test func aHouseholdNotAtHomeMayBeCalledOnAgainButAVisitThatFoundSomeoneIsFinal() throws {
        var (visit, _) = try Fixture.visit(.notAtHome)
        let effect = try visit.handle(.callAgain(.visited, rules: Fixture.visitRules), by: Fixture.otherGridWorker, at: Fixture.t0.plus(hours: 2))
        #expect(effect.event == "call_again")
        #expect(visit.state == .visited)
        #expect(visit.calls.map(\.outcome) == [.notAtHome, .visited])
        #expect(visit.lastCall.byName == Fixture.otherGridWorker.displayName)
        expectRefused(&visit, .callAgain(.notAtHome, rules: Fixture.visitRules), by: Fixture.gridWorker, at: Fixture.t0.plus(hours: 3),
                      .invalidTransition)
        var (other, _) = try Fixture.visit(.notAtHome)
        expectRefused(&other, .callAgain(.visited, rules: Fixture.visitRules), by: Fixture.foreignGridWorker, at: Fixture.t0.plus(hours: 1),
                      .outOfJurisdiction)
    }

    @Test func aChangeSaysWhatChanged() throws {
        expectError(.missingField) { () throws(SignoffError) in try Fixture.visit(.changed(.init(kind: .returned))) }
        expectError(.missingField) { () throws(SignoffError) in try Fixture.visit(.changed(.init(kind: .fever, personName: "张三"))) }
        expectError(.invalidValue) { () throws(SignoffError) in try Fixture.visit(.changed(.init(kind: .fever, personName: "张三", celsius: 73))) }
        expectError(.missingField) { () throws(SignoffError) in try Fixture.visit(.changed(.init(kind: .departed, personName: "  "))) }
        let (returned, effect) = try Fixture.visit(.changed(.init(kind: .returned, personName: " 李四 ", fromProvince: "湖北", celsius: 36.5)))
        #expect(returned.state == .changed)
        #expect(returned.change?.personName == "李四")
        #expect(returned.change?.celsius == nil)
        #expect(effect.payload["change"] == .string("returned"))
    }

    @Test func aFeverNoIsolationTookIsAnUrgentNoticeOfItsOwn() throws {
        let (fever, effect) = try Fixture.visit(.changed(.init(kind: .fever, personName: "张三", celsius: 38.1)))
        let notices = fever.notices(for: effect)
        #expect(notices.map(\.name) == ["visit.fever"])
        #expect(notices.first?.payload["celsius"] == .double(38.1))
        let followed = HouseholdVisit.FollowUp(kind: ReturneeIsolation.kind, id: Fixture.returneeID)
        let (taken, takenEffect) = try Fixture.visit(.changed(.init(kind: .fever, personName: "张三", celsius: 38.1, followUp: followed)))
        #expect(taken.notices(for: takenEffect).isEmpty, "the isolation sends its own fever report")
        let (normal, normalEffect) = try Fixture.visit(.changed(.init(kind: .fever, personName: "张三", celsius: 36.8)))
        #expect(normal.notices(for: normalEffect).isEmpty)
    }

    @Test func theDeclaredDiagramIsWhatTheMachineDoes() throws {
        var seen: Set<String> = []
        for finding in [HouseholdVisit.Finding.visited, .notAtHome, .changed(.init(kind: .departed, personName: "王五"))] {
            let (visit, effect) = try Fixture.visit(finding)
            seen.insert("nil-\(effect.event)->\(visit.stateName)")
            var again = try Fixture.visit(.notAtHome).0
            let second = try again.handle(.callAgain(finding, rules: Fixture.visitRules), by: Fixture.gridWorker, at: Fixture.t0.plus(hours: 1))
            seen.insert("not_at_home-\(second.event)->\(again.stateName)")
        }
        let declared = Set(HouseholdVisit.transitions.map { "\($0.from?.rawValue ?? "nil")-\($0.event)->\($0.to.rawValue)" })
        #expect(seen == declared)
    }
}

// MARK: - Golden stored form
extension GoldenScenarios {
    static let visits: [GoldenScenario] = [
        // The golden scenarios' own people, whose ids are fixed.
        GoldenScenario { try Fixture.visit(.visited, by: gridWorker).0 },
        GoldenScenario { try Fixture.visit(.notAtHome, by: gridWorker).0 },
        GoldenScenario {
            var visit = try Fixture.visit(.notAtHome, by: gridWorker).0
            _ = try visit.handle(.callAgain(.changed(.init(
                kind: .returned, personID: Fixture.returneePersonID, personName: "李四", fromProvince: "湖北", fromCity: "武汉",
                note: "昨晚到家", followUp: .init(kind: ReturneeIsolation.kind, id: Fixture.returneeID))),
                rules: Fixture.visitRules), by: gridWorker, at: Fixture.t0.plus(hours: 2))
            return visit
        },
    ]

    static var visitKeyChecks: [KeyCheck] {
        guard let data = try? visits[2].encode(), let visit = try? StoredForm.decoder().decode(HouseholdVisit.self, from: data),
              let change = visit.change, let followUp = change.followUp
        else { return [] }
        return [
            KeyCheck(visit, HouseholdVisit.CodingKeys.self),
            KeyCheck(visit.lastCall, HouseholdVisit.Call.CodingKeys.self),
            KeyCheck(change, HouseholdVisit.Change.CodingKeys.self),
            KeyCheck(followUp, HouseholdVisit.FollowUp.CodingKeys.self),
        ]
    }
}
