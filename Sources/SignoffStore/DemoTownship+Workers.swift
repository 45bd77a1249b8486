import Foundation
import PostgresNIO
import SignoffCore

/// The demo's migrant workers, driven through `WorkersStore` and `TransitionStore` so the
/// township report shows the published figures: 1,566 exams and certificates (303 inside
/// Sichuan, 1,263 outside), 2 directed transport trips carrying 30 workers, 5 of them from
/// poor households.
extension DemoTownship {
    public static let examinedWorkers = 1_566
    public static let inProvinceCertificates = 303
    /// Trip rosters as (poor-household workers, other workers): 16 and 14 workers, 5 poor.
    public static let tripRosters: [(poor: Int, others: Int)] = [(3, 13), (2, 12)]

    static let outOfProvince: [(province: String, city: String, employer: String?)] = [
        ("广东", "东莞", "东莞市长安电子厂"), ("浙江", "宁波", nil), ("福建", "晋江", "晋江鞋业有限公司"),
        ("江苏", "苏州", nil), ("新疆", "库尔勒", "库尔勒棉花农场"),
    ]
    static let inProvince: [(province: String, city: String, employer: String?)] = [
        ("四川", "成都", "成都建工集团"), ("四川", "宜宾", nil),
    ]
    static let surnames = Array("杨龙石熊罗王李张刘陈吴赵周黄何")
    static let givenNames = Array("明华芳强丽军勇艳平刚")

    struct DemoWorker: Sendable {
        var personID: UUID
        var gridIndex: Int
        var poor: Bool
        var scope: CertificateScope
    }

    /// Households, persons and one worker login, with the tree's transaction.
    func seedPeople(_ cast: DemoCast, passwordHash: String, on connection: PostgresConnection) async throws -> [DemoWorker] {
        let workers = try await self.seedHouseholds(cast, on: connection)
        // One worker login for trying the worker's view; others activate with a grid worker's code.
        _ = try await self.accounts.createUser(.init(
            username: "worker01", displayName: "务工人员（演示）", password: nil, personID: workers[0].personID,
            roles: [(.worker, cast.grids[0].grid.id)], passwordHash: passwordHash
        ), by: cast.grids[0].gridWorker, on: connection)
        return workers
    }

