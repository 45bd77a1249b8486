import Foundation
import Testing

@testable import SignoffCore

@Suite struct ReturneeIsolationTests {
    func register(
        _ start: ReturneeIsolation.Start = Fixture.returnee(), by actor: Principal = Fixture.gridWorker, at now: Date = Fixture.t0
    ) throws(SignoffError) -> (ReturneeIsolation, Effect) {
        try ReturneeIsolation.start(start, id: Fixture.returneeID, by: actor, at: now)
    }

    // MARK: Deciding the placement

    @Test(arguments: [("湖北", "十堰"), ("Hubei", nil), ("广东", "深圳"), ("Zhejiang", "wenzhou"), ("湖北省", "武汉市")]
          as [(String, String?)])
    func aReturneeFromAKeyAreaGoesToCompulsoryCentralIsolation(province: String, city: String?) throws {
        let (returnee, effect) = try self.register(Fixture.returnee(province: province, city: city))
        #expect(returnee.state == .centralCompulsory)
        #expect(returnee.rule == .keyArea)
        #expect(!returnee.isSelfPaid)
        #expect(returnee.explanation.keyArea != nil)
        #expect(effect.event == "register")
        #expect(effect.payload["placement"] == "central_compulsory")
    }

    @Test func aKeyAreaIsCompulsoryEvenWithPointsOverTheThreshold() throws {
        let entries = [Fixture.infraction(.visitedOtherHousehold, points: 10)]
        let (returnee, _) = try self.register(Fixture.returnee(province: "湖北", infractions: entries))
        #expect(returnee.state == .centralCompulsory)
        #expect(returnee.explanation.summary.contains("湖北"))
    }

