import Foundation

/// A moment an instance is due for time-driven work, kept as a row of `timers`.
///
/// The key names the occurrence: a level's limit in round 2 is another moment than in
/// round 1, and a clearance date moved by a violation is a new moment. A moment fires at
/// most once per key, so recomputing the list on every transition never repeats a reminder.
public struct DueMoment: Sendable, Hashable {
    public enum Name: String, Sendable, Codable, Hashable, CaseIterable {
        /// 催办: the pending level passed its time limit.
        case levelLimit = "level_limit"
        /// 逾期上报: the pending level waited twice its limit.
        case levelEscalation = "level_escalation"
        /// 停放满14天: the vehicle may now apply for a travel pass.
        case clearanceDue = "clearance_due"
        case isolationEnds = "isolation_ends"
        /// The daily temperature reading did not come.
        case readingMissed = "reading_missed"
        case certificateExpiry = "certificate_expiry"
        case passExpiry = "pass_expiry"
        case agriculturalPassExpiry = "agricultural_pass_expiry"
    }

    /// How many limits a pending level waits before it is escalated to the administrators.
    public static let escalationFactor: Double = 2

    public var name: Name
    /// Distinguishes occurrences of the same name on one instance (round and level, a date).
    public var occurrence: String
    public var at: Date
    /// The facts a notice about it needs (plate, level, role), copied into the outbox row.
    public var payload: [String: JSONValue]

    public init(_ name: Name, occurrence: String, at: Date, payload: [String: JSONValue] = [:]) {
        self.name = name
        self.occurrence = occurrence
        self.at = at
        self.payload = payload
    }

    /// The timer's unique key for the instance `id`.
    public func key(for id: UUID) -> String {
        "\(id.uuidString.lowercased()):\(self.name.rawValue):\(self.occurrence)"
    }

    /// The outbox event a firing publishes.
    public var eventName: String { "timer.\(self.name.rawValue)" }