    /// Certificates village by village in parallel transactions (the round trips, not the
    /// work, dominate), then the trips.
    func seedWorkers(_ workers: [DemoWorker], cast: DemoCast) async throws {
        let database = self.accounts.database
        let numbers = try await database.transaction { try await self.workers.certificateNumbers(workers.count, on: $0) }
        let byVillage = Dictionary(grouping: workers.indices) { cast.grids[workers[$0].gridIndex].village }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for indices in byVillage.values {
                group.addTask {
                    try await database.transaction { connection in
                        try await self.seedCertificates(indices.map { workers[$0] }, numbers: indices.map { numbers[$0] }, cast: cast, on: connection)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await database.transaction { try await self.seedTrips(workers, cast: cast, on: $0) }
    }

    /// Households of three workers in every grid, the first of each grid a poor household;
    /// 1,566 workers spread as evenly as 84 grids allow.
    private func seedHouseholds(_ cast: DemoCast, on connection: PostgresConnection) async throws -> [DemoWorker] {
        var households: (ids: [UUID], grids: [UUID], codes: [String], heads: [String], poor: [Bool]) = ([], [], [], [], [])
        var persons: (ids: [UUID], households: [UUID], names: [String]) = ([], [], [])
        var workers: [DemoWorker] = []
        let gridCount = cast.grids.count
        for (gridIndex, entry) in cast.grids.enumerated() {
            let inGrid = Self.examinedWorkers / gridCount + (gridIndex < Self.examinedWorkers % gridCount ? 1 : 0)
            var household = UUID()
            for member in 0..<inGrid {
                if member % 3 == 0 {
                    household = UUID()
                    households.ids.append(household)
                    households.grids.append(entry.grid.id)
                    households.codes.append("\(entry.grid.code)-h\(member / 3 + 1)")
                    households.heads.append(Self.name(workers.count))
                    households.poor.append(member == 0)
                }
                let number = workers.count
                // Spread the 303 in-province destinations evenly over the workers.
                let inside = (number + 1) * Self.inProvinceCertificates / Self.examinedWorkers
                    != number * Self.inProvinceCertificates / Self.examinedWorkers
                let person = UUID()
                persons.ids.append(person)
                persons.households.append(household)
                persons.names.append(Self.name(number))
                workers.append(DemoWorker(personID: person, gridIndex: gridIndex, poor: households.poor.last ?? false,
                                          scope: inside ? .inProvince : .outOfProvince))
            }
        }
        let logger = self.accounts.database.logger
        try await connection.query("""
            INSERT INTO households (id, grid_id, code, head_name, poor)
            SELECT * FROM unnest(\(households.ids)::uuid[], \(households.grids)::uuid[], \(households.codes)::text[],
                                 \(households.heads)::text[], \(households.poor)::boolean[])
            """, logger: logger)
        try await connection.query("""
            INSERT INTO persons (id, household_id, name)
            SELECT * FROM unnest(\(persons.ids)::uuid[], \(persons.households)::uuid[], \(persons.names)::text[])
            """, logger: logger)
        return workers
    }

    /// Each worker's request filed by their grid worker, verified by them, passed by the health centre.
    private func seedCertificates(_ workers: [DemoWorker], numbers: [String], cast: DemoCast, on connection: PostgresConnection) async throws {
        let transitions = self.workers.transitions
        let health = try cast.official("health")
        var requests: [UUID] = []
        requests.reserveCapacity(workers.count)
        for (index, worker) in workers.enumerated() {
            let places = worker.scope == .inProvince ? Self.inProvince : Self.outOfProvince
            let place = places[(index + worker.gridIndex) % places.count]
            let outcome = try await self.workers.fileRequest(
                personID: worker.personID, destination: .init(province: place.province, city: place.city, employer: place.employer),
                by: cast.grids[worker.gridIndex].gridWorker, on: connection)
            guard case .applied(let filed, _) = outcome else { throw SignoffError.notFound("Demo request") }
            requests.append(filed.stored.id)
        }
        for (index, worker) in workers.enumerated() {
            _ = try await transitions.apply(CertificateRequest.self, id: requests[index], .verify(note: nil),
                                            by: cast.grids[worker.gridIndex].gridWorker, on: connection)
        }
        for (index, id) in requests.enumerated() {
            _ = try await transitions.apply(CertificateRequest.self, id: id, .recordExam(.pass(certificateNumber: numbers[index])),
                                            by: health, on: connection)
        }
    }

    /// Two trips from 联合村 to Guangdong and Zhejiang, approved, departed and arrived.
    private func seedTrips(_ workers: [DemoWorker], cast: DemoCast, on connection: PostgresConnection) async throws {
        let secretary = try cast.official("lianhe_secretary")
        let chief = try cast.official("chief")
        let village = cast.grids.indices.filter { cast.grids[$0].village == "lianhe" }
        var poor = workers.filter { village.contains($0.gridIndex) && $0.scope == .outOfProvince && $0.poor }
        var others = workers.filter { village.contains($0.gridIndex) && $0.scope == .outOfProvince && !$0.poor }
        let destinations = [("广东", "东莞", "东莞市长安电子厂", "川Q·A1234"), ("浙江", "宁波", "宁波北仑港务公司", "川Q·B5678")]
        let departure = self.workers.transitions.clock.now().addingTimeInterval(86_400)
        for (tripIndex, roster) in Self.tripRosters.enumerated() {
            let chosen = poor.prefix(roster.poor) + others.prefix(roster.others)
            poor.removeFirst(roster.poor)
            others.removeFirst(roster.others)
            let (province, city, employer, plate) = destinations[tripIndex]
            let outcome = try await self.workers.fileTrip(.init(
                unitID: nil, destination: .init(province: province, city: city, employer: employer), departureDate: departure,
                vehiclePlate: plate, driverName: "驾驶员\(tripIndex + 1)", driverPhone: nil, workerIDs: chosen.map(\.personID)
            ), by: secretary, on: connection)
            guard case .applied(let filed, _) = outcome else { throw SignoffError.notFound("Demo trip") }
            let id = filed.stored.id
            _ = try await self.workers.apply(.approve(note: "同意定向运输"), toTrip: id, by: chief, on: connection)
            _ = try await self.workers.apply(.depart(boarded: chosen.count), toTrip: id, by: secretary, on: connection)
            _ = try await self.workers.apply(.arrive(note: nil), toTrip: id, by: secretary, on: connection)
        }
    }

    static func name(_ number: Int) -> String {
        "\(Self.surnames[number % Self.surnames.count])\(Self.givenNames[(number / Self.surnames.count) % Self.givenNames.count])\(Self.givenNames[(number / 150) % Self.givenNames.count])"
    }
}