    @Test func registrationRecordsTheDecisionAndPinsThePolicy() throws {
        let arrived = Fixture.t0.plus(days: -2)
        let entry = Fixture.infraction(.noIsolationBarrier)
        let (returnee, effect) = try self.register(Fixture.returnee(arrivedAt: arrived, infractions: [entry]))
        #expect(returnee.state == .home)
        #expect(returnee.infractionTotal == 5)
        #expect(returnee.periodStartedAt == arrived)
        #expect(returnee.isolationEndsAt == arrived.plus(days: 14))
        #expect(returnee.exclusiveKey == .person(Fixture.returneePersonID))
        #expect(returnee.projection == Projection(
            unitPath: Fixture.grid1, dueAt: Fixture.t0.plus(hours: 24), policyVersion: "iso-test-v1",
            subjectRef: Fixture.returneePersonID, category: "home"))
        #expect(effect.actingAs == Fixture.gridWorker.assignments[0])
        #expect(effect.payload["person_id"] == .string(Fixture.returneePersonID.uuidString))
        #expect(effect.payload["from_province"] == "四川")
        #expect(effect.payload["from_city"] == "成都")
        #expect(effect.payload["arrived_at"] == "2020-02-08T00:00:00Z")
        #expect(effect.payload["isolation_ends_at"] == "2020-02-22T00:00:00Z")
        #expect(effect.payload["decision"] == returnee.explanation.json)
    }

    @Test func fivePlusFivePointsMoveHomeIsolationToCentralAtOwnExpenseAtExactlyTen() throws {
        let first = Fixture.infraction(.vehicleOnRoadBeforeClearance, sourceKey: "vehicle.violation:p:1")
        let (registered, _) = try self.register(Fixture.returnee(infractions: [first]))
        var returnee = registered
        #expect(returnee.state == .home)
        #expect(returnee.explanation.total == 5)

        let second = Fixture.infraction(.keyNotHandedIn, sourceKey: "vehicle.key_declined:c")
        let movedAt = Fixture.t0.plus(days: 3)
        let effect = try returnee.handle(.recordInfraction(second), by: .system, at: movedAt)
        #expect(returnee.state == .centralSelfPaid)
        #expect(returnee.isSelfPaid)
        #expect(returnee.movedToCentralAt == movedAt)
        // Policy: central days count from the move.
        #expect(returnee.periodStartedAt == movedAt)
        #expect(returnee.isolationEndsAt == movedAt.plus(days: 14))
        #expect(effect.event == "record_infraction")
        #expect(effect.actingAs == nil)
        #expect(effect.payload["moved_to"] == "central_self_paid")
        #expect(effect.payload["total"] == 10)
        #expect(effect.payload["threshold"] == 10)
        #expect(effect.payload["entry"] == second.json)
        // The audit row names the entries behind the decision.
        guard case .object(let decision) = effect.payload["decision"] else {
            Issue.record("no decision in \(effect.payload)")
            return
        }
        #expect(decision["rule"] == "points")
        #expect(decision["entries"] == .array([first.json, second.json]))
        #expect(decision["self_paid"] == true)
        #expect(decision["decided_at"] == "2020-02-13T00:00:00Z")
    }

    @Test func fivePointsAloneStayAtHome() throws {
        var (returnee, _) = try self.register()
        let effect = try returnee.handle(.recordInfraction(Fixture.infraction(.familyMemberVisited)), by: Fixture.gridWorker,
                                         at: Fixture.t0)
        #expect(returnee.state == .home)
        #expect(returnee.infractionTotal == 5)
        #expect(effect.actingAs == Fixture.gridWorker.assignments[0])
        #expect(effect.payload["moved_to"] == nil)
        #expect(effect.payload["decision"] == nil)
    }

    @Test func tenPointsAtRegistrationMeanCentralAtOwnExpense() throws {
        let entries = [Fixture.infraction(.familyMemberVisited), Fixture.infraction(.familyNotSeparated)]
        let (returnee, _) = try self.register(Fixture.returnee(arrivedAt: Fixture.t0.plus(days: -1), infractions: entries))
        #expect(returnee.state == .centralSelfPaid)
        #expect(returnee.rule == .points)
        #expect(returnee.periodStartedAt == Fixture.t0)
        #expect(returnee.movedToCentralAt == nil)
    }

    @Test func thePolicyMayCountCentralDaysFromArrival() throws {
        let arrived = Fixture.t0.plus(days: -1)
        let (keyArea, _) = try self.register(Fixture.returnee(
            province: "湖北", arrivedAt: arrived, policy: Fixture.isolationPolicy(periodStart: .arrival)))
        #expect(keyArea.isolationEndsAt == arrived.plus(days: 14))
        var (home, _) = try self.register(Fixture.returnee(
            arrivedAt: arrived, infractions: [Fixture.infraction(.noIsolationBarrier)],
            policy: Fixture.isolationPolicy(periodStart: .arrival)))
        _ = try home.handle(.recordInfraction(Fixture.infraction(.familyNotSeparated)), by: Fixture.gridWorker,
                            at: Fixture.t0.plus(days: 5))
        #expect(home.state == .centralSelfPaid)
        #expect(home.isolationEndsAt == arrived.plus(days: 14))
    }

    @Test func theExplanationListsTheEntriesAndTheTotal() throws {
        let entries = [Fixture.infraction(.familyMemberVisited), Fixture.infraction(.missedTemperatureCheck)]
        let (returnee, _) = try self.register(Fixture.returnee(infractions: entries))
        let explanation = returnee.explanation
        #expect(explanation.rule == .points)
        #expect(explanation.placement == .centralSelfPaid)
        #expect(explanation.entries == entries)
        #expect(explanation.total == 10)
        #expect(explanation.threshold == 10)
        #expect(explanation.keyArea == nil)
        #expect(explanation.summary.contains("自费"))
        #expect(explanation.summary.contains("10 points"))
        guard case .object(let json) = explanation.json, case .array(let listed) = json["entries"] else {
            Issue.record("explanation JSON lacks entries")
            return
        }
        #expect(listed.count == 2)
        #expect(listed.first == entries[0].json)
        guard case .object(let firstEntry) = listed.first else { return }
        #expect(firstEntry["label"] == .string(InfractionKind.familyMemberVisited.chineseName))
        #expect(firstEntry["points"] == 5)
    }

    @Test func registrationRefusesBadInputAndOutsiders() {
        let error = expectError(.invalidValue) { () throws(SignoffError) in
            try self.register(Fixture.returnee(province: " "))
        }
        #expect(error?.extra["field"] == "from_province")
        let future = expectError(.invalidValue) { () throws(SignoffError) in
            try self.register(Fixture.returnee(arrivedAt: Fixture.t0.plus(days: 1)))
        }
        #expect(future?.extra["field"] == "arrived_at")
        expectError(.invalidValue) { () throws(SignoffError) in
            try self.register(Fixture.returnee(infractions: [Fixture.infraction(.noIsolationBarrier, household: Fixture.otherHouseholdID)]))
        }
        expectError(.forbiddenRole) { () throws(SignoffError) in try self.register(by: Fixture.healthOfficer) }
        expectError(.outOfJurisdiction) { () throws(SignoffError) in try self.register(by: Fixture.foreignGridWorker) }
    }

    @Test func anInfractionIsCountedOnceAndOnlyForItsHousehold() throws {
        var (returnee, _) = try self.register()
        let entry = Fixture.infraction(.vehicleOnRoadBeforeClearance, sourceKey: "vehicle.violation:p:1")
        _ = try returnee.handle(.recordInfraction(entry), by: .system, at: Fixture.t0)
        expectRefused(&returnee, .recordInfraction(entry), by: .system, at: Fixture.t0, .duplicate)
        var redelivered = Fixture.infraction(.vehicleOnRoadBeforeClearance, sourceKey: "vehicle.violation:p:1")
        redelivered.id = UUID()
        expectRefused(&returnee, .recordInfraction(redelivered), by: .system, at: Fixture.t0, .duplicate)
        expectRefused(&returnee, .recordInfraction(Fixture.infraction(.noIsolationBarrier, household: Fixture.otherHouseholdID)),
                      by: .system, at: Fixture.t0, .invalidValue)
        expectRefused(&returnee, .recordInfraction(Fixture.infraction(.noIsolationBarrier)), by: Fixture.healthOfficer,
                      at: Fixture.t0, .forbiddenRole)
        #expect(returnee.infractionTotal == 5)
    }

    // MARK: Temperatures and fever

    @Test func aFeverOpensAnUrgentItemUntilTheHealthCentreHandlesIt() throws {
        var (returnee, _) = try self.register()
        let normal = try returnee.handle(.recordTemperature(celsius: 36.6, takenAt: nil), by: Fixture.gridWorker,
                                         at: Fixture.t0.plus(hours: 2))
        #expect(normal.payload["fever"] == false)
        #expect(returnee.projection.pendingRole == nil)

        let feverAt = Fixture.t0.plus(hours: 10)
        let effect = try returnee.handle(.recordTemperature(celsius: 37.3, takenAt: feverAt), by: Fixture.gridWorker,
                                         at: feverAt.plus(hours: 1))
        #expect(effect == Effect(
            event: "record_temperature", actingAs: Fixture.gridWorker.assignments[0],
            payload: ["celsius": .double(37.3), "taken_at": "2020-02-10T10:00:00Z", "fever": true,
                      "next_reading_due": "2020-02-11T10:00:00Z", "fever_raised_at": "2020-02-10T10:00:00Z"]))
        #expect(returnee.projection.pendingRole == .healthOfficer)
        #expect(returnee.projection.pendingSince == feverAt)
        #expect(returnee.openFever?.highestCelsius == 37.3)

        // A second fever reading joins the open report; it still waits since the first.
        _ = try returnee.handle(.recordTemperature(celsius: 38.1, takenAt: nil), by: Fixture.healthOfficer,
                                at: feverAt.plus(hours: 3))
        #expect(returnee.feverReports.count == 1)
        #expect(returnee.openFever?.highestCelsius == 38.1)
        #expect(returnee.openFever?.feverReadings == 2)
        #expect(returnee.projection.pendingSince == feverAt)

        expectRefused(&returnee, .handleFever(note: "已转诊"), by: Fixture.gridWorker, at: feverAt.plus(hours: 4), .forbiddenRole)
        expectRefused(&returnee, .handleFever(note: " "), by: Fixture.healthOfficer, at: feverAt.plus(hours: 4), .invalidValue)
        let handled = try returnee.handle(.handleFever(note: "已转县医院发热门诊"), by: Fixture.healthOfficer,
                                          at: feverAt.plus(hours: 4))
        #expect(handled.event == "handle_fever")
        #expect(handled.payload["highest_celsius"] == .double(38.1))
        #expect(handled.payload["note"] == "已转县医院发热门诊")
        #expect(returnee.openFever == nil)
        #expect(returnee.projection.pendingRole == nil)
        #expect(returnee.projection.pendingSince == nil)
        #expect(returnee.feverReports.first?.handledAt == feverAt.plus(hours: 4))
        expectRefused(&returnee, .handleFever(note: "again"), by: Fixture.healthOfficer, at: feverAt.plus(hours: 5),
                      .invalidTransition)
    }

    @Test(arguments: [29.9, 45.1, -1, 370, Double.nan, Double.infinity, -Double.infinity])
    func badReadingsAreRefusedWithAClearMessage(celsius: Double) throws {
        var (returnee, _) = try self.register()
        let error = expectRefused(&returnee, .recordTemperature(celsius: celsius, takenAt: nil), by: Fixture.gridWorker,
                                  at: Fixture.t0, .invalidValue)
        #expect(error?.extra["field"] == "celsius")
        #expect(error?.detail.contains("体温") == true)
        #expect(error?.detail.contains("30.0–45.0 °C") == true)
    }

    @Test func theRangesEndsAreValidReadings() throws {
        var (returnee, _) = try self.register()
        _ = try returnee.handle(.recordTemperature(celsius: 30.0, takenAt: nil), by: Fixture.gridWorker, at: Fixture.t0)
        _ = try returnee.handle(.recordTemperature(celsius: 45.0, takenAt: nil), by: Fixture.gridWorker, at: Fixture.t0)
        #expect(returnee.readings.map(\.celsius) == [30.0, 45.0])
        #expect(returnee.readings.map(\.isFever) == [false, true])
    }

    @Test func readingsNeedACarerOfTheGridAndAPlausibleTime() throws {
        var (returnee, _) = try self.register(Fixture.returnee(arrivedAt: Fixture.t0.plus(days: -1)))
        expectRefused(&returnee, .recordTemperature(celsius: 36.5, takenAt: nil), by: Fixture.groupLeader, at: Fixture.t0,
                      .forbiddenRole)
        expectRefused(&returnee, .recordTemperature(celsius: 36.5, takenAt: nil), by: Fixture.foreignGridWorker,
                      at: Fixture.t0, .outOfJurisdiction)
        expectRefused(&returnee, .recordTemperature(celsius: 36.5, takenAt: Fixture.t0.plus(hours: 1)), by: Fixture.gridWorker,
                      at: Fixture.t0, .invalidValue)
        expectRefused(&returnee, .recordTemperature(celsius: 36.5, takenAt: Fixture.t0.plus(days: -2)), by: Fixture.gridWorker,
                      at: Fixture.t0, .invalidValue)
    }

    @Test func aMissedDailyReadingIsOverdueUnderAMovedClock() throws {
        let clock = ManualClock(Fixture.t0)
        var (returnee, _) = try self.register(at: clock.now())
        #expect(returnee.nextReadingDue == Fixture.t0.plus(hours: 24))
        #expect(returnee.projection.dueAt == Fixture.t0.plus(hours: 24))
        clock.advance(by: 23 * 3_600)
        #expect(!returnee.isReadingOverdue(at: clock.now()))
        _ = try returnee.handle(.recordTemperature(celsius: 36.4, takenAt: nil), by: Fixture.gridWorker, at: clock.now())
        #expect(returnee.projection.dueAt == Fixture.t0.plus(hours: 47))

        clock.advance(days: 1)
        #expect(!returnee.isReadingOverdue(at: clock.now()))
        clock.advance(by: 1)
        #expect(returnee.isReadingOverdue(at: clock.now()))
        // A late reading ends the overdue and restarts the day.
        _ = try returnee.handle(.recordTemperature(celsius: 36.4, takenAt: nil), by: Fixture.gridWorker, at: clock.now())
        #expect(!returnee.isReadingOverdue(at: clock.now()))
        #expect(returnee.nextReadingDue == clock.now().plus(hours: 24))
        // A back-dated reading older than the latest does not move the due time back.
        let due = returnee.nextReadingDue
        _ = try returnee.handle(.recordTemperature(celsius: 36.4, takenAt: Fixture.t0.plus(hours: 1)), by: Fixture.gridWorker,
                                at: clock.now())
        #expect(returnee.nextReadingDue == due)
    }

    // MARK: Release

    @Test func releaseComesAfterThePeriodAndNotBefore() throws {
        var (returnee, _) = try self.register()
        let error = expectRefused(&returnee, .release(note: nil), by: Fixture.gridWorker, at: Fixture.t0.plus(days: 13.9),
                                  .clearanceNotReached)
        #expect(error?.extra["ends_at"] == "2020-02-24T00:00:00Z")
        #expect(error?.detail.contains("2020-02-24 08:00") == true)
        #expect(error?.detail.contains("2020-02-24T00:00:00Z") == true)
        expectRefused(&returnee, .release(note: nil), by: Fixture.groupLeader, at: Fixture.t0.plus(days: 14), .forbiddenRole)
        #expect(!returnee.isReleasable(at: Fixture.t0.plus(days: 13.9)))
        #expect(returnee.isReleasable(at: Fixture.t0.plus(days: 14)))

        let effect = try returnee.handle(.release(note: "14天期满, 体温正常"), by: Fixture.healthOfficer, at: Fixture.t0.plus(days: 14))
        #expect(effect == Effect(
            event: "release", actingAs: Fixture.healthOfficer.assignments[0],
            payload: ["placement": "home", "isolation_ends_at": "2020-02-24T00:00:00Z", "readings": 0,
                      "note": "14天期满, 体温正常"]))
        #expect(returnee.state == .released)
        #expect(returnee.placement == .home)
        #expect(returnee.exclusiveKey == nil)
        #expect(returnee.projection.dueAt == nil)
        #expect(!returnee.isReadingOverdue(at: Fixture.t0.plus(days: 30)))
        let later = Fixture.t0.plus(days: 15)
        expectRefused(&returnee, .release(note: nil), by: Fixture.gridWorker, at: later, .invalidTransition)
        expectRefused(&returnee, .recordTemperature(celsius: 36.5, takenAt: nil), by: Fixture.gridWorker, at: later,
                      .invalidTransition)
        expectRefused(&returnee, .recordInfraction(Fixture.infraction(.noIsolationBarrier)), by: Fixture.gridWorker, at: later,
                      .invalidTransition)
    }

    @Test func aMoveToCentralPushesTheReleaseBack() throws {
        var (returnee, _) = try self.register(Fixture.returnee(infractions: [Fixture.infraction(.noIsolationBarrier)]))
        let moved = Fixture.t0.plus(days: 10)
        _ = try returnee.handle(.recordInfraction(Fixture.infraction(.refusedPreventionStaff)), by: Fixture.gridWorker, at: moved)
        expectRefused(&returnee, .release(note: nil), by: Fixture.gridWorker, at: Fixture.t0.plus(days: 14), .clearanceNotReached)
        _ = try returnee.handle(.release(note: nil), by: Fixture.gridWorker, at: moved.plus(days: 14))
        #expect(returnee.state == .released)
        #expect(returnee.placement == .centralSelfPaid)
    }

    @Test func anOpenFeverHoldsTheRelease() throws {
        var (returnee, _) = try self.register()
        let end = Fixture.t0.plus(days: 14)
        _ = try returnee.handle(.recordTemperature(celsius: 38.0, takenAt: nil), by: Fixture.gridWorker, at: end)
        let error = expectRefused(&returnee, .release(note: nil), by: Fixture.gridWorker, at: end, .invalidTransition)
        #expect(error?.extra["requires"] == "fever_handled")
        _ = try returnee.handle(.handleFever(note: "复查正常"), by: Fixture.healthOfficer, at: end)
        _ = try returnee.handle(.release(note: nil), by: Fixture.gridWorker, at: end)
        #expect(returnee.state == .released)
    }

    @Test func theInstanceKeepsThePolicyItStartedUnder() throws {
        let (returnee, _) = try self.register(Fixture.returnee(policy: Fixture.isolationPolicy(version: "old")))
        #expect(returnee.policyVersion == "old")
        #expect(returnee.projection.policyVersion == "old")
        #expect(returnee.threshold == 10)
        #expect(returnee.feverCelsius == 37.3)
        // The stored form round-trips, so the store can reload it.
        let encoder = JSONEncoder()
        let decoded = try JSONDecoder().decode(ReturneeIsolation.self, from: encoder.encode(returnee))
        #expect(snapshot(decoded) == snapshot(returnee))
    }
}
