import Foundation
import Hummingbird
import NIOCore
import SignoffCore
import SignoffStore

/// The jurisdiction tree: administrators create units and import a township from CSV.
struct UnitsController {
    let organisation: OrganisationStore
    /// For `Idempotency-Key` replay of the writes.
    let transitions: TransitionStore

    struct CreateUnit: StrictRequest {
        var kind: UnitKind
        var code: String
        var name: String
        var parentID: UUID?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, code, name
            case parentID = "parent_id"
        }
    }

    struct UnitView: Encodable {
        var id: UUID
        var parentID: UUID?
        var kind: UnitKind
        var kindName: String
        var code: String
        var name: String
        var path: String

        init(_ unit: OrgUnit) {
            self.id = unit.id
            self.parentID = unit.parentID
            self.kind = unit.kind
            self.kindName = unit.kind.chineseName
            self.code = unit.code
            self.name = unit.name
            self.path = unit.path.description
        }
    }

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("/units") { request, context in
            // Everyone sees the units of their own jurisdiction; `under` narrows it.
            let roots = context.actor.assignments.map(\.unitPath)
            var scope: UnitPath?
            if let under = request.uri.queryParameters["under"].map(String.init) {
                let path = try UnitPath(under)
                guard roots.contains(where: { $0.contains(path) }) else {
                    throw SignoffError(.outOfJurisdiction, "That unit lies outside your jurisdiction.")
                }
                scope = path
            }
            let kind = try request.uri.queryParameters["kind"].map { text -> UnitKind in
                guard let kind = UnitKind(rawValue: String(text)) else {
                    throw SignoffError.invalidValue("kind", "kind must be township, village, group or grid.")
                }
                return kind
            }
            let units = try await self.organisation.units(under: scope, kind: kind)
                .filter { unit in scope != nil || roots.contains { $0.contains(unit.path) } }
            return try JSONBody.response(["units": units.map(UnitView.init)])
        }
        group.write("/units", body: CreateUnit.self, store: self.transitions) { context, body, connection in
            if let parentID = body.parentID {
                let parent = try await self.organisation.unit(id: parentID, on: connection)
                _ = try context.actor.assignment(as: .admin, covering: parent.path)
            } else {
                // A new township needs an administrator of the whole tree; the first is made by `signoff unit import`.
                throw SignoffError.invalidValue("parent_id", "Only `signoff unit import` creates a township; give parent_id.")
            }
            return UnitView(try await self.organisation.createUnit(kind: body.kind, code: body.code, name: body.name,
                                                                   parentID: body.parentID, on: connection))
        }
        group.post("/units/import") { request, context in
            guard let root = try await self.organisation.units(under: nil, kind: .township).first else {
                throw SignoffError.notFound("Township")
            }
            _ = try context.actor.assignment(as: .admin, covering: root.path)
            let buffer = try await request.body.collect(upTo: context.maxUploadSize)
            let summary = try await TownshipImport(organisation: self.organisation).run(csv: String(buffer: buffer))
            return try JSONBody.response(summary, status: .created)
        }
    }
}
