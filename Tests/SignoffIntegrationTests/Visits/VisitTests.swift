import Foundation
import HTTPTypes
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffHTTP
@testable import SignoffStore

@Suite("上下午走访: visits, their follow-ups and coverage", .timeLimit(.minutes(3)))
struct VisitTests {
    /// 2020-02-10 in Lianhe; the test world starts at its 08:00.
    static let day = ChinaDay(containing: TestWorld.start)
    static let morning = VisitSlot(day: day, half: .morning)
    static let afternoon = VisitSlot(day: day, half: .afternoon)

    static func record(_ world: TestWorld, _ household: UUID, _ finding: HouseholdVisit.Finding, slot: VisitSlot? = nil,
                       by username: String = "gw1", as actor: Principal? = nil, key: String? = nil) async throws -> TransitionOutcome<HouseholdVisit> {
        let metadata = RequestMetadata(idempotency: key.map {
            IdempotencyRequest(key: $0, method: "POST", path: "/app/visits", body: Data("\(household)\(finding)".utf8))
        })
        let principal: Principal
        if let actor { principal = actor } else { principal = try await world.actor(username) }
        return try await world.services.visits.record(.init(householdID: household, slot: slot, finding: finding),
                                                      by: principal, metadata: metadata,
                                                      render: key == nil ? nil : VisitPages.render())
    }

    static func visit(_ outcome: TransitionOutcome<HouseholdVisit>) throws -> Stored<HouseholdVisit> {
        guard case .applied(let transitioned, _) = outcome else { throw SignoffError(.internalError, "replayed") }
        return transitioned.stored
    }

