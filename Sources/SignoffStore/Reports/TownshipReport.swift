import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// The township's figures 联合苗族乡疫情防控工作情况, computed from the data: the jurisdiction
/// tree, and every workflow's instances counted by kind and state. Kinds whose workflow is
/// not in use yet count zero.
public struct TownshipReport: Sendable, Codable, Equatable {
    public struct Period: Sendable, Codable, Equatable {
        /// Instances created at or after `from`, before `to`; nil bounds are open.
        public var from: Date?
        public var to: Date?

        public init(from: Date? = nil, to: Date? = nil) {
            self.from = from
            self.to = to
        }
    }

    public var unitPath: String
    public var unitName: String
    public var period: Period
    public var grids: Int
    public var gridWorkers: Int
    public var households: Int
    public var poorHouseholds: Int
    public var pledgesActive: Int
    public var pledgesReleased: Int
    public var keysHeld: Int
    /// Travel passes 通行证 by state: pending, effective, rejected, withdrawn.
    public var passesByState: [String: Int]
    public var agriculturalPassesIssued: Int
    public var exams: Int
    public var certificatesIssued: Int
    public var certificatesInProvince: Int
    public var certificatesOutOfProvince: Int
    public var trips: Int
    public var workersCarried: Int
    public var poorHouseholdWorkers: Int
    /// Returnees by isolation type: home, central_compulsory, central_self_paid.
    public var returneesByIsolation: [String: Int]
}

extension TownshipReport.Period {
    /// Reads `from` and `to` as calendar days in China time (YYYY-MM-DD), both inclusive.
    public static func parse(from: String?, to: String?) throws(SignoffError) -> Self {
        let start = try from.map { text throws(SignoffError) in try Self.day(text, field: "from") }
        let end = try to.map { text throws(SignoffError) in try Self.day(text, field: "to").addingTimeInterval(86_400) }
        if let start, let end, end <= start {
            throw SignoffError.invalidValue("to", "‘to’ lies before ‘from’.")
        }
        return Self(from: start, to: end)
    }

    private static func day(_ text: String, field: String) throws(SignoffError) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3_600)!  // a fixed offset always exists
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2],
              let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.day, from: date) == day, calendar.component(.month, from: date) == month
        else {
            throw SignoffError.invalidValue(field, "‘\(text)’ is not a day; write it as YYYY-MM-DD, such as 2020-02-10.")
        }
        return date
    }
}

