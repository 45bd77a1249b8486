import Foundation

/// An agricultural vehicle pass 农用车通行证明 for spring-ploughing transport during
/// traffic control: requested by a grid worker for a household's farm vehicle, issued by
/// the branch secretary of its village with a serial number, revocable with a reason.
///
/// Expiry is not an event: a pass past `validUntil` shows as expired (`displayStatus(at:)`).
public struct AgriculturalPass: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        case requested
        case issued
        case refused
        case revoked
    }

    /// What a reader sees, with expiry computed from the time.
    public enum DisplayStatus: String, Sendable, Hashable {
        case requested, issued, expired, refused, revoked
    }

    public struct Start: Sendable {
        public var householdID: UUID
        public var gridPath: UnitPath
        /// The farm vehicle, such as "三轮农用车 (farm tricycle)"; many have no road plate.
        public var vehicleDescription: String
        /// A plate or farm-machinery number if it has one; free text, since farm plates vary.
        public var plate: String?
        /// Such as "春耕运输化肥 (carrying fertiliser for spring ploughing)".
        public var purpose: String
        public var route: String
        public var policy: VehiclePolicy

        public init(householdID: UUID, gridPath: UnitPath, vehicleDescription: String, plate: String?, purpose: String,
                    route: String, policy: VehiclePolicy) {
            self.householdID = householdID
            self.gridPath = gridPath
            self.vehicleDescription = vehicleDescription
            self.plate = plate
            self.purpose = purpose
            self.route = route
            self.policy = policy
        }
    }

    public enum Command: Sendable, Equatable {
        /// The store allocates the serial, unique per township and year.
        case issue(serialNumber: String)
        case refuse(reason: String?)
        case revoke(reason: String?)
    }

    public static let kind = "agricultural_pass"

    /// `农通-2020-0001`: numbered per township and year, the year in China time
    /// (`ChinaDay(containing:).year`), so a pass issued at 00:30 on 1 January counts in the new year.
    public static func serialNumber(year: Int, number: Int) -> String {
        "农通-\(year)-" + String(format: "%04d", number)
    }
    public static let issuedEvent = "agricultural_pass.issued"
    public static let revokedEvent = "agricultural_pass.revoked"

    public private(set) var state: State
    public let passID: UUID
    public let householdID: UUID
    public let gridPath: UnitPath
    public let vehicleDescription: String
    public let plate: String?
    public let purpose: String
    public let route: String
    public let policyVersion: String
    public let validityDays: Int
    public let requestedAt: Date
    public let requestedBy: UUID
    public private(set) var serialNumber: String?
    public private(set) var issuedAt: Date?
    public private(set) var validUntil: Date?
    public private(set) var closedAt: Date?
    public private(set) var closedReason: String?

    public var stateName: String { self.state.rawValue }

    public var projection: Projection {
        let waiting = self.state == .requested
        return Projection(unitPath: self.gridPath, pendingRole: waiting ? .branchSecretary : nil,
                          pendingSince: waiting ? self.requestedAt : nil,
                          dueAt: self.state == .issued ? self.validUntil : nil,
                          policyVersion: self.policyVersion, subjectRef: self.householdID,
                          serialNumber: self.serialNumber, label: self.plate)
    }

    public func isExpired(at now: Date) -> Bool {
        guard self.state == .issued, let until = self.validUntil else { return false }
        return now >= until
    }

    public func displayStatus(at now: Date) -> DisplayStatus {
        switch self.state {
        case .requested: .requested
        case .issued: self.isExpired(at: now) ? .expired : .issued
        case .refused: .refused
        case .revoked: .revoked
        }
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = try actor.assignment(as: .gridWorker, covering: start.gridPath)
        let vehicle = try DomainFormat.required(start.vehicleDescription, field: "vehicle", what: "The farm vehicle")
        let plate = try DomainFormat.optional(start.plate, field: "plate", what: "The plate", limit: 32)
        let purpose = try DomainFormat.required(start.purpose, field: "purpose", what: "The purpose 用途", limit: 500)
        let route = try DomainFormat.required(start.route, field: "route", what: "The route 路线", limit: 500)
        let pass = AgriculturalPass(
            state: .requested, passID: id, householdID: start.householdID, gridPath: start.gridPath,
            vehicleDescription: vehicle, plate: plate, purpose: purpose, route: route, policyVersion: start.policy.version,
            validityDays: start.policy.agriculturalPassValidityDays, requestedAt: now, requestedBy: actor.userID)
        var payload: [String: JSONValue] = [
            "household_id": .string(start.householdID.uuidString), "vehicle": .string(vehicle),
            "purpose": .string(purpose), "route": .string(route),
        ]
        if let plate { payload["plate"] = .string(plate) }
        return (pass, Effect(event: "request", actingAs: acting, payload: payload))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .issue(let serial): try self.issue(serialNumber: serial, by: actor, at: now)
        case .refuse(let reason): try self.refuse(reason: reason, by: actor, at: now)
        case .revoke(let reason): try self.revoke(reason: reason, by: actor, at: now)
        }
    }

    public mutating func issue(serialNumber: String, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try self.secretary(actor)
        let serial = try DomainFormat.required(serialNumber, field: "serial_number", what: "The serial number", limit: 64)
        guard self.state == .requested else { throw .invalidTransition("issue", from: self.stateName) }
        let until = now.addingTimeInterval(DomainFormat.days(self.validityDays))
        self.state = .issued
        self.serialNumber = serial
        self.issuedAt = now
        self.validUntil = until
        let holder: CredentialClaim.Holder = self.plate.map { .plate($0) } ?? .household(self.householdID, vehicle: self.vehicleDescription)
        let event = DomainEvent(
            name: Self.issuedEvent, key: "\(Self.issuedEvent):\(self.passID.uuidString)",
            payload: [
                "pass_id": .string(self.passID.uuidString), "serial_number": .string(serial),
                CredentialClaim.payloadKey: CredentialClaim(
                    kind: .agriculturalPass, number: serial, holder: holder, scope: self.route, validFrom: now, validUntil: until).payload,
            ])
        return Effect(event: "issue", actingAs: acting,
                      payload: ["serial_number": .string(serial), "valid_until": .string(DomainFormat.timestamp(until))],
                      emitted: [event])
    }

    public mutating func refuse(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try self.secretary(actor)
        let reason = try requireReason(reason)
        guard self.state == .requested else { throw .invalidTransition("refuse", from: self.stateName) }
        self.state = .refused
        self.closedAt = now
        self.closedReason = reason
        return Effect(event: "refuse", actingAs: acting, reason: reason)
    }

    /// Withdraws a pass still in force; an expired pass needs no revoking.
    public mutating func revoke(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try self.secretary(actor)
        let reason = try requireReason(reason)
        guard self.state == .issued, !self.isExpired(at: now) else {
            throw .invalidTransition("revoke", from: self.displayStatus(at: now).rawValue)
        }
        self.state = .revoked
        self.closedAt = now
        self.closedReason = reason
        // An issued pass always has its serial (set by `issue`).
        let serial = self.serialNumber ?? ""
        let event = DomainEvent(
            name: Self.revokedEvent, key: "\(Self.revokedEvent):\(self.passID.uuidString)",
            payload: [
                "pass_id": .string(self.passID.uuidString), "serial_number": .string(serial), "reason": .string(reason),
                CredentialClaim.revocationKey: CredentialClaim.revocationPayload(kind: .agriculturalPass, number: serial),
            ])
        return Effect(event: "revoke", actingAs: acting, reason: reason,
                      payload: ["serial_number": self.serialNumber.map(JSONValue.string) ?? .null], emitted: [event])
    }

    /// The branch secretary of the household's village: held at a unit containing its grid.
    private func secretary(_ actor: Principal) throws(SignoffError) -> RoleAssignment {
        try actor.assignment(as: .branchSecretary, covering: self.gridPath)
    }

    private init(
        state: State, passID: UUID, householdID: UUID, gridPath: UnitPath, vehicleDescription: String, plate: String?,
        purpose: String, route: String, policyVersion: String, validityDays: Int, requestedAt: Date, requestedBy: UUID
    ) {
        self.state = state
        self.passID = passID
        self.householdID = householdID
        self.gridPath = gridPath
        self.vehicleDescription = vehicleDescription
        self.plate = plate
        self.purpose = purpose
        self.route = route
        self.policyVersion = policyVersion
        self.validityDays = validityDays
        self.requestedAt = requestedAt
        self.requestedBy = requestedBy
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case passID = "pass_id"
        case householdID = "household_id"
        case gridPath = "grid_path"
        case vehicleDescription = "vehicle_description"
        case plate
        case purpose
        case route
        case policyVersion = "policy_version"
        case validityDays = "validity_days"
        case requestedAt = "requested_at"
        case requestedBy = "requested_by"
        case serialNumber = "serial_number"
        case issuedAt = "issued_at"
        case validUntil = "valid_until"
        case closedAt = "closed_at"
        case closedReason = "closed_reason"
    }
}

// MARK: - DiagrammedMachine
extension AgriculturalPass: DiagrammedMachine {
    public static let title = "农用车通行证明 agricultural vehicle pass"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "request", .requested),
        Transition(.requested, "issue", .issued, when: "serial number"),
        Transition(.requested, "refuse", .refused, when: "reason"),
        Transition(.issued, "revoke", .revoked, when: "reason, not expired"),
    ]

    public static let finalStates: [State] = [.issued, .refused, .revoked]

    public static func describe(_ state: State) -> String {
        switch state {
        case .requested: "待开具 requested"
        case .issued: "已开具 issued (expired after valid_until)"
        case .refused: "不予开具 refused"
        case .revoked: "已撤销 revoked"
        }
    }
}
