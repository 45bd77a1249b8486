import Foundation
import SignoffCore
import SignoffStore

/// Where a key 钥匙 is, with whom, and where it has been.
struct KeyCustodyView: Encodable {
    struct CustodianView: Encodable {
        var userId: UUID?
        var name: String
    }

    struct MovementView: Encodable {
        var kind: String
        var at: Date
        var by: String
        var from: CustodianView?
        var to: CustodianView?
        var storagePlace: String?
        var receiptNumber: String?
        var note: String?
    }

    var id: UUID
    var vehicleId: UUID
    var pledgeId: UUID
    var status: String
    var statusText: String
    var version: Int
    var custodian: CustodianView?
    var storagePlace: String?
    var receiptNumber: String?
    var history: [MovementView]

    init(_ custody: KeyCustody, version: Int) {
        self.id = custody.custodyID
        self.vehicleId = custody.vehicleID
        self.pledgeId = custody.pledgeID
        self.status = custody.stateName
        self.statusText = KeyCustody.describe(custody.state)
        self.version = version
        self.custodian = custody.custodian.map(Self.view)
        self.storagePlace = custody.storagePlace
        self.receiptNumber = custody.receiptNumber
        self.history = custody.history.map {
            MovementView(kind: $0.kind.rawValue, at: $0.at, by: $0.byName, from: $0.from.map(Self.view), to: $0.to.map(Self.view),
                         storagePlace: $0.storagePlace, receiptNumber: $0.receiptNumber, note: $0.note)
        }
    }

    static func view(_ custodian: KeyCustody.Custodian) -> CustodianView {
        CustodianView(userId: custodian.userID, name: custodian.name)
    }
}

/// One line of "where every key is".
struct KeyWhereaboutsView: Encodable {
    var custodyId: UUID
    var vehicleId: UUID
    var plate: String
    var status: String
    var statusText: String
    var custodian: KeyCustodyView.CustodianView?
    var storagePlace: String?
    var receiptNumber: String?
    var gridPath: String
    var since: Date

    init(_ key: KeyWhereabouts) {
        self.custodyId = key.custodyID
        self.vehicleId = key.vehicleID
        self.plate = key.plate
        self.status = key.state
        self.statusText = KeyCustody.State(rawValue: key.state).map(KeyCustody.describe) ?? key.state
        self.custodian = key.custodianName.map { KeyCustodyView.CustodianView(userId: key.custodianUserID, name: $0) }
        self.storagePlace = key.storagePlace
        self.receiptNumber = key.receiptNumber
        self.gridPath = key.gridPath.description
        self.since = key.since
    }
}
