import Foundation

/// A directed transport service 定向运输 that carries certified migrant workers point to
/// point: filed by a village or township official, approved by the chief leader, then
/// departed (with the boarded headcount) and arrived, or cancelled before departure.
///
/// The roster arrives already checked: the store confirms, in the filing transaction, that
/// every worker holds an issued, unexpired certificate of the right scope and is on no other
/// open trip. The machine keeps the roster and refuses an empty or repeated one.
public struct TransportTrip: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        case filed
        case approved
        case rejected
        case departed
        case arrived
        case cancelled
    }

    /// One worker on the roster, with the certificate the store checked.
    public struct Worker: Sendable, Codable, Hashable {
        public var personID: UUID
        public var name: String
        public var householdID: UUID
        /// From a registered poor household 贫困户 when the trip was filed.
        public var poor: Bool
        public var certificateNumber: String

        public init(personID: UUID, name: String, householdID: UUID, poor: Bool, certificateNumber: String) {
            self.personID = personID
            self.name = name
            self.householdID = householdID
            self.poor = poor
            self.certificateNumber = certificateNumber
        }

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case personID = "person_id"
            case name
            case householdID = "household_id"
            case poor
            case certificateNumber = "certificate_number"
        }
    }

    public struct Start: Sendable {
        /// The unit that runs the trip (a village, or the township); workers come from below it.
        public var unitPath: UnitPath
        public var destination: CertificateRequest.Destination
        public var departureDate: Date
        public var vehiclePlate: String
        public var driverName: String
        public var driverPhone: String?
        public var workers: [Worker]
        public var policy: WorkerPolicy

        public init(unitPath: UnitPath, destination: CertificateRequest.Destination, departureDate: Date, vehiclePlate: String,
                    driverName: String, driverPhone: String?, workers: [Worker], policy: WorkerPolicy) {
            self.unitPath = unitPath
            self.destination = destination
            self.departureDate = departureDate
            self.vehiclePlate = vehiclePlate
            self.driverName = driverName
            self.driverPhone = driverPhone
            self.workers = workers
            self.policy = policy
        }
    }

    public enum Command: Sendable, Equatable {
        case approve(note: String?)
        case reject(reason: String?)
        case depart(boarded: Int)
        case arrive(note: String?)
        case cancel(reason: String?)
    }

    public static let kind = "transport_trip"
    /// Village and township officials who organise trips and record departure and arrival.
    public static let organiserRoles: [Role] = [.branchSecretary, .villageLeader, .chiefLeader, .admin]
    /// States in which a worker counts as booked: a second trip cannot take them.
    public static let openStates: [State] = [.filed, .approved, .departed]

    public private(set) var state: State
    public let tripID: UUID
    public let unitPath: UnitPath
    public let destination: CertificateRequest.Destination
    public let requiredScope: CertificateScope
    public let departureDate: Date
    public let vehiclePlate: String
    public let driverName: String
    public let driverPhone: String?
    public let workers: [Worker]
    public let policyVersion: String
    public let filedAt: Date
    public let filedBy: UUID
    public private(set) var decidedAt: Date?
    public private(set) var decidedBy: UUID?
    public private(set) var rejectReason: String?
    public private(set) var departedAt: Date?
    public private(set) var boarded: Int?
    public private(set) var arrivedAt: Date?
    public private(set) var cancelledAt: Date?
    public private(set) var cancelReason: String?

    public var stateName: String { self.state.rawValue }
    public var poorHouseholdWorkers: Int { self.workers.filter(\.poor).count }

    public var projection: Projection {
        Projection(unitPath: self.unitPath, pendingRole: self.state == .filed ? .chiefLeader : nil,
                   pendingSince: self.state == .filed ? self.filedAt : nil,
                   dueAt: self.state == .filed || self.state == .approved ? self.departureDate : nil,
                   policyVersion: self.policyVersion, headcount: self.boarded,
                   memberIDs: self.workers.map(\.personID), poorMembers: self.poorHouseholdWorkers)
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = try actor.assignment(asAnyOf: Self.organiserRoles, covering: start.unitPath)
        let province = try DomainFormat.required(start.destination.province, field: "destination_province", what: "The destination province 目的地省份", limit: 50)
        let city = try DomainFormat.required(start.destination.city, field: "destination_city", what: "The destination city 目的地城市", limit: 50)
        let employer = try DomainFormat.required(start.destination.employer ?? "", field: "employer", what: "The employer 用工单位", limit: 200)
        let plate = try DomainFormat.required(start.vehiclePlate, field: "vehicle_plate", what: "The vehicle 车辆", limit: 32)
        let driver = try DomainFormat.required(start.driverName, field: "driver_name", what: "The driver 驾驶员", limit: 100)
        if let phone = start.driverPhone { try UnitRules.validatePhone(phone) }
        guard !start.workers.isEmpty else {
            throw SignoffError.invalidValue("workers", "A trip carries at least one worker 务工人员.")
        }
        guard Set(start.workers.map(\.personID)).count == start.workers.count else {
            throw SignoffError.invalidValue("workers", "A worker is listed twice on this trip.")
        }
        guard start.departureDate >= now.addingTimeInterval(-86_400) else {
            throw SignoffError.invalidValue("departure_date", "The departure date lies in the past.")
        }
        let destination = CertificateRequest.Destination(province: province, city: city, employer: employer)
        let trip = TransportTrip(
            state: .filed, tripID: id, unitPath: start.unitPath, destination: destination,
            requiredScope: start.policy.scope(forProvince: province), departureDate: start.departureDate, vehiclePlate: plate,
            driverName: driver, driverPhone: start.driverPhone, workers: start.workers, policyVersion: start.policy.version,
            filedAt: now, filedBy: actor.userID)
        return (trip, Effect(event: "file", actingAs: acting, payload: [
            "destination": .string("\(province) \(city)"), "employer": .string(employer),
            "workers": .int(start.workers.count), "poor_household_workers": .int(trip.poorHouseholdWorkers),
            "departure_date": .string(DomainFormat.timestamp(start.departureDate)), "vehicle_plate": .string(plate),
        ]))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .approve(let note): try self.approve(note: note, by: actor, at: now)
        case .reject(let reason): try self.reject(reason: reason, by: actor, at: now)
        case .depart(let boarded): try self.depart(boarded: boarded, by: actor, at: now)
        case .arrive(let note): try self.arrive(note: note, by: actor, at: now)
        case .cancel(let reason): try self.cancel(reason: reason, by: actor, at: now)
        }
    }

    public mutating func approve(note: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(as: .chiefLeader, covering: self.unitPath)
        guard self.state == .filed else { throw .invalidTransition("approve", from: self.stateName) }
        self.state = .approved
        self.decidedAt = now
        self.decidedBy = actor.userID
        var payload: [String: JSONValue] = [:]
        if let note = note?.trimmedReason { payload["note"] = .string(note) }
        return Effect(event: "approve", actingAs: acting, payload: payload)
    }

    public mutating func reject(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(as: .chiefLeader, covering: self.unitPath)
        let reason = try requireReason(reason)
        guard self.state == .filed else { throw .invalidTransition("reject", from: self.stateName) }
        self.state = .rejected
        self.decidedAt = now
        self.decidedBy = actor.userID
        self.rejectReason = reason
        return Effect(event: "reject", actingAs: acting, reason: reason)
    }

    /// The bus leaves: `boarded` is how many of the listed workers got on.
    public mutating func depart(boarded: Int, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.organiserRoles, covering: self.unitPath)
        guard (1...self.workers.count).contains(boarded) else {
            throw SignoffError.invalidValue("boarded", "Boarded must be between 1 and the \(self.workers.count) listed workers, not \(boarded).")
        }
        guard self.state == .approved else { throw .invalidTransition("depart", from: self.stateName) }
        self.state = .departed
        self.departedAt = now
        self.boarded = boarded
        return Effect(event: "depart", actingAs: acting, payload: ["boarded": .int(boarded)])
    }

    public mutating func arrive(note: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.organiserRoles, covering: self.unitPath)
        guard self.state == .departed else { throw .invalidTransition("arrive", from: self.stateName) }
        self.state = .arrived
        self.arrivedAt = now
        var payload: [String: JSONValue] = [:]
        if let note = note?.trimmedReason { payload["note"] = .string(note) }
        return Effect(event: "arrive", actingAs: acting, payload: payload)
    }

    public mutating func cancel(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.organiserRoles, covering: self.unitPath)
        let reason = try requireReason(reason)
        guard self.state == .filed || self.state == .approved else { throw .invalidTransition("cancel", from: self.stateName) }
        self.state = .cancelled
        self.cancelledAt = now
        self.cancelReason = reason
        return Effect(event: "cancel", actingAs: acting, reason: reason)
    }

    private init(
        state: State, tripID: UUID, unitPath: UnitPath, destination: CertificateRequest.Destination, requiredScope: CertificateScope,
        departureDate: Date, vehiclePlate: String, driverName: String, driverPhone: String?, workers: [Worker],
        policyVersion: String, filedAt: Date, filedBy: UUID
    ) {
        self.state = state
        self.tripID = tripID
        self.unitPath = unitPath
        self.destination = destination
        self.requiredScope = requiredScope
        self.departureDate = departureDate
        self.vehiclePlate = vehiclePlate
        self.driverName = driverName
        self.driverPhone = driverPhone
        self.workers = workers
        self.policyVersion = policyVersion
        self.filedAt = filedAt
        self.filedBy = filedBy
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case tripID = "trip_id"
        case unitPath = "unit_path"
        case destination
        case requiredScope = "required_scope"
        case departureDate = "departure_date"
        case vehiclePlate = "vehicle_plate"
        case driverName = "driver_name"
        case driverPhone = "driver_phone"
        case workers
        case policyVersion = "policy_version"
        case filedAt = "filed_at"
        case filedBy = "filed_by"
        case decidedAt = "decided_at"
        case decidedBy = "decided_by"
        case rejectReason = "reject_reason"
        case departedAt = "departed_at"
        case boarded
        case arrivedAt = "arrived_at"
        case cancelledAt = "cancelled_at"
        case cancelReason = "cancel_reason"
    }
}

// MARK: - DiagrammedMachine
extension TransportTrip: DiagrammedMachine {
    public static let title = "定向运输 directed transport"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "file", .filed, when: "every worker certified for the scope, on no other open trip"),
        Transition(.filed, "approve", .approved, when: "chief leader"),
        Transition(.filed, "reject", .rejected, when: "chief leader, reason"),
        Transition(.approved, "depart", .departed, when: "boarded headcount"),
        Transition(.departed, "arrive", .arrived),
        Transition(.filed, "cancel", .cancelled, when: "reason"),
        Transition(.approved, "cancel", .cancelled, when: "reason, before departure"),
    ]

    public static let finalStates: [State] = [.rejected, .arrived, .cancelled]

    public static func describe(_ state: State) -> String {
        switch state {
        case .filed: "待审批 filed"
        case .approved: "已批准 approved"
        case .rejected: "不予批准 rejected"
        case .departed: "已出发 departed"
        case .arrived: "已到达 arrived"
        case .cancelled: "已取消 cancelled"
        }
    }
}
