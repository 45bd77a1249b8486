import Foundation

/// The key of a parked vehicle in the village's keeping 钥匙代管.
///
/// The record opens either with a deposit (the key is held) or with the owner's decline,
/// which is published as `vehicle.key_declined` for the points ledger; a key may still be
/// deposited after a decline. Keys move between custodians and go back to the owner only
/// once the vehicle's pass is effective or its pledge released.
public struct KeyCustody: AuditedMachine {
    public enum State: String, Sendable, Codable, Hashable, CaseIterable {
        case held
        case declined
        case returned
    }

    /// Who holds the key: usually a user (grid worker, village office), sometimes only a name.
    public struct Custodian: Sendable, Codable, Hashable {
        public var userID: UUID?
        public var name: String

        public init(userID: UUID?, name: String) {
            self.userID = userID
            self.name = name
        }

        var json: JSONValue {
            ["user_id": self.userID.map { .string($0.uuidString) } ?? .null, "name": .string(self.name)]
        }

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case userID = "user_id"
            case name
        }
    }

    public struct Deposit: Sendable, Hashable {
        public var custodian: Custodian
        /// The number on the paper receipt 收据 given to the owner.
        public var receiptNumber: String
        /// Where the key is kept, such as "村委会保险柜".
        public var storagePlace: String

        public init(custodian: Custodian, receiptNumber: String, storagePlace: String) {
            self.custodian = custodian
            self.receiptNumber = receiptNumber
            self.storagePlace = storagePlace
        }
    }

    public struct Start: Sendable {
        public enum Opening: Sendable, Hashable {
            case deposit(Deposit)
            /// The owner refused to hand over the key.
            case decline(note: String?)
        }

        public var vehicleID: UUID
        public var pledgeID: UUID
        public var ownerPersonID: UUID
        public var householdID: UUID
        public var gridPath: UnitPath
        public var opening: Opening

        public init(vehicleID: UUID, pledgeID: UUID, ownerPersonID: UUID, householdID: UUID, gridPath: UnitPath,
                    opening: Opening) {
            self.vehicleID = vehicleID
            self.pledgeID = pledgeID
            self.ownerPersonID = ownerPersonID
            self.householdID = householdID
            self.gridPath = gridPath
            self.opening = opening
        }
    }

    public enum Command: Sendable, Equatable {
        /// The owner hands the key in after all (only after a decline).
        case deposit(Deposit)
        case transfer(to: Custodian, storagePlace: String?, receiptNumber: String?)
        /// The store looks up the pass and the pledge and passes what it found.
        case returnToOwner(passEffective: Bool, pledgeReleased: Bool)
    }

    /// One entry of where the key has been.
    public struct Movement: Sendable, Codable, Hashable {
        public enum Kind: String, Sendable, Codable, Hashable {
            case deposit, decline, transfer, returnToOwner = "return_to_owner"
        }

        public var kind: Kind
        public var at: Date
        public var byUserID: UUID
        public var byName: String
        public var from: Custodian?
        public var to: Custodian?
        public var storagePlace: String?
        public var receiptNumber: String?
        public var note: String?

        /// The stored form's field names: a contract (golden fixtures in the core tests).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind
            case at
            case byUserID = "by_user_id"
            case byName = "by_name"
            case from
            case to
            case storagePlace = "storage_place"
            case receiptNumber = "receipt_number"
            case note
        }
    }

    public static let kind = "key_custody"
    public static let declinedEvent = "vehicle.key_declined"
    /// Who may hand a key on or give it back: the village side of the chain.
    public static let keeperRoles: [Role] = [.gridWorker, .groupLeader, .branchSecretary, .villageLeader]

    public private(set) var state: State
    public let custodyID: UUID
    public let vehicleID: UUID
    public let pledgeID: UUID
    public let ownerPersonID: UUID
    public let householdID: UUID
    public let gridPath: UnitPath
    /// Who holds the key now; nil unless `held`.
    public private(set) var custodian: Custodian?
    public private(set) var storagePlace: String?
    public private(set) var receiptNumber: String?
    public private(set) var history: [Movement]

    public var stateName: String { self.state.rawValue }

    public var projection: Projection {
        Projection(unitPath: self.gridPath, subjectRef: self.vehicleID)
    }

    /// One open custody record (held or declined) per vehicle.
    public var exclusiveKey: ExclusiveKey? {
        self.state == .returned ? nil : .vehicle(self.vehicleID)
    }

    public static func start(_ start: Start, id: UUID, by actor: Principal, at now: Date) throws(SignoffError) -> (Self, Effect) {
        let acting = try actor.assignment(as: .gridWorker, covering: start.gridPath)
        var custody = KeyCustody(
            state: .declined, custodyID: id, vehicleID: start.vehicleID, pledgeID: start.pledgeID,
            ownerPersonID: start.ownerPersonID, householdID: start.householdID, gridPath: start.gridPath)
        switch start.opening {
        case .deposit(let deposit):
            let effect = try custody.putInCustody(deposit, acting: acting, by: actor, at: now)
            return (custody, effect)
        case .decline(let note):
            let note = try DomainFormat.optional(note, field: "note", what: "The note", limit: 1_000)
            custody.history.append(Movement(kind: .decline, at: now, byUserID: actor.userID, byName: actor.displayName,
                                            note: note))
            let event = DomainEvent(
                name: Self.declinedEvent,
                // One custody record has at most one decline: it can only open with it.
                key: "\(Self.declinedEvent):\(id.uuidString)",
                payload: [
                    "custody_id": .string(id.uuidString), "vehicle_id": .string(start.vehicleID.uuidString),
                    "pledge_id": .string(start.pledgeID.uuidString), "household_id": .string(start.householdID.uuidString),
                    "person_id": .string(start.ownerPersonID.uuidString), "grid_path": .string(start.gridPath.description),
                    "at": .string(DomainFormat.timestamp(now)),
                ])
            var payload: [String: JSONValue] = ["vehicle_id": .string(start.vehicleID.uuidString)]
            if let note { payload["note"] = .string(note) }
            return (custody, Effect(event: "decline", actingAs: acting, payload: payload, emitted: [event]))
        }
    }

    public mutating func handle(_ command: Command, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        switch command {
        case .deposit(let deposit): try self.deposit(deposit, by: actor, at: now)
        case .transfer(let to, let place, let receipt):
            try self.transfer(to: to, storagePlace: place, receiptNumber: receipt, by: actor, at: now)
        case .returnToOwner(let passEffective, let pledgeReleased):
            try self.returnToOwner(passEffective: passEffective, pledgeReleased: pledgeReleased, by: actor, at: now)
        }
    }

    public mutating func deposit(_ deposit: Deposit, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(as: .gridWorker, covering: self.gridPath)
        guard self.state == .declined else { throw .invalidTransition("deposit", from: self.stateName) }
        return try self.putInCustody(deposit, acting: acting, by: actor, at: now)
    }

    public mutating func transfer(
        to custodian: Custodian, storagePlace: String?, receiptNumber: String?, by actor: Principal, at now: Date
    ) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.keeperRoles, covering: self.gridPath)
        guard self.state == .held, let from = self.custodian else {
            throw .invalidTransition("transfer", from: self.stateName)
        }
        let to = try Self.validated(custodian)
        guard to != from else {
            throw SignoffError.invalidValue("custodian", "The key is already with \(from.name); name another custodian.")
        }
        let place = try DomainFormat.optional(storagePlace, field: "storage_place", what: "The storage place")
            ?? self.storagePlace
        let receipt = try DomainFormat.optional(receiptNumber, field: "receipt_number", what: "The receipt number", limit: 64)
            ?? self.receiptNumber
        self.custodian = to
        self.storagePlace = place
        self.receiptNumber = receipt
        self.history.append(Movement(kind: .transfer, at: now, byUserID: actor.userID, byName: actor.displayName,
                                     from: from, to: to, storagePlace: place, receiptNumber: receipt))
        return Effect(event: "transfer", actingAs: acting,
                      payload: ["from": from.json, "to": to.json, "storage_place": place.map(JSONValue.string) ?? .null,
                                "receipt_number": receipt.map(JSONValue.string) ?? .null])
    }

    public mutating func returnToOwner(
        passEffective: Bool, pledgeReleased: Bool, by actor: Principal, at now: Date
    ) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(asAnyOf: Self.keeperRoles, covering: self.gridPath)
        guard self.state == .held, let from = self.custodian else {
            throw .invalidTransition("return_to_owner", from: self.stateName)
        }
        guard passEffective || pledgeReleased else {
            throw SignoffError(
                .invalidTransition,
                "The key 钥匙 goes back to the owner only once the travel pass 通行证 is effective or the parking pledge 停放承诺书 is released.",
                extra: ["state": .string(self.stateName), "event": "return_to_owner",
                        "requires": "pass_effective_or_pledge_released"])
        }
        self.state = .returned
        self.custodian = nil
        self.history.append(Movement(kind: .returnToOwner, at: now, byUserID: actor.userID, byName: actor.displayName,
                                     from: from, storagePlace: self.storagePlace, receiptNumber: self.receiptNumber))
        return Effect(event: "return_to_owner", actingAs: acting,
                      payload: ["from": from.json, "owner_person_id": .string(self.ownerPersonID.uuidString),
                                "pass_effective": .bool(passEffective), "pledge_released": .bool(pledgeReleased)])
    }

    private mutating func putInCustody(
        _ deposit: Deposit, acting: RoleAssignment, by actor: Principal, at now: Date
    ) throws(SignoffError) -> Effect {
        let custodian = try Self.validated(deposit.custodian)
        let receipt = try DomainFormat.required(deposit.receiptNumber, field: "receipt_number", what: "The receipt number 收据编号", limit: 64)
        let place = try DomainFormat.required(deposit.storagePlace, field: "storage_place", what: "The storage place 存放地点")
        self.state = .held
        self.custodian = custodian
        self.receiptNumber = receipt
        self.storagePlace = place
        self.history.append(Movement(kind: .deposit, at: now, byUserID: actor.userID, byName: actor.displayName,
                                     to: custodian, storagePlace: place, receiptNumber: receipt))
        return Effect(event: "deposit", actingAs: acting,
                      payload: ["custodian": custodian.json, "receipt_number": .string(receipt),
                                "storage_place": .string(place), "vehicle_id": .string(self.vehicleID.uuidString)])
    }

    private static func validated(_ custodian: Custodian) throws(SignoffError) -> Custodian {
        Custodian(userID: custodian.userID,
                  name: try DomainFormat.required(custodian.name, field: "custodian", what: "The custodian's name", limit: 100))
    }

    private init(state: State, custodyID: UUID, vehicleID: UUID, pledgeID: UUID, ownerPersonID: UUID, householdID: UUID,
                 gridPath: UnitPath) {
        self.state = state
        self.custodyID = custodyID
        self.vehicleID = vehicleID
        self.pledgeID = pledgeID
        self.ownerPersonID = ownerPersonID
        self.householdID = householdID
        self.gridPath = gridPath
        self.history = []
    }

    /// The stored form's field names: a contract (golden fixtures in the core tests).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case custodyID = "custody_id"
        case vehicleID = "vehicle_id"
        case pledgeID = "pledge_id"
        case ownerPersonID = "owner_person_id"
        case householdID = "household_id"
        case gridPath = "grid_path"
        case custodian
        case storagePlace = "storage_place"
        case receiptNumber = "receipt_number"
        case history
    }
}

// MARK: - DiagrammedMachine
extension KeyCustody: DiagrammedMachine {
    public static let title = "钥匙代管 key custody"

    public static let transitions: [Transition<State>] = [
        Transition(nil, "deposit", .held),
        Transition(nil, "decline", .declined),
        Transition(.declined, "deposit", .held),
        Transition(.held, "transfer", .held),
        Transition(.held, "return_to_owner", .returned, when: "pass effective or pledge released"),
    ]

    public static let finalStates: [State] = [.returned]

    public static func describe(_ state: State) -> String {
        switch state {
        case .held: "代管中 held"
        case .declined: "拒交 declined"
        case .returned: "已归还 returned"
        }
    }
}
