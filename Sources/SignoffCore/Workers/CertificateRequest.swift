import Foundation

/// A migrant worker's request for a health certificate 健康证: filed by the worker or their
/// grid worker, verified by the village (identity and residence), examined by the health
/// centre 卫生院, which either issues a numbered certificate or records a fail.
///
/// The requester may cancel before the exam. A person has at most one open request.
/// Expiry is not an event: a certificate past `validUntil` reads as expired.
public struct CertificateRequest: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        case filed
        case verified
        case certified
        case failed
        case cancelled
        /// A certificate withdrawn from force by the health centre (注销); its credential is revoked.
        case revoked
    }

    /// Where the request stands for a reader, with expiry computed from the time.
    public enum DisplayStatus: String, Sendable, Hashable {
        case filed, verified, certified, expired, failed, cancelled, revoked
    }

    public struct Destination: Sendable, Codable, Hashable {
        public var province: String
        public var city: String
        public var employer: String?

        public init(province: String, city: String, employer: String?) {
            self.province = province
            self.city = city
            self.employer = employer
        }

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case province
            case city
            case employer
        }
    }

    public struct Start: Sendable {
        public var personID: UUID
        public var householdID: UUID
        public var gridPath: UnitPath
        public var destination: Destination
        public var policy: WorkerPolicy

        public init(personID: UUID, householdID: UUID, gridPath: UnitPath, destination: Destination, policy: WorkerPolicy) {
            self.personID = personID
            self.householdID = householdID
            self.gridPath = gridPath
            self.destination = destination
            self.policy = policy
        }
    }

    public enum ExamResult: Sendable, Equatable {
        /// The store allocates the number, unique per township, in the same transaction.
        case pass(certificateNumber: String)
        case fail(reason: String?)
    }

    public enum Command: Sendable, Equatable {
        case verify(note: String?)
        case recordExam(ExamResult)
        case cancel(reason: String?)
        /// 注销: the health centre withdraws an issued certificate still in force, with a reason.
        case revoke(reason: String?)
    }

    public static let kind = "certificate_request"

    /// `LH-JK-2020-00042`: numbered per year, the year in China time (`ChinaDay(containing:).year`).
    public static func certificateNumber(year: Int, number: Int) -> String {
        String(format: "LH-JK-%d-%05d", year, number)
    }
    public static let certifiedEvent = "certificate_request.certified"
    public static let revokedEvent = "certificate_request.revoked"
    /// Who verifies identity and residence for the village.
    public static let verifierRoles: [Role] = [.gridWorker, .branchSecretary]

    public private(set) var state: State
    public let requestID: UUID
    public let personID: UUID
    public let householdID: UUID
    public let gridPath: UnitPath
    public let destination: Destination
    public let scope: CertificateScope
    public let policyVersion: String
    public let validityDays: Int
    public let filedAt: Date
    public let filedBy: UUID
    public private(set) var verifiedAt: Date?
    public private(set) var verifiedBy: UUID?
    public private(set) var examinedAt: Date?
    public private(set) var examinedBy: UUID?
    public private(set) var certificateNumber: String?
    public private(set) var issuedAt: Date?
    public private(set) var validUntil: Date?
    public private(set) var failReason: String?
    public private(set) var cancelledAt: Date?
    public private(set) var cancelReason: String?
    public private(set) var revokedAt: Date?
    public private(set) var revokeReason: String?

    public var stateName: String { self.state.rawValue }

    public var isOpen: Bool { self.state == .filed || self.state == .verified }

    public var exclusiveKey: ExclusiveKey? { self.isOpen ? .person(self.personID) : nil }

    public var projection: Projection {
        let pending: Role? = switch self.state {
        case .filed: .gridWorker
        case .verified: .healthOfficer
        case .certified, .failed, .cancelled, .revoked: nil
        }
        return Projection(unitPath: self.gridPath, pendingRole: pending,
                          pendingSince: self.state == .verified ? self.verifiedAt : (pending == nil ? nil : self.filedAt),
                          dueAt: self.state == .certified ? self.validUntil : nil,
                          policyVersion: self.policyVersion, subjectRef: self.personID,
                          serialNumber: self.certificateNumber, category: self.scope.rawValue)
    }

    public func isExpired(at now: Date) -> Bool {
        guard self.state == .certified, let until = self.validUntil else { return false }
        return now >= until
    }

    public func displayStatus(at now: Date) -> DisplayStatus {
        switch self.state {
        case .filed: .filed
        case .verified: .verified
        case .certified: self.isExpired(at: now) ? .expired : .certified
        case .failed: .failed
        case .cancelled: .cancelled
        case .revoked: .revoked
        }
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = try Self.requester(actor, personID: start.personID, gridPath: start.gridPath)
        let province = try DomainFormat.required(start.destination.province, field: "destination_province", what: "The destination province 目的地省份", limit: 50)
        let city = try DomainFormat.required(start.destination.city, field: "destination_city", what: "The destination city 目的地城市", limit: 50)
        let employer = try DomainFormat.optional(start.destination.employer, field: "employer", what: "The employer 用工单位", limit: 200)
        let destination = Destination(province: province, city: city, employer: employer)
        let scope = start.policy.scope(forProvince: province)
        let request = CertificateRequest(
            state: .filed, requestID: id, personID: start.personID, householdID: start.householdID, gridPath: start.gridPath,
            destination: destination, scope: scope, policyVersion: start.policy.version,
            validityDays: start.policy.certificateValidityDays, filedAt: now, filedBy: actor.userID)
        var payload: [String: JSONValue] = [
            "person_id": .string(start.personID.uuidString), "destination_province": .string(province),
            "destination_city": .string(city), "scope": .string(scope.rawValue),
        ]
        if let employer { payload["employer"] = .string(employer) }
        return (request, Effect(event: "file", actingAs: acting, payload: payload))
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .verify(let note): try self.verify(note: note, by: actor, at: now)
        case .recordExam(let result): try self.recordExam(result, by: actor, at: now)
        case .cancel(let reason): try self.cancel(reason: reason, by: actor, at: now)
        case .revoke(let reason): try self.revoke(reason: reason, by: actor, at: now)
        }
    }

    /// What a certificate's credential names as its scope: inside or outside Sichuan, and the destination.
    public var credentialScope: String {
        "\(self.scope == .inProvince ? "四川省内" : "四川省外") \(self.destination.province) \(self.destination.city)"
    }

    /// 注销: the health centre withdraws a certificate still in force; its credential goes on the revocation list.
    public mutating func revoke(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(as: .healthOfficer, covering: self.gridPath)
        let reason = try requireReason(reason)
        guard self.state == .certified, !self.isExpired(at: now), let number = self.certificateNumber else {
            throw .invalidTransition("revoke", from: self.displayStatus(at: now).rawValue)
        }
        self.state = .revoked
        self.revokedAt = now
        self.revokeReason = reason
        let event = DomainEvent(
            name: Self.revokedEvent, key: "\(Self.revokedEvent):\(self.requestID.uuidString)",
            payload: [
                "request_id": .string(self.requestID.uuidString), "certificate_number": .string(number), "reason": .string(reason),
                CredentialClaim.revocationKey: CredentialClaim.revocationPayload(kind: .healthCertificate, number: number),
            ])
        return Effect(event: "revoke", actingAs: acting, reason: reason, payload: ["certificate_number": .string(number)],
                      emitted: [event])
    }

    /// The village confirms identity and residence (身份和居住核实).
    public mutating func verify(note: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.verifierRoles, covering: self.gridPath)
        guard self.state == .filed else { throw .invalidTransition("verify", from: self.stateName) }
        self.state = .verified
        self.verifiedAt = now
        self.verifiedBy = actor.userID
        var payload: [String: JSONValue] = [:]
        if let note = note?.trimmedReason { payload["note"] = .string(note) }
        return Effect(event: "verify", actingAs: acting, payload: payload)
    }

    /// The health centre's exam: a pass issues the certificate, a fail needs its reason.
    public mutating func recordExam(_ result: ExamResult, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(as: .healthOfficer, covering: self.gridPath)
        switch result {
        case .pass(let number):
            let number = try DomainFormat.required(number, field: "certificate_number", what: "The certificate number", limit: 64)
            guard self.state == .verified else { throw .invalidTransition("pass", from: self.stateName) }
            let until = now.addingTimeInterval(DomainFormat.days(self.validityDays))
            self.state = .certified
            self.examinedAt = now
            self.examinedBy = actor.userID
            self.certificateNumber = number
            self.issuedAt = now
            self.validUntil = until
            let event = DomainEvent(
                name: Self.certifiedEvent, key: "\(Self.certifiedEvent):\(self.requestID.uuidString)",
                payload: [
                    "request_id": .string(self.requestID.uuidString), "certificate_number": .string(number),
                    CredentialClaim.payloadKey: CredentialClaim(
                        kind: .healthCertificate, number: number, holder: .person(self.personID), scope: self.credentialScope,
                        validFrom: now, validUntil: until).payload,
                ])
            return Effect(event: "pass", actingAs: acting, payload: [
                "certificate_number": .string(number), "scope": .string(self.scope.rawValue),
                "valid_until": .string(DomainFormat.timestamp(until)),
            ], emitted: [event])
        case .fail(let reason):
            let reason = try requireReason(reason)
            guard self.state == .verified else { throw .invalidTransition("fail", from: self.stateName) }
            self.state = .failed
            self.examinedAt = now
            self.examinedBy = actor.userID
            self.failReason = reason
            return Effect(event: "fail", actingAs: acting, reason: reason)
        }
    }

    /// The requester (the worker, or their grid worker) withdraws before the exam.
    public mutating func cancel(reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try Self.requester(actor, personID: self.personID, gridPath: self.gridPath)
        guard self.isOpen else { throw .invalidTransition("cancel", from: self.stateName) }
        self.state = .cancelled
        self.cancelledAt = now
        self.cancelReason = reason?.trimmedReason
        return Effect(event: "cancel", actingAs: acting, reason: self.cancelReason)
    }

    /// The worker themself (their own person record) or a grid worker of their grid.
    static func requester(_ actor: Principal, personID: UUID, gridPath: UnitPath) throws(SignoffError) -> RoleAssignment {
        if actor.personID == personID, let own = actor.assignments.first(where: { $0.role == .worker && $0.covers(gridPath) }) {
            return own
        }
        return try actor.assignment(as: .gridWorker, covering: gridPath)
    }

    private init(
        state: State, requestID: UUID, personID: UUID, householdID: UUID, gridPath: UnitPath, destination: Destination,
        scope: CertificateScope, policyVersion: String, validityDays: Int, filedAt: Date, filedBy: UUID
    ) {
        self.state = state
        self.requestID = requestID
        self.personID = personID
        self.householdID = householdID
        self.gridPath = gridPath
        self.destination = destination
        self.scope = scope
        self.policyVersion = policyVersion
        self.validityDays = validityDays
        self.filedAt = filedAt
        self.filedBy = filedBy
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case requestID = "request_id"
        case personID = "person_id"
        case householdID = "household_id"
        case gridPath = "grid_path"
        case destination
        case scope
        case policyVersion = "policy_version"
        case validityDays = "validity_days"
        case filedAt = "filed_at"
        case filedBy = "filed_by"
        case verifiedAt = "verified_at"
        case verifiedBy = "verified_by"
        case examinedAt = "examined_at"
        case examinedBy = "examined_by"
        case certificateNumber = "certificate_number"
        case issuedAt = "issued_at"
        case validUntil = "valid_until"
        case failReason = "fail_reason"
        case cancelledAt = "cancelled_at"
        case cancelReason = "cancel_reason"
        case revokedAt = "revoked_at"
        case revokeReason = "revoke_reason"
    }
}

// MARK: - DiagrammedMachine
extension CertificateRequest: DiagrammedMachine {
    public static let title = "健康证 worker health certificate"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "file", .filed, when: "worker or grid worker, one open per person"),
        Transition(.filed, "verify", .verified, when: "grid worker or branch secretary"),
        Transition(.verified, "pass", .certified, when: "health centre, certificate number"),
        Transition(.verified, "fail", .failed, when: "health centre, reason"),
        Transition(.filed, "cancel", .cancelled, when: "requester"),
        Transition(.verified, "cancel", .cancelled, when: "requester, before the exam"),
        Transition(.certified, "revoke", .revoked, when: "health centre, in force, reason"),
    ]

    public static let finalStates: [State] = [.certified, .failed, .cancelled, .revoked]

    public static func describe(_ state: State) -> String {
        switch state {
        case .filed: "待核实 filed"
        case .verified: "待体检 verified"
        case .certified: "已发证 certified (expired after valid_until)"
        case .failed: "体检未通过 failed"
        case .cancelled: "已撤回 cancelled"
        case .revoked: "已注销 revoked"
        }
    }
}
