import Foundation
import Testing
import SignoffCore
import SignoffStore

@Suite("The vehicle policy file as the service loads it", .timeLimit(.minutes(2)))
struct VehiclePolicyCatalogTests {
    /// A copy of `workflows/` in a temporary folder, with `vehicle-pass.yaml` edited by `edit`.
    /// A copy of `workflows/` whose vehicle policy is edited by `edit`.
    static func folder(_ edit: (String) -> String) throws -> URL {
        let committed = try PolicyCatalog.defaultFolder()
        let original = try String(contentsOf: committed.appendingPathComponent(VehiclePolicy.defaultFileName), encoding: .utf8)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("signoff-policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for other in [IsolationPolicy.defaultFileName, WorkerPolicy.defaultFileName, NotificationPolicy.defaultFileName,
                      CheckpointPolicy.defaultFileName] {
            try FileManager.default.copyItem(at: committed.appendingPathComponent(other), to: folder.appendingPathComponent(other))
        }
        try edit(original).write(to: folder.appendingPathComponent(VehiclePolicy.defaultFileName), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func theCommittedFileLoads() throws {
        let policy = try PolicyCatalog.load(from: PolicyCatalog.defaultFolder()).vehiclePolicy()
        #expect(policy.clearanceDays == 14)
        #expect(policy.chain.map(\.role) == VehiclePolicy.signerRoles)
    }

    @Test func anErrorInTheFileNamesItsLine() throws {
        let folder = try Self.folder { $0.replacingOccurrences(of: "role: group_leader", with: "role: mayor") }
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try String(contentsOf: PolicyCatalog.defaultFolder().appendingPathComponent(VehiclePolicy.defaultFileName), encoding: .utf8)
        let line = try #require(original.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("role: group_leader") }) + 1
        do {
            _ = try PolicyCatalog.load(from: folder)
            Issue.record("a policy naming an unknown role loaded")
        } catch let error as SignoffError {
            #expect(error.code == .policyInvalid)
            #expect(error.extra["line"] == .int(line))
            #expect(error.detail.contains("\(line)"))
        }
    }

    @Test func aFailedReloadKeepsThePolicyInForce() throws {
        let good = try Self.folder { $0 }
        let bad = try Self.folder { $0.replacingOccurrences(of: "clearance_days: 14", with: "clearance_days: 0") }
        defer { try? FileManager.default.removeItem(at: good); try? FileManager.default.removeItem(at: bad) }
        let catalog = try PolicyCatalog.load(from: good)
        #expect(throws: SignoffError.self) { try catalog.reload(from: bad) }
        #expect(try catalog.vehiclePolicy().clearanceDays == 14)
    }

    @Test func aPolicyChangeLeavesAnApplicationInFlightOnItsVersion() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q55555", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            #expect(try await client.sign(world, pass: pass, by: "gw1").status == .ok)

            // The township shortens the chain to three levels and the validity to 7 days.
            let changed = try Self.folder { text in
                var lines = text.components(separatedBy: "\n")
                let cut = lines.firstIndex { $0.contains("level: 4") }!
                let end = lines.firstIndex { $0.contains("pass_validity_days") }!
                lines.removeSubrange(cut..<(end - 2))
                return lines.joined(separator: "\n")
                    .replacingOccurrences(of: "version: \"2020-02-v1\"", with: "version: \"2020-03-v2\"")
                    .replacingOccurrences(of: "pass_validity_days: 30", with: "pass_validity_days: 7")
            }
            defer { try? FileManager.default.removeItem(at: changed) }
            let reloaded = try world.services.policies.reload(from: changed)
            #expect(reloaded.vehicle.version == "2020-03-v2")
            #expect(reloaded.vehicle.chain.count == 3)

            // The application in flight still needs all five levels and keeps 30 days.
            for signer in Chain.village1.dropFirst() {
                let signed = try await client.sign(world, pass: pass, by: signer)
                #expect(signed.status == .ok, "\(signer): \(signed.text)")
            }
            let shown = try await client.call(.get, "/passes/\(pass)", token: try await world.token("admin"))
            #expect(shown.json["policy_version"] as? String == "2020-02-v1")
            #expect(shown.json["status"] as? String == "effective")
            #expect((shown.json["chain"] as? [Any])?.count == 5)
            let from = try #require((shown.json["effective_from"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            let until = try #require((shown.json["effective_until"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            #expect(until.timeIntervalSince(from) == 30 * 86_400)

            // A new application starts under the new version with three levels.
            let (other, _) = try await client.registerVehicle(world, plate: "川Q55556", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let newPass = try await client.applyForPass(world, vehicle: other, by: "gw1")
            let fresh = try await client.call(.get, "/passes/\(newPass)", token: try await world.token("admin"))
            #expect(fresh.json["policy_version"] as? String == "2020-03-v2")
            #expect((fresh.json["chain"] as? [Any])?.count == 3)
        }
    }
}
