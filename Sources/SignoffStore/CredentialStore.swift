import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// A signed credential as issued: what the pass, certificate and agricultural pass pages show.
public struct IssuedCredential: Sendable, Equatable {
    public var kind: Credential.Kind
    public var number: String
    public var instanceID: UUID
    /// The `SO1.` text in the QR code.
    public var signed: String
    /// The short code for reading out (`K7QX-M2PA`).
    public var checkCode: String
    public var keyID: String
    public var subject: String
    public var scope: String
    public var validFrom: Date
    public var validUntil: Date
    public var issuedAt: Date
    public var revokedAt: Date?
}

/// One entry of the revocation list: a credential whose record lost its force.
public struct RevokedCredential: Sendable, Equatable, Encodable {
    public var kind: Credential.Kind
    public var number: String
    public var revokedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind
        case number
        case revokedAt = "revoked_at"
    }
}

/// Reads the `credentials` table. Rows are written only by `CredentialIssuer`, a reaction of
/// the transition pipeline.
public struct CredentialStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    var logger: Logger { self.database.logger }

    /// The credential of a record (a pass, a certificate request, an agricultural pass), if it has one.
    public func credential(ofInstance id: UUID) async throws -> IssuedCredential? {
        try await self.database.withConnection { connection in
            try await Self.first(try await connection.query("""
                SELECT kind, number, instance_id, signed, check_code, key_id, subject, scope, valid_from, valid_until,
                       issued_at, revoked_at
                  FROM credentials WHERE instance_id = \(id)
                """, logger: self.logger))
        }
    }

    /// The credential a read-out check code names, if any (`K7QX-M2PA`, any case, with or without the dash).
    public func credential(checkCode: String) async throws -> IssuedCredential? {
        let code = checkCode.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        guard code.count == 8 else { return nil }
        let dashed = String(code.prefix(4)) + "-" + String(code.suffix(4))
        return try await self.database.withConnection { connection in
            try await Self.first(try await connection.query("""
                SELECT kind, number, instance_id, signed, check_code, key_id, subject, scope, valid_from, valid_until,
                       issued_at, revoked_at
                  FROM credentials WHERE check_code = \(dashed) ORDER BY issued_at DESC LIMIT 1
                """, logger: self.logger))
        }
    }

    private static func first(_ rows: PostgresRowSequence) async throws -> IssuedCredential? {
        for try await (kind, number, instance, signed, code, key, subject, scope, from, until, issued, revoked)
            in rows.decode((String, String, UUID, String, String, String, String, String, Date, Date, Date, Date?).self) {
            guard let kind = Credential.Kind(rawValue: kind) else { continue }
            return IssuedCredential(kind: kind, number: number, instanceID: instance, signed: signed, checkCode: code,
                                    keyID: key, subject: subject, scope: scope, validFrom: from, validUntil: until,
                                    issuedAt: issued, revokedAt: revoked)
        }
        return nil
    }

    /// Every revoked credential, oldest first. Expired ones stay listed: the list is small
    /// (revocations are rare) and a checkpoint's clock may be wrong.
    public func revocations() async throws -> [RevokedCredential] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT kind, number, revoked_at FROM credentials WHERE revoked_at IS NOT NULL ORDER BY revoked_at, kind, number
                """, logger: self.logger)
            var list: [RevokedCredential] = []
            for try await (kind, number, revoked) in rows.decode((String, String, Date).self) {
                guard let kind = Credential.Kind(rawValue: kind) else { continue }
                list.append(RevokedCredential(kind: kind, number: number, revokedAt: revoked))
            }
            return list
        }
    }
}

/// Signs the credential a transition declares (`CredentialClaim` in an emitted event) and marks
/// one revoked, in the transition's own transaction: the only writer of `credentials`.
struct CredentialIssuer: TransitionReaction {
    let keys: SigningKeys

    /// The events that carry a credential to sign or one to revoke.
    static let events: Set<String> = [
        PassApplication.effectiveEvent, PassApplication.revokedEvent,
        AgriculturalPass.issuedEvent, AgriculturalPass.revokedEvent,
        CertificateRequest.certifiedEvent, CertificateRequest.revokedEvent,
    ]

    /// Texts in a credential are kept short, so the QR code stays easy to scan.
    static let maximumCharacters = 40

    func react(to event: DomainEvent, subjectKind: String, subjectID: UUID, at now: Date,
               on connection: PostgresConnection, logger: Logger) async throws {
        if let claim = CredentialClaim(event: event) {
            let subject = Self.short(try await self.subjectText(claim.holder, on: connection, logger: logger))
            let signed = try self.keys.sign(kind: claim.kind, number: claim.number, subject: subject, scope: Self.short(claim.scope),
                                            issuedAt: now, validFrom: claim.validFrom, validUntil: claim.validUntil)
            let credential = signed.credential
            try await connection.query("""
                INSERT INTO credentials (kind, number, instance_id, signed, check_code, key_id, subject, scope, valid_from,
                                         valid_until, issued_at)
                VALUES (\(credential.kind.rawValue), \(credential.number), \(subjectID), \(signed.text), \(signed.checkCode),
                        \(credential.keyID), \(credential.subject), \(credential.scope), \(credential.validFrom),
                        \(credential.validUntil), \(credential.issuedAt))
                """, logger: logger)
        }
        if let revoked = CredentialClaim.revocation(in: event) {
            try await connection.query("""
                UPDATE credentials SET revoked_at = \(now)
                 WHERE kind = \(revoked.kind.rawValue) AND number = \(revoked.number) AND revoked_at IS NULL
                """, logger: logger)
        }
    }

    /// The plate, or the masked name of the person or household head (张*三).
    func subjectText(_ holder: CredentialClaim.Holder, on connection: PostgresConnection, logger: Logger) async throws -> String {
        switch holder {
        case .plate(let plate):
            return plate
        case .person(let id):
            let rows = try await connection.query("SELECT name FROM persons WHERE id = \(id)", logger: logger)
            for try await name in rows.decode(String.self) { return Credential.maskName(name) }
            throw SignoffError.notFound("The person of this certificate")
        case .household(let id, let vehicle):
            let rows = try await connection.query("SELECT head_name FROM households WHERE id = \(id)", logger: logger)
            for try await name in rows.decode(String.self) { return "\(vehicle) 户主\(Credential.maskName(name))" }
            throw SignoffError.notFound("The household of this pass")
        }
    }

    /// At most `maximumCharacters`, ending in "…" when cut.
    static func short(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count > Self.maximumCharacters else { return trimmed }
        return String(trimmed.prefix(Self.maximumCharacters - 1)) + "…"
    }
}
