import Foundation
import Testing

@testable import SignoffCore

/// Returnees of `Fixture.grid1`, with the township's isolation rules.
extension Fixture {
    static let returneeID = UUID(uuidString: "15000000-0000-0000-0000-000000000001")!
    static let returneePersonID = UUID(uuidString: "15000000-0000-0000-0000-000000000002")!
    static let otherHouseholdID = UUID(uuidString: "15000000-0000-0000-0000-000000000003")!

    static func isolationPolicy(
        version: String = "iso-test-v1", periodStart: IsolationPolicy.CentralPeriodStart = .moveToCentral
    ) -> IsolationPolicy {
        let weights: [InfractionKind: Int] = Dictionary(
            uniqueKeysWithValues: InfractionKind.allCases.map { ($0, $0 == .visitedOtherHousehold ? 10 : 5) })
        do {
            return try IsolationPolicy(
                version: version,
                keyAreas: [.init(name: "湖北", aliases: ["Hubei"]), .init(name: "武汉", aliases: ["Wuhan"]),
                           .init(name: "温州", aliases: ["Wenzhou"]), .init(name: "深圳", aliases: ["Shenzhen"])],
                infractionPoints: weights, threshold: 10, isolationDays: 14, centralPeriodStart: periodStart,
                feverCelsius: 37.3, validReadings: 30.0...45.0, readingEveryHours: 24,
                creditPoints: [.preventionWork: 10])
        } catch {
            fatalError("fixture policy is valid: \(error)")  // the arguments above are fixed and valid
        }
    }

    /// A hand-recorded entry of `Fixture.householdID`.
    static func infraction(
        _ kind: InfractionKind, points: Int = 5, household: UUID = Fixture.householdID, at: Date = Fixture.t0,
        sourceKey: String? = nil
    ) -> InfractionEntry {
        InfractionEntry(
            id: UUID(), householdID: household, personID: nil, gridPath: Fixture.grid1, kind: kind, points: points,
            note: nil, sourceKey: sourceKey, recordedAt: at, recordedBy: Fixture.gridWorker.userID,
            recordedByName: Fixture.gridWorker.displayName, policyVersion: "iso-test-v1")
    }

    static func returnee(
        province: String = "四川", city: String? = "成都", arrivedAt: Date = Fixture.t0,
        infractions: [InfractionEntry] = [], policy: IsolationPolicy = Fixture.isolationPolicy()
    ) -> ReturneeIsolation.Start {
        ReturneeIsolation.Start(
            personID: Fixture.returneePersonID, householdID: Fixture.householdID, gridPath: Fixture.grid1,
            fromProvince: province, fromCity: city, arrivedAt: arrivedAt, householdInfractions: infractions,
            policy: policy)
    }
}