    static func occurrence(_ date: Date) -> String {
        String(Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}

// MARK: - PassApplication
extension PassApplication {
    /// While pending: the level's limit and its escalation at twice the limit, once per round
    /// and level. Once effective: its expiry.
    public var dueMoments: [DueMoment] {
        switch self.state {
        case .pending:
            guard let level = self.pendingLevel, var since = self.pendingSince else { return [] }
            var occurrence = "r\(self.rounds.count)l\(level.level)"
            var payload: [String: JSONValue] = [
                "plate": .string(self.plate.text), "level": .int(level.level), "role": .string(level.role.rawValue),
                "role_name": .string(level.role.chineseName), "round": .int(self.rounds.count),
                "limit_hours": .int(Int(level.limit / 3_600)),
            ]
            // After a 转交 the new holder gets fresh moments of their own, and the reminder goes to them.
            if let assigned = self.pendingReassignment {
                let count = self.currentRound.reassignments?.filter { $0.level == level.level }.count ?? 0
                occurrence += "a\(count)"
                since = assigned.at
                payload["assignee_id"] = .string(assigned.to.userID.uuidString)
                payload["assignee_name"] = .string(assigned.to.name)
            }
            return [
                DueMoment(.levelLimit, occurrence: occurrence, at: since.addingTimeInterval(level.limit), payload: payload),
                DueMoment(.levelEscalation, occurrence: occurrence,
                          at: since.addingTimeInterval(level.limit * DueMoment.escalationFactor), payload: payload),
            ]
        case .effective:
            guard let until = self.effectiveUntil else { return [] }
            return [DueMoment(.passExpiry, occurrence: "pass", at: until, payload: [
                "plate": .string(self.plate.text), "pass_number": .string(self.passNumber ?? ""),
            ])]
        case .rejected, .withdrawn, .revoked:
            return []
        }
    }

    /// The applicant side hears of a rejection; an effective pass is already published.
    public func notices(for effect: Effect) -> [DomainEvent] {
        guard effect.event == "reject", let rejection = self.currentRound.rejection else { return [] }
        return [DomainEvent(
            name: "vehicle_pass.rejected",
            key: "vehicle_pass.rejected:\(self.applicationID.uuidString):\(self.rounds.count)",
            payload: [
                "plate": .string(self.plate.text), "level": .int(rejection.signer.level),
                "role_name": .string(rejection.signer.role.chineseName), "reason": .string(rejection.reason),
                "signer": .string(rejection.signer.name),
            ])]
    }
}

// MARK: - ParkingPledge
extension ParkingPledge {
    /// While parked: the clearance date (a violation moves it, which makes a new moment).
    public var dueMoments: [DueMoment] {
        guard self.state == .parked else { return [] }
        return [DueMoment(.clearanceDue, occurrence: DueMoment.occurrence(self.clearanceDueAt), at: self.clearanceDueAt,
                          payload: ["plate": .string(self.plate.text), "clearance_days": .int(self.clearanceDays)])]
    }
}

// MARK: - ReturneeIsolation
extension ReturneeIsolation {
    /// While isolating: the next daily reading and the end of the isolation period.
    public var dueMoments: [DueMoment] {
        guard self.isIsolating else { return [] }
        let payload: [String: JSONValue] = ["person_id": .string(self.personID.uuidString)]
        var moments = [DueMoment(.isolationEnds, occurrence: DueMoment.occurrence(self.isolationEndsAt),
                                 at: self.isolationEndsAt, payload: payload)]
        if let due = self.nextReadingDue {
            moments.append(DueMoment(.readingMissed, occurrence: DueMoment.occurrence(due), at: due, payload: payload))
        }
        return moments
    }

    /// A fever reading goes at once to the grid worker and the health centre.
    public func notices(for effect: Effect) -> [DomainEvent] {
        guard effect.event == "record_temperature", effect.payload["fever"] == .bool(true),
              let reading = self.readings.last
        else { return [] }
        return [DomainEvent(
            name: "isolation.fever",
            key: "isolation.fever:\(self.returneeID.uuidString):\(self.readings.count)",
            payload: [
                "person_id": .string(self.personID.uuidString), "celsius": .double(reading.celsius),
                "taken_at": .string(DomainFormat.timestamp(reading.takenAt)),
            ])]
    }
}

// MARK: - CertificateRequest
extension CertificateRequest {
    public var dueMoments: [DueMoment] {
        guard self.state == .certified, let until = self.validUntil else { return [] }
        return [DueMoment(.certificateExpiry, occurrence: "certificate", at: until, payload: [
            "person_ids": .array([.string(self.personID.uuidString)]),
            "certificate_number": .string(self.certificateNumber ?? ""),
        ])]
    }

    /// The worker hears that the certificate was issued.
    public func notices(for effect: Effect) -> [DomainEvent] {
        guard effect.event == "pass", let number = self.certificateNumber, let until = self.validUntil else { return [] }
        return [DomainEvent(
            name: "certificate.issued", key: "certificate.issued:\(self.requestID.uuidString)",
            payload: [
                "person_ids": .array([.string(self.personID.uuidString)]), "certificate_number": .string(number),
                "valid_until": .string(DomainFormat.timestamp(until)),
            ])]
    }
}

// MARK: - TransportTrip
extension TransportTrip {
    /// Every worker on the trip hears that it was approved.
    public func notices(for effect: Effect) -> [DomainEvent] {
        guard effect.event == "approve" else { return [] }
        return [DomainEvent(
            name: "transport_trip.approved", key: "transport_trip.approved:\(self.tripID.uuidString)",
            payload: [
                "person_ids": .array(self.workers.map { .string($0.personID.uuidString) }),
                "plate": .string(self.vehiclePlate),
                "departure": .string(DomainFormat.timestamp(self.departureDate)),
            ])]
    }
}

// MARK: - AgriculturalPass
extension AgriculturalPass {
    public var dueMoments: [DueMoment] {
        guard self.state == .issued, let until = self.validUntil else { return [] }
        return [DueMoment(.agriculturalPassExpiry, occurrence: "pass", at: until, payload: [
            "plate": .string(self.plate ?? self.vehicleDescription), "serial_number": .string(self.serialNumber ?? ""),
        ])]
    }
}
