import Foundation

/// Whether one listed person may travel on a directed-transport trip 定向运输: the rule, without
/// the lookups. The store finds the person, their issued 健康证 and any other open trip they are
/// on; this decides, in this order: the person must exist and live in the unit running the trip,
/// hold a certificate still valid at departure (or now, if later) whose scope fits the
/// destination (in or outside Sichuan), and be on no other open trip.
public enum TripEligibility: Equatable, Sendable {
    case eligible(certificateNumber: String)
    case refused(Reason, message: String)

    public enum Reason: String, Sendable, CaseIterable {
        case unknownPerson = "unknown_person"
        case outsideUnit = "outside_unit"
        case noCertificate = "no_certificate"
        case certificateExpired = "certificate_expired"
        case wrongScope = "wrong_scope"
        case onAnotherTrip = "on_another_trip"
    }

    /// - Parameters:
    ///   - name: the person's name, or nil when no such person is registered.
    ///   - certificates: the person's issued certificates, newest first.
    ///   - otherOpenTrip: an open trip the person is already on.
    ///   - scope: the scope the trip's destination needs.
    ///   - checkTime: the later of now and the departure date.
    public static func decide(
        id: UUID, name: String?, livesInTripUnit: Bool, certificates: [CertificateRequest], otherOpenTrip: UUID?,
        scope: CertificateScope, at checkTime: Date
    ) -> TripEligibility {
        guard let name else { return .refused(.unknownPerson, message: "\(id) is not a registered person.") }
        guard livesInTripUnit else {
            return .refused(.outsideUnit, message: "\(name) does not live in the unit running this trip.")
        }
        let unexpired = certificates.filter { !$0.isExpired(at: checkTime) }
        if let fitting = unexpired.first(where: { $0.scope == scope }) {
            if let other = otherOpenTrip {
                return .refused(.onAnotherTrip, message: "\(name) is already on another open trip (\(other.uuidString.lowercased())).")
            }
            return .eligible(certificateNumber: fitting.certificateNumber ?? "")
        }
        if let other = unexpired.first {
            return .refused(.wrongScope, message: "\(name)'s health certificate 健康证 is \(other.scope.chineseName), but this trip goes \(scope.chineseName).")
        }
        if !certificates.isEmpty {
            return .refused(.certificateExpired, message: "\(name)'s health certificate 健康证 expires before the departure date.")
        }
        return .refused(.noCertificate, message: "\(name) has no health certificate 健康证.")
    }
}