/// Computes the township report with SQL over `instances` and the organisation tables.
public struct ReportStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The report for the subtree at `path` (the township, or a village for its secretary).
    public func township(under path: UnitPath, period: TownshipReport.Period) async throws -> TownshipReport {
        try await self.database.withConnection { connection in
            let logger = self.database.logger
            let scope = path.description
            let from = period.from
            let to = period.to
            let unitRows = try await connection.query("""
                SELECT (SELECT name FROM units WHERE path = \(scope)::ltree),
                       (SELECT count(*) FROM units WHERE kind = 'grid' AND path <@ \(scope)::ltree)::int,
                       (SELECT count(DISTINCT r.user_id) FROM role_assignments r JOIN units u ON u.id = r.unit_id
                         WHERE r.role = 'grid_worker' AND u.path <@ \(scope)::ltree)::int,
                       (SELECT count(*) FROM households h JOIN units u ON u.id = h.grid_id WHERE u.path <@ \(scope)::ltree)::int,
                       (SELECT count(*) FILTER (WHERE h.poor) FROM households h JOIN units u ON u.id = h.grid_id WHERE u.path <@ \(scope)::ltree)::int
                """, logger: logger)
            var name: String?
            var grids = 0, gridWorkers = 0, households = 0, poorHouseholds = 0
            for try await row in unitRows.decode((String?, Int, Int, Int, Int).self) {
                (name, grids, gridWorkers, households, poorHouseholds) = row
            }
            guard let name else { throw SignoffError.notFound("Unit \(scope)") }

            // One pass over the instances of the period: a count per (kind, bucket).
            let rows = try await connection.query("""
                WITH scoped AS (
                    SELECT kind, state_name, serial_number, category, headcount, poor_members FROM instances
                     WHERE unit_path <@ \(scope)::ltree
                       AND kind IN ('parking_pledge', 'key_custody', 'vehicle_pass', 'agricultural_pass',
                                    'certificate_request', 'transport_trip', 'returnee_isolation')
                       AND (\(from)::timestamptz IS NULL OR created_at >= \(from))
                       AND (\(to)::timestamptz IS NULL OR created_at < \(to))
                )
                SELECT kind, bucket, sum(n)::int FROM (
                    SELECT kind, state_name AS bucket, count(*) AS n FROM scoped
                     WHERE kind IN ('parking_pledge', 'key_custody', 'vehicle_pass') GROUP BY kind, state_name
                    UNION ALL
                    SELECT kind, 'issued', count(*) FROM scoped WHERE kind = 'agricultural_pass' AND serial_number IS NOT NULL GROUP BY kind
                    UNION ALL
                    SELECT kind, 'examined', count(*) FROM scoped
                     WHERE kind = 'certificate_request' AND state_name IN ('certified', 'failed') GROUP BY kind
                    UNION ALL
                    SELECT kind, 'certified:' || category, count(*) FROM scoped
                     WHERE kind = 'certificate_request' AND state_name = 'certified' GROUP BY kind, category
                    UNION ALL
                    SELECT kind, 'trips', count(*) FROM scoped WHERE kind = 'transport_trip' AND state_name IN ('departed', 'arrived') GROUP BY kind
                    UNION ALL
                    SELECT kind, 'carried', sum(headcount) FROM scoped
                     WHERE kind = 'transport_trip' AND state_name IN ('departed', 'arrived') GROUP BY kind
                    UNION ALL
                    SELECT kind, 'poor', sum(poor_members) FROM scoped
                     WHERE kind = 'transport_trip' AND state_name IN ('departed', 'arrived') GROUP BY kind
                    UNION ALL
                    SELECT kind, category, count(*) FROM scoped WHERE kind = 'returnee_isolation' GROUP BY kind, category
                ) counts
                GROUP BY kind, bucket
                """, logger: logger)
            var counts: [String: [String: Int]] = [:]
            for try await (kind, bucket, count) in rows.decode((String, String?, Int).self) {
                counts[kind, default: [:]][bucket ?? "unknown"] = count
            }
            func count(_ kind: String, _ bucket: String) -> Int { counts[kind]?[bucket] ?? 0 }
            let inProvince = count(CertificateRequest.kind, "certified:\(CertificateScope.inProvince.rawValue)")
            let outOfProvince = count(CertificateRequest.kind, "certified:\(CertificateScope.outOfProvince.rawValue)")
            var passes = ["pending": 0, "effective": 0, "rejected": 0, "withdrawn": 0]
            passes.merge(counts["vehicle_pass"] ?? [:]) { $1 }
            var returnees = ["home": 0, "central_compulsory": 0, "central_self_paid": 0]
            returnees.merge(counts["returnee_isolation"] ?? [:]) { $1 }
            return TownshipReport(
                unitPath: scope, unitName: name, period: period, grids: grids, gridWorkers: gridWorkers,
                households: households, poorHouseholds: poorHouseholds,
                pledgesActive: count("parking_pledge", "parked"), pledgesReleased: count("parking_pledge", "released"),
                keysHeld: count("key_custody", "held"), passesByState: passes,
                agriculturalPassesIssued: count("agricultural_pass", "issued"),
                exams: count(CertificateRequest.kind, "examined"), certificatesIssued: inProvince + outOfProvince,
                certificatesInProvince: inProvince, certificatesOutOfProvince: outOfProvince,
                trips: count(TransportTrip.kind, "trips"), workersCarried: count(TransportTrip.kind, "carried"),
                poorHouseholdWorkers: count(TransportTrip.kind, "poor"), returneesByIsolation: returnees)
        }
    }
}
