import Foundation
import Hummingbird
import PostgresNIO
import SignoffCore
import SignoffStore

/// The history of one subject: who did what, when, in which role, and why.
struct AuditController {
    let database: Database

    /// Officials who may read the history of records in their jurisdiction.
    static let readers: [Role] = [.admin, .chiefLeader, .villageLeader, .branchSecretary, .groupLeader, .gridWorker, .healthOfficer]

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("/audit") { request, context in
            guard let text = request.uri.queryParameters["subject"], !text.isEmpty else {
                throw SignoffError(.missingField, "Give the record's id as ?subject=<uuid>.", extra: ["field": "subject"])
            }
            guard let subject = UUID(uuidString: String(text)) else {
                throw SignoffError(.invalidID, "‘subject’ must be a UUID such as 6f1c2b1e-0000-4000-8000-000000000000.", extra: ["field": "subject"])
            }
            let (records, instance) = try await self.database.withConnection { connection in
                let rows = try await connection.query(
                    "SELECT kind, unit_path::text FROM instances WHERE id = \(subject)", logger: self.database.logger)
                var instance: (kind: String, path: String)?
                for try await (kind, path) in rows.decode((String, String).self) { instance = (kind, path) }
                return (try await AuditLog.history(subjectID: subject, on: connection, logger: self.database.logger), instance)
            }
            // A subject one may not see answers exactly like one that does not exist.
            guard let instance, !records.isEmpty else { throw SignoffError.notFound("History") }
            let path = try UnitPath(instance.path)
            if instance.kind == AccountLifecycle.kind {
                if subject != context.actor.userID { _ = try context.actor.assignment(as: .admin, covering: path) }
            } else {
                _ = try context.actor.assignment(asAnyOf: Self.readers, covering: path)
            }
            return try JSONBody.response(AuditHistory(subject: subject, kind: instance.kind, events: records))
        }
    }

    struct AuditHistory: Encodable {
        var subject: UUID
        var kind: String
        var events: [AuditRecord]
    }
}
