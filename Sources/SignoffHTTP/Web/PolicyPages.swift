import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// 政策 (`/app/admin/policy`): the policy in force for each workflow with its version, and each
/// machine's diagram as SVG laid out on the server, its transitions as a table and its Mermaid
/// source, all generated from the types.
struct PolicyPages: Sendable {
    let app: WebApp

    func addRoutes(to group: RouterGroup<WebContext>) {
        group.get("/admin/policy") { _, context in try await self.page(context) }
    }

    struct Edge {
        var from: String
        var event: String
        var to: String
        var when: String
    }

    struct Machine {
        var kind: String
        var title: String
        var policy: String
        var edges: [Edge]
        var mermaid: String
        var svg: DiagramSVG
    }

    static func machine(_ diagram: StateMachineDiagram, policy: String) -> Machine {
        let labels = Dictionary(diagram.states.map { ($0.name, $0.label) }, uniquingKeysWith: { first, _ in first })
        return Machine(kind: diagram.kind, title: diagram.title, policy: policy,
                       edges: diagram.edges.map {
                           Edge(from: $0.from.map { labels[$0] ?? $0 } ?? "（开始）", event: $0.event, to: labels[$0.to] ?? $0.to,
                                when: $0.guardNote ?? "")
                       },
                       mermaid: diagram.mermaid(), svg: DiagramSVG(diagram))
    }

    func page(_ context: WebContext) async throws -> Response {
        _ = try AdminPages.adminScope(context.actor)
        let policies = try self.app.services.policies.policies()
        let vehicle = "vehicle-pass.yaml 版本 \(policies.vehicle.version)"
        let machines = [
            Self.machine(ParkingPledge.diagram, policy: vehicle), Self.machine(KeyCustody.diagram, policy: vehicle),
            Self.machine(PassApplication.diagram, policy: vehicle), Self.machine(AgriculturalPass.diagram, policy: vehicle),
            Self.machine(CertificateRequest.diagram, policy: "workers.yaml 版本 \(policies.workers.version)"),
            Self.machine(TransportTrip.diagram, policy: "workers.yaml 版本 \(policies.workers.version)"),
            Self.machine(ReturneeIsolation.diagram, policy: "isolation.yaml 版本 \(policies.isolation.version)"),
            Self.machine(CheckpointCheck.diagram, policy: "checkpoints.yaml 版本 \(policies.checkpoints.version)"),
            Self.machine(HouseholdVisit.diagram, policy: "isolation.yaml 版本 \(policies.isolation.version)"),
        ]
        let chain = policies.vehicle.chain.map { ["level": $0.level, "role": $0.role.chineseName, "limit": "\($0.limitHours)小时"] as [String: Any] }
        let model: [String: Any] = [
            "chrome": try await self.app.chrome(context, title: "政策与流程", back: "/app"),
            "vehicleVersion": policies.vehicle.version, "clearanceDays": policies.vehicle.clearanceDays, "chain": chain,
            "isolationVersion": policies.isolation.version, "workersVersion": policies.workers.version,
            "machines": machines,
        ]
        return self.app.renderer.page("admin_policy", model)
    }
}