    static func count(_ world: TestWorld, _ sql: String) async throws -> Int {
        try await world.database.withConnection { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: world.database.logger)
            for try await value in rows.decode(Int.self) { return value }
            return -1
        }
    }

    @Test func coverageAndTheHouseholdsNotVisitedFollowTheClock() async throws {
        try await TestWorld.with { world, _ in
            let a = try await world.household(in: world.town.grid1, code: "w1-h1")
            let b = try await world.household(in: world.town.grid1, code: "w1-h2")
            let c = try await world.household(in: world.town.grid1, code: "w1-h3")
            let d = try await world.household(in: world.town.grid2, code: "w2-h1", member: "李四")
            _ = try await world.household(in: world.town.grid2, code: "w2-h2", member: "王五")
            _ = try await Self.record(world, a.household.id, .visited)
            _ = try await Self.record(world, b.household.id, .notAtHome)
            _ = try await Self.record(world, d.household.id, .visited, by: "gw2")
            let store = world.services.visits
            let township = world.town.township.path
            var coverage = try await store.coverage(of: Self.day, under: township)
            #expect(coverage.map(\.gridName) == ["第1网格", "第2网格", "第3网格"])
            #expect(coverage.map(\.households) == [3, 2, 0])
            #expect(coverage.map(\.morning) == [2, 1, 0])
            #expect(coverage.map(\.afternoon) == [0, 0, 0])
            #expect(coverage.map(\.notAtHome) == [1, 0, 0])
            #expect(coverage.first?.villageName == "联合村")
            // 08:00: the afternoon has not begun, so only the morning is missed.
            var unvisited = try await store.unvisited(on: Self.day, under: township, asOf: world.clock.now())
            #expect(unvisited.households.map(\.code) == ["w1-h3", "w2-h2"])
            #expect(unvisited.households.allSatisfy { $0.missingMorning && !$0.missingAfternoon })
            // 12:00 China time: the afternoon's visits are due everywhere.
            world.clock.advance(by: 4 * 3_600)
            _ = try await Self.record(world, c.household.id, .visited)
            _ = try await Self.record(world, a.household.id, .visited)
            unvisited = try await store.unvisited(on: Self.day, under: township, asOf: world.clock.now())
            #expect(unvisited.total == 4)
            #expect(unvisited.households.map(\.code) == ["w1-h2", "w1-h3", "w2-h1", "w2-h2"])
            #expect(unvisited.households.first { $0.code == "w1-h3" }.map { $0.missingMorning && !$0.missingAfternoon } == true,
                    "w1-h3's visit at 12:00 is the afternoon's")
            coverage = try await store.coverage(of: Self.day, under: township)
            #expect(coverage.map(\.morning) == [2, 1, 0])
            #expect(coverage.map(\.afternoon) == [2, 0, 0])
            // A village administrator sees only the village's grids.
            #expect(try await store.coverage(of: Self.day, under: world.town.village2.path).map(\.gridName) == ["第3网格"])
            // The next day starts empty at midnight China time.
            world.clock.advance(by: 12 * 3_600)
            let tomorrow = ChinaDay(containing: world.clock.now())
            #expect(tomorrow == Self.day.adding(days: 1))
            #expect(try await store.coverage(of: tomorrow, under: township).map(\.morning) == [0, 0, 0])
            #expect(try await store.unvisited(on: tomorrow, under: township, asOf: world.clock.now()).total == 5)
            #expect(try await store.latestDay() == Self.day)
            #expect(try await world.auditIsIntact())
        }
    }

    @Test func theAdministratorsPageAndItsCSVShowTheSameCounts() async throws {
        try await TestWorld.with { world, client in
            let a = try await world.household(in: world.town.grid1, code: "w1-h1")
            _ = try await world.household(in: world.town.grid1, code: "w1-h2", member: "赵六")
            _ = try await Self.record(world, a.household.id, .visited)
            let admin = try await client.webLogin("admin")
            let page = try await client.page("/app/admin/visits", admin)
            #expect(page.status == .ok)
            #expect(page.text.contains("上午已走访 <strong>1</strong> 户（50%）"))
            #expect(page.text.contains("1/2"))
            #expect(page.text.contains("未走访的住户（1 户）"))
            #expect(page.text.contains("w1-h2"))
            let csv = try await client.page("/app/admin/visits/coverage.csv?day=2020-02-10", admin)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.text.contains("2020-02-10,联合村,联合村1组,第1网格,2,1,0,0,0"))
            let missing = try await client.page("/app/admin/visits/unvisited.csv", admin)
            #expect(missing.text.contains("w1-h2,赵六,是,"))
            #expect(!missing.text.contains("w1-h1"))
            let other = try await client.page("/app/admin/visits?day=2020-02-09", admin)
            #expect(other.text.contains("最近有走访记录的是"))
            #expect(try await client.page("/app/admin/visits?day=2020-13-01", admin).status == .unprocessableContent)
            let gw1 = try await client.webLogin("gw1")
            #expect(try await client.page("/app/admin/visits", gw1).status == .forbidden)
            // The grid worker's home lists today's households with the morning's state.
            let home = try await client.page("/app", gw1)
            #expect(home.text.contains("今日走访 2月10日"))
            #expect(home.text.contains("上午 1/2 户"))
            #expect(home.text.contains("12:00 后走访"))
            #expect(home.text.contains("name=\"slot\" value=\"2020-02-10 am\""))
            let list = try await client.page("/app/visits", gw1)
            #expect(list.status == .ok)
            #expect(list.text.contains("上午 1/2 户"))
            #expect(try await client.page("/app/visits", admin).status == .forbidden)
        }
    }

    @Test func aReportedChangeOpensItsWorkflowInTheSameRequest() async throws {
        try await TestWorld.with { world, _ in
            let home = try await world.household(in: world.town.grid1, code: "w1-h1")
            let other = try await world.household(in: world.town.grid1, code: "w1-h2", member: "李四")
            // Someone came back from Hubei: registered with the visit, compulsory central isolation.
            let returned = try Self.visit(try await Self.record(world, home.household.id, .changed(.init(
                kind: .returned, personName: "张小明", fromProvince: "湖北", fromCity: "武汉"))))
            let followUp = try #require(returned.machine.change?.followUp)
            #expect(followUp.kind == ReturneeIsolation.kind)
            let isolation = try await world.services.transitions.load(ReturneeIsolation.self, id: followUp.id)
            #expect(isolation.machine.state == .centralCompulsory)
            #expect(isolation.machine.householdID == home.household.id)
            #expect(returned.machine.change?.personID == isolation.machine.personID)
            #expect(VisitPages.location(returned.machine) == "/app/returnees/\(followUp.id.uuidString.lowercased())?done=registered")
            // In the afternoon the returnee has a fever: the isolation gets the reading and its urgent report.
            world.clock.advance(by: 5 * 3_600)
            let fever = try Self.visit(try await Self.record(world, home.household.id, .changed(.init(
                kind: .fever, personID: isolation.machine.personID, celsius: 38.4))))
            #expect(fever.machine.change?.followUp?.id == followUp.id)
            let read = try await world.services.transitions.load(ReturneeIsolation.self, id: followUp.id)
            #expect(read.machine.readings.map(\.celsius) == [38.4])
            #expect(read.machine.openFever != nil)
            #expect(try await world.outboxDeliveries("isolation.fever").count == 1)
            #expect(try await world.outboxDeliveries("visit.fever").isEmpty)
            // A fever of someone not isolating: an urgent notice of the visit's own.
            let notIsolating = try Self.visit(try await Self.record(world, other.household.id, .changed(.init(
                kind: .fever, personID: other.person.id, celsius: 38.0))))
            #expect(notIsolating.machine.change?.followUp == nil)
            #expect(notIsolating.machine.change?.personName == "李四")
            #expect(try await world.outboxDeliveries("visit.fever").count == 1)
            // A return without its origin leads to the registration form, prefilled.
            let gw1 = try await world.actor("gw1")
            world.clock.advance(days: 1)
            let later = try Self.visit(try await Self.record(world, other.household.id, .changed(.init(kind: .returned, personName: "李小四")),
                                                             as: gw1))
            #expect(later.machine.change?.followUp == nil)
            #expect(VisitPages.location(later.machine).hasPrefix("/app/returnees/new?household_id=\(other.household.id.uuidString.lowercased())&name="))
            // The points and isolation rules are those of a registration made by hand.
            #expect(try await Self.count(world, "SELECT count(*)::int FROM returnees") == 1)
            #expect(try await world.auditIsIntact())
        }
    }

    @Test func aRetryWithTheSameKeyDoesNotDoubleAndASecondVisitOfTheHalfDayIsRefused() async throws {
        try await TestWorld.with { world, client in
            let home = try await world.household(in: world.town.grid1, code: "w1-h1")
            let session = try await client.webLogin("gw1")
            let fields = ["csrf": session.csrf, "idempotency_key": "web-visit-1", "household_id": home.household.id.uuidString,
                          "slot": Self.morning.label, "outcome": "changed", "change": "returned", "person_name": "王返乡",
                          "from_province": "广东"]
            let first = try await client.form("/app/visits", session, fields, json: true)
            #expect(first.json["result"] as? String == "ok", "\(first.text)")
            let location = try #require(first.json["location"] as? String)
            #expect(location.hasPrefix("/app/returnees/"))
            // The phone did not hear the answer and sends it again, twice at once.
            async let second = client.form("/app/visits", session, fields, json: true)
            async let third = client.form("/app/visits", session, fields, json: true)
            for reply in try await [second, third] {
                #expect(reply.json["result"] as? String == "replayed")
                #expect(reply.json["location"] as? String == location)
            }
            #expect(try await Self.count(world, "SELECT count(*)::int FROM instances WHERE kind = 'household_visit'") == 1)
            #expect(try await Self.count(world, "SELECT count(*)::int FROM returnees") == 1)
            #expect(try await Self.count(world, "SELECT count(*)::int FROM persons WHERE name = '王返乡'") == 1)
            #expect(try await Self.count(world, "SELECT count(*)::int FROM audit_events WHERE subject_kind = 'household_visit'") == 1)
            // A second tap with a new key is another visit of the same half-day: refused, nothing written.
            var again = fields
            again["idempotency_key"] = "web-visit-2"
            again["outcome"] = "visited"
            let refused = try await client.form("/app/visits", session, again, json: true)
            #expect(refused.status == .conflict)
            #expect(try await Self.count(world, "SELECT count(*)::int FROM audit_events WHERE subject_kind = 'household_visit'") == 1)
            // Taps racing with different keys on a household not visited yet: one visit.
            let next = try await world.household(in: world.town.grid1, code: "w1-h2")
            let racing = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<5 {
                    group.addTask {
                        var tap = fields
                        tap["idempotency_key"] = "web-race-\(n)"
                        tap["household_id"] = next.household.id.uuidString
                        tap["outcome"] = "visited"
                        return try await client.form("/app/visits", session, tap, json: true).status.code
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(racing.filter { $0 == 200 }.count == 1, "\(racing)")
            #expect(racing.filter { $0 == 409 }.count == 4, "\(racing)")
            #expect(try await Self.count(world, "SELECT count(*)::int FROM instances WHERE kind = 'household_visit'") == 2)
            // A household found empty may be called on again in the same half-day.
            let empty = try await world.household(in: world.town.grid1, code: "w1-h3")
            _ = try await Self.record(world, empty.household.id, .notAtHome)
            let call = try Self.visit(try await Self.record(world, empty.household.id, .visited))
            #expect(call.machine.calls.map(\.outcome) == [.notAtHome, .visited])
            #expect(try await world.auditIsIntact())
        }
    }

    @Test func onlyTheGridsWorkerVisitsAndNotAheadOfTheHalfDay() async throws {
        try await TestWorld.with { world, client in
            let home = try await world.household(in: world.town.grid1, code: "w1-h1")
            await #expect { try await Self.record(world, home.household.id, .visited, by: "gw3") } throws: {
                ($0 as? SignoffError)?.code == .outOfJurisdiction
            }
            await #expect { try await Self.record(world, home.household.id, .visited, slot: Self.afternoon) } throws: {
                ($0 as? SignoffError)?.code == .invalidValue
            }
            let session = try await client.webLogin("gw3")
            let page = try await client.form("/app/visits", session, [
                "csrf": session.csrf, "idempotency_key": "web-x", "household_id": home.household.id.uuidString, "outcome": "visited",
            ])
            #expect(page.status == .forbidden)
            #expect(page.text.contains("无权办理"))
            let bad = try await client.form("/app/visits", session, [
                "csrf": session.csrf, "idempotency_key": "web-y", "household_id": home.household.id.uuidString, "outcome": "gone",
            ])
            #expect(bad.status == .unprocessableContent)
            #expect(try await Self.count(world, "SELECT count(*)::int FROM instances WHERE kind = 'household_visit'") == 0)
        }
    }
}
