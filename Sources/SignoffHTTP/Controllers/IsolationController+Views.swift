import Foundation
import SignoffCore
import SignoffStore

// MARK: - Views
extension IsolationController {
    /// A returnee as the grid worker, the health centre and the office see it, with the
    /// explanation of its placement (rule, entries, total).
    struct ReturneeView: Encodable {
        struct ReadingView: Encodable {
            var celsius: Double
            var takenAt: Date
            var fever: Bool
            var recordedBy: String
        }

        struct FeverView: Encodable {
            var raisedAt: Date
            var highestCelsius: Double
            var feverReadings: Int
            var handledAt: Date?
            var handledBy: String?
            var note: String?
        }

        var id: UUID
        var version: Int
        var state: String
        var stateLabel: String
        var placement: String
        var selfPaid: Bool
        var designatedSite: Bool
        var personID: UUID
        var householdID: UUID
        var gridPath: String
        var fromProvince: String
        var fromCity: String?
        var arrivedAt: Date
        var registeredAt: Date
        var isolationEndsAt: Date
        var releasable: Bool
        var explanation: JSONValue
        var readings: [ReadingView]
        var nextReadingDue: Date?
        var readingOverdue: Bool
        var openFever: FeverView?
        var feverReports: [FeverView]
        var releasedAt: Date?
        var releaseNote: String?
        var policyVersion: String

        init(_ stored: Stored<ReturneeIsolation>, now: Date) {
            let machine = stored.machine
            self.id = stored.id
            self.version = stored.version
            self.state = machine.stateName
            self.stateLabel = ReturneeIsolation.describe(machine.state)
            self.placement = machine.placement.rawValue
            self.selfPaid = machine.isSelfPaid
            self.designatedSite = machine.placement.isCentral
            self.personID = machine.personID
            self.householdID = machine.householdID
            self.gridPath = machine.gridPath.description
            self.fromProvince = machine.fromProvince
            self.fromCity = machine.fromCity
            self.arrivedAt = machine.arrivedAt
            self.registeredAt = machine.registeredAt
            self.isolationEndsAt = machine.isolationEndsAt
            self.releasable = machine.isReleasable(at: now)
            self.explanation = machine.explanation.json
            self.readings = machine.readings.map {
                ReadingView(celsius: $0.celsius, takenAt: $0.takenAt, fever: $0.isFever, recordedBy: $0.recordedByName)
            }
            self.nextReadingDue = machine.nextReadingDue
            self.readingOverdue = machine.isReadingOverdue(at: now)
            self.feverReports = machine.feverReports.map(Self.fever)
            self.openFever = machine.openFever.map(Self.fever)
            self.releasedAt = machine.releasedAt
            self.releaseNote = machine.releaseNote
            self.policyVersion = machine.policyVersion
        }

        static func fever(_ report: ReturneeIsolation.FeverReport) -> FeverView {
            FeverView(raisedAt: report.raisedAt, highestCelsius: report.highestCelsius, feverReadings: report.feverReadings,
                      handledAt: report.handledAt, handledBy: report.handledByName, note: report.note)
        }
    }

    struct InfractionView: Encodable {
        struct Moved: Encodable {
            var id: UUID
            var version: Int
            var state: String
            var placement: String
            var total: Int
            var isolationEndsAt: Date
        }

        var entry: JSONValue
        var householdTotal: Int
        var threshold: Int
        /// The household's open isolations after the entry; a move to central shows in `placement`.
        var returnees: [Moved]

        init(_ recorded: InfractionRecorded, threshold: Int) {
            self.entry = recorded.entry.json
            self.householdTotal = recorded.householdTotal
            self.threshold = threshold
            self.returnees = recorded.returnees.map {
                let machine = $0.stored.machine
                return Moved(id: $0.stored.id, version: $0.stored.version, state: machine.stateName,
                             placement: machine.placement.rawValue, total: machine.infractionTotal,
                             isolationEndsAt: machine.isolationEndsAt)
            }
        }
    }

    struct CreditView: Encodable {
        var credit: AutonomyCredit
        var householdCredit: Int
    }

    /// The two ledgers of a household, side by side and never summed together.
    struct LedgersView: Encodable {
        struct Infractions: Encodable {
            var entries: [JSONValue]
            var total: Int
            var threshold: Int
        }

        struct Credits: Encodable {
            var entries: [AutonomyCredit]
            var total: Int
        }

        var householdID: UUID
        var infractions: Infractions
        var autonomyCredit: Credits

        init(_ ledgers: HouseholdLedgers, threshold: Int) {
            self.householdID = ledgers.householdID
            self.infractions = Infractions(entries: ledgers.infractions.map(\.json),
                                           total: InfractionLedger.total(of: ledgers.infractions), threshold: threshold)
            self.autonomyCredit = Credits(entries: ledgers.credits, total: AutonomyCreditLedger.total(of: ledgers.credits))
        }
    }

    /// Fevers first, then missed readings, each with a sentence an administrator can act on.
    struct UrgentView: Encodable {
        struct Item: Encodable {
            var kind: UrgentIsolationItem.Kind
            var returneeID: UUID
            var personID: UUID
            var personName: String
            var householdID: UUID
            var gridPath: String
            var state: String
            var since: Date
            var waitingHours: Int
            var summary: String
        }

        var asOf: Date
        var fevers: Int
        var overdueReadings: Int
        var items: [Item]

        init(_ items: [UrgentIsolationItem], now: Date) {
            self.asOf = now
            self.fevers = items.filter { $0.kind == .fever }.count
            self.overdueReadings = items.filter { $0.kind == .overdueReading }.count
            self.items = items.map { item in
                let hours = max(0, Int(now.timeIntervalSince(item.since) / 3_600))
                let summary = switch item.kind {
                case .fever:
                    "发热待卫生院处置: \(item.personName), 已等待 \(hours) 小时。Fever waiting for the health centre: \(item.personName), \(hours) h."
                case .overdueReading:
                    "体温监测逾期: \(item.personName), 逾期 \(hours) 小时。Daily temperature reading missed: \(item.personName), \(hours) h overdue."
                }
                return Item(kind: item.kind, returneeID: item.returneeID, personID: item.personID, personName: item.personName,
                            householdID: item.householdID, gridPath: item.gridPath.description, state: item.state,
                            since: item.since, waitingHours: hours, summary: summary)
            }
        }
    }
}
