import Foundation
import Testing
import SignoffCore
@testable import SignoffStore

@Suite("Township CSV import", .timeLimit(.minutes(2)))
struct TownshipImportTests {
    static let good = """
        record,code,parent,name,poor,id_number,phone,address
        village,v9,twp,新村,,,,
        group,v9g1,v9,新村1组,,,,
        grid,v9g1w1,v9g1,第9网格,,,,
        household,h901,v9g1w1,王五,是,,,新村1组5号
        person,,h901,王五,,510000199001010011,13800000001,
        person,,h901,"李,小花",,,,

        """

    static func counts(_ world: TestWorld) async throws -> (units: Int, households: Int, persons: Int) {
        try await world.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT (SELECT count(*) FROM units)::int, (SELECT count(*) FROM households)::int, (SELECT count(*) FROM persons)::int
                """, logger: world.database.logger)
            for try await row in rows.decode((Int, Int, Int).self) { return row }
            return (0, 0, 0)
        }
    }

    @Test func importsATownshipFile() async throws {
        try await TestWorld.with { world, client in
            let before = try await Self.counts(world)
            let reply = try await client.call(.post, "/units/import", token: world.town.tokens["admin"], raw: Self.good)
            #expect(reply.status == .created)
            #expect(reply.json["units"] as? Int == 3)
            #expect(reply.json["households"] as? Int == 1)
            #expect(reply.json["persons"] as? Int == 2)
            let after = try await Self.counts(world)
            #expect(after.units == before.units + 3)
            #expect(after.persons == before.persons + 2)
            let grid = try await world.services.organisation.units(under: try UnitPath("twp.v9"), kind: .grid)
            #expect(grid.map(\.path.description) == ["twp.v9.v9g1.v9g1w1"])
        }
    }

    @Test func aBadRowRollsBackTheWholeFileAndNamesEachLine() async throws {
        try await TestWorld.with { world, client in
            let before = try await Self.counts(world)
            let bad = """
                record,code,parent,name,poor,id_number,phone,address
                village,v9,twp,新村,,,,
                group,v9g1,v9,新村1组,,,,
                grid,v9g1w1,nowhere,第9网格,,,,
                household,h901,v9g1,王五,maybe,,,
                person,,h901,王五,,,12345,
                """
            let reply = try await client.call(.post, "/units/import", token: world.town.tokens["admin"], raw: bad)
            #expect(reply.status == .unprocessableContent)
            #expect(reply.code == "import_invalid")
            let lines = (reply.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["line"] as? Int }
            #expect(lines == [4, 5, 6])
            // Nothing of the file was written, not even its good first rows.
            let after = try await Self.counts(world)
            #expect(after == before)
            #expect(try await world.services.organisation.units(under: nil).contains { $0.code == "v9" } == false)
        }
    }

    @Test func onlyATownshipAdministratorImports() async throws {
        try await TestWorld.with { world, client in
            let village = try await client.call(.post, "/units/import", token: world.town.tokens["v1admin"], raw: Self.good)
            #expect(village.status == .forbidden)
            #expect(village.code == "out_of_jurisdiction")
            let gridWorker = try await client.call(.post, "/units/import", token: world.town.tokens["gw1"], raw: Self.good)
            #expect(gridWorker.code == "forbidden_role")
        }
    }

    @Test func aUnitCodeThePathCannotHoldIsRefusedNotStored() async throws {
        try await TestWorld.with { world, client in
            let reply = try await client.call(.post, "/units", token: world.town.tokens["admin"],
                                              json: ["kind": "group", "code": "4-Ekm", "name": "新组", "parent_id": world.town.village1.id.uuidString])
            #expect(reply.status == .unprocessableContent)
            #expect(reply.code == "invalid_value")
            #expect(reply.json["field"] as? String == "code")
            #expect(try await world.services.organisation.units(under: nil).contains { $0.code == "4-Ekm" } == false)
        }
    }

    @Test func csvQuotingIsRead() {
        let rows = CSV.parse("a,\"b,c\",\"d \"\"e\"\"\"\r\n\nx,\"multi\nline\",z\n")
        #expect(rows.map(\.fields) == [["a", "b,c", "d \"e\""], ["x", "multi\nline", "z"]])
        #expect(rows.map(\.line) == [1, 3])
    }
}
