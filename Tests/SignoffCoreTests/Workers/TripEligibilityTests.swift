import Foundation
import Testing

@testable import SignoffCore

/// Who may board a directed-transport trip: the rule the store applies to each listed worker.
@Suite struct TripEligibilityTests {
    static let id = UUID(uuidString: "0E000000-0000-0000-0000-0000000000F1")!
    static let issued = Fixture.t0.plus(days: 1)

    /// A certificate issued at `issued` for the scope of `province` (valid 90 days by the built-in policy).
    static func certificate(_ province: String, number: String) throws -> CertificateRequest {
        var request = try CertificateRequestTests.filed(province: province)
        _ = try request.handle(.verify(note: nil), by: Fixture.branchSecretary, at: Fixture.t0)
        _ = try request.handle(.recordExam(.pass(certificateNumber: number)), by: Fixture.healthOfficer, at: Self.issued)
        return request
    }

    static func decide(name: String? = "杨明", livesHere: Bool = true, _ certificates: [CertificateRequest], other: UUID? = nil,
                       scope: CertificateScope = .outOfProvince, at time: Date = issued.plus(days: 10)) -> TripEligibility {
        TripEligibility.decide(id: Self.id, name: name, livesInTripUnit: livesHere, certificates: certificates,
                               otherOpenTrip: other, scope: scope, at: time)
    }

    static func reason(_ result: TripEligibility) -> TripEligibility.Reason? {
        if case .refused(let reason, _) = result { return reason }
        return nil
    }

    @Test func aFittingValidCertificateBoards() throws {
        let outside = try Self.certificate("广东", number: "LH-JK-2020-00001")
        #expect(Self.decide([outside]) == .eligible(certificateNumber: "LH-JK-2020-00001"))
        // The newest fitting certificate is the one named, whatever else the person holds.
        let inside = try Self.certificate("四川", number: "LH-JK-2020-00002")
        #expect(Self.decide([inside, outside]) == .eligible(certificateNumber: "LH-JK-2020-00001"))
        #expect(Self.decide([inside, outside], scope: .inProvince) == .eligible(certificateNumber: "LH-JK-2020-00002"))
    }

    @Test func eachRefusalHasItsReasonInOrder() throws {
        let outside = try Self.certificate("广东", number: "LH-JK-2020-00001")
        #expect(Self.reason(Self.decide(name: nil, [outside])) == .unknownPerson)
        #expect(Self.reason(Self.decide(livesHere: false, [outside])) == .outsideUnit)
        #expect(Self.reason(Self.decide([])) == .noCertificate)
        #expect(Self.reason(Self.decide([outside], scope: .inProvince)) == .wrongScope)
        #expect(Self.reason(Self.decide([outside], other: UUID())) == .onAnotherTrip)
        // Valid for 90 days from issue: the last day still boards, the day after does not.
        #expect(Self.decide([outside], at: Self.issued.plus(days: 89)) == .eligible(certificateNumber: "LH-JK-2020-00001"))
        #expect(Self.reason(Self.decide([outside], at: Self.issued.plus(days: 90))) == .certificateExpired)
        // An expired certificate of the wrong scope is expired, not of the wrong scope.
        #expect(Self.reason(Self.decide([outside], scope: .inProvince, at: Self.issued.plus(days: 90))) == .certificateExpired)
    }

    @Test func refusalsSayWhoAndWhy() throws {
        let outside = try Self.certificate("广东", number: "LH-JK-2020-00001")
        guard case .refused(_, let message) = Self.decide([outside], scope: .inProvince) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(message.contains("杨明"))
        #expect(message.contains(CertificateScope.outOfProvince.chineseName))
        #expect(message.contains(CertificateScope.inProvince.chineseName))
    }
}
