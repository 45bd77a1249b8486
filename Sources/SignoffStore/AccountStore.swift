import Crypto
import Foundation
import HummingbirdBcrypt
import Logging
import PostgresNIO
import SignoffCore

/// A user as administrators see it.
public struct UserSummary: Sendable, Codable, Equatable {
    public struct Assignment: Sendable, Codable, Equatable {
        public var role: Role
        public var roleName: String
        public var unitID: UUID
        public var unitPath: String
        public var unitName: String
    }

    public var id: UUID
    public var username: String
    public var phone: String?
    public var displayName: String
    public var status: String
    public var version: Int
    public var personID: UUID?
    public var roles: [Assignment]
}

/// A freshly issued bearer token. The token itself is shown once and never stored.
public struct IssuedToken: Sendable, Codable, Equatable {
    public var token: String
    public var expiresAt: Date
    public var userID: UUID
}

/// Login, tokens and lockout.
public struct AccountSettings: Sendable {
    /// bcrypt cost; 12 in production, lower in tests where hashing speed matters.
    public var bcryptCost: UInt8 = 12
    public var tokenLifetime: TimeInterval = 12 * 3600
    /// Failures within `failureWindow` that lock the account for `lockDuration`.
    public var maxFailures: Int = 5
    public var failureWindow: TimeInterval = 15 * 60
    public var lockDuration: TimeInterval = 15 * 60

    public init() {}
}

/// Users, role assignments, passwords and bearer tokens.
public struct AccountStore: Sendable {
    public let transitions: TransitionStore
    public let settings: AccountSettings

    public init(transitions: TransitionStore, settings: AccountSettings = .init()) {
        self.transitions = transitions
        self.settings = settings
    }

    var database: Database { self.transitions.database }
    var logger: Logger { self.database.logger }

    public struct NewUser: Sendable {
        public var username: String
        public var displayName: String
        public var phone: String?
        public var password: String?
        public var personID: UUID?
        public var roles: [(role: Role, unitID: UUID)]
        /// A bcrypt hash made once for many accounts (the demo), instead of `password`.
        public var passwordHash: String?
        /// Why the account is made, kept in its audited `create`.
        public var reason: String?

        public init(username: String, displayName: String, phone: String? = nil, password: String?, personID: UUID? = nil, roles: [(role: Role, unitID: UUID)], passwordHash: String? = nil, reason: String? = nil) {
            self.reason = reason
            self.passwordHash = passwordHash
            self.username = username
            self.displayName = displayName
            self.phone = phone
            self.password = password
            self.personID = personID
            self.roles = roles
        }
    }

    /// Creates a user with roles, and starts its account machine (audited as `create`).
    public func createUser(_ new: NewUser, by actor: Principal, metadata: RequestMetadata = .init()) async throws -> UserSummary {
        // Hashed before the transaction, so the connection does not wait on bcrypt.
        var new = new
        if new.passwordHash == nil, let password = new.password {
            new.passwordHash = try await self.hashPassword(password)
            new.password = nil
        }
        return try await self.database.transaction { [new] connection in
            try await self.createUser(new, by: actor, metadata: metadata, on: connection)
        }
    }

    public func createUser(_ new: NewUser, by actor: Principal, metadata: RequestMetadata = .init(), on connection: PostgresConnection) async throws -> UserSummary {
        try Self.validateUsername(new.username)
        guard new.displayName.trimmedReason != nil else { throw SignoffError.invalidValue("display_name", "A user needs a display name.") }
        if let phone = new.phone { try UnitRules.validatePhone(phone) }
        if let password = new.password { try Self.validatePassword(password) }
        guard !new.roles.isEmpty else { throw SignoffError.invalidValue("roles", "A user needs at least one role at a unit.") }
        let organisation = OrganisationStore(database: self.database)
        var roles: [AccountLifecycle.RoleAtUnit] = []
        for assignment in new.roles {
            let unit = try await organisation.unit(id: assignment.unitID, on: connection)
            roles.append(Self.roleAtUnit(assignment.role, unit))
        }
        // Administrators manage accounts of their subtree; the home unit is the shallowest role unit.
        let home = roles.min { $0.unitPath.labels.count < $1.unitPath.labels.count }!.unitPath
        let id = UUID()
        var hash = new.passwordHash
        if hash == nil, let password = new.password { hash = try await Passwords.hash(password, cost: self.settings.bcryptCost) }
        // The roles and the password are written by the account's reactions to its `create`.
        try await connection.query("""
            INSERT INTO users (id, username, phone, display_name, person_id)
            VALUES (\(id), \(new.username), \(new.phone), \(new.displayName), \(new.personID))
            """, logger: self.logger)
        _ = try await self.transitions.start(
            AccountLifecycle.self, id: id,
            .init(username: new.username, homePath: home, isWorkerAccount: new.personID != nil && new.roles.allSatisfy { $0.role == .worker },
                  reason: new.reason, roles: roles, passwordHash: hash),
            by: actor,
            metadata: RequestMetadata(requestID: metadata.requestID), on: connection
        )
        return try await self.user(id: id, on: connection)
    }

    /// Grants a role at a unit: the account's `grant_role` transition.
    public func grantRole(userID: UUID, role: Role, unitID: UUID, by actor: Principal, requestID: String?, reason: String? = nil) async throws -> UserSummary {
        try await self.database.transaction { connection in
            try await self.grantRole(userID: userID, role: role, unitID: unitID, by: actor, requestID: requestID, reason: reason, on: connection)
        }
    }

    /// Takes a role at a unit away, with a reason: the account's `revoke_role` transition. The
    /// last role stays: an account without one belongs to no administrator (close it instead).
    public func revokeRole(userID: UUID, role: Role, unitID: UUID, reason: String?, by actor: Principal, requestID: String?) async throws -> UserSummary {
        try await self.database.transaction { connection in
            try await self.roleChange(userID: userID, role: role, unitID: unitID, by: actor, requestID: requestID, on: connection) {
                .revokeRole($0, held: $1, reason: reason)
            }
        }
    }

    /// The same, inside a transaction the caller holds.
    public func grantRole(userID: UUID, role: Role, unitID: UUID, by actor: Principal, requestID: String?, reason: String? = nil,
                          on connection: PostgresConnection) async throws -> UserSummary {
        try await self.roleChange(userID: userID, role: role, unitID: unitID, by: actor, requestID: requestID, on: connection) {
            .grantRole($0, held: $1, reason: reason)
        }
    }

    /// Gathers what a role command needs (the unit, the roles held now) and runs it through the door.
    private func roleChange(
        userID: UUID, role: Role, unitID: UUID, by actor: Principal, requestID: String?, on connection: PostgresConnection,
        _ command: (AccountLifecycle.RoleAtUnit, [RoleAssignment]) -> AccountLifecycle.Command
    ) async throws -> UserSummary {
        // The account first: an unknown user is not_found before anything about the unit.
        _ = try await self.transitions.load(AccountLifecycle.self, id: userID, on: connection)
        let unit = try await OrganisationStore(database: self.database).unit(id: unitID, on: connection)
        let held = try await self.user(id: userID, on: connection).roles.map {
            RoleAssignment(role: $0.role, unitID: $0.unitID, unitPath: try UnitPath($0.unitPath))
        }
        _ = try await self.transitions.apply(
            AccountLifecycle.self, id: userID, command(Self.roleAtUnit(role, unit), held), by: actor,
            metadata: RequestMetadata(requestID: requestID), on: connection)
        return try await self.user(id: userID, on: connection)
    }

    static func roleAtUnit(_ role: Role, _ unit: OrgUnit) -> AccountLifecycle.RoleAtUnit {
        .init(role: role, unitID: unit.id, unitPath: unit.path, unitKind: unit.kind, unitName: unit.name)
    }

    public func user(id: UUID, on connection: PostgresConnection) async throws -> UserSummary {
        guard let user = try await self.users(where: "u.id = $1", [id], on: connection).first else {
            throw SignoffError.notFound("User")
        }
        return user
    }

    public func user(id: UUID) async throws -> UserSummary {
        try await self.database.withConnection { try await self.user(id: id, on: $0) }
    }

    public func user(username: String) async throws -> UserSummary {
        let found = try await self.database.withConnection { connection in
            try await self.users(where: "u.username = $1 OR u.phone = $1", [username], on: connection).first
        }
        guard let found else { throw SignoffError.notFound("User ‘\(username)’") }
        return found
    }

    /// Users having a role at or below `path`.
    public func users(under path: UnitPath) async throws -> [UserSummary] {
        try await self.database.withConnection { connection in
            try await self.users(where: "EXISTS (SELECT 1 FROM role_assignments r JOIN units x ON x.id = r.unit_id WHERE r.user_id = u.id AND x.path <@ $1::ltree)",
                                 [path.description], on: connection)
        }
    }

    private func users(where condition: String, _ binds: [any PostgresEncodable & Sendable], on connection: PostgresConnection) async throws -> [UserSummary] {
        var bindings = PostgresBindings()
        for bind in binds { try bindings.append(bind) }
        let query = PostgresQuery(unsafeSQL: """
            SELECT u.id, u.username, u.phone, u.display_name, u.person_id, i.state_name, i.version,
                   coalesce(json_agg(json_build_object('role', r.role, 'unit_id', x.id, 'unit_path', x.path::text, 'unit_name', x.name)
                            ORDER BY x.path, r.role) FILTER (WHERE r.role IS NOT NULL), '[]')::text
              FROM users u
              JOIN instances i ON i.id = u.id AND i.kind = 'account'
              LEFT JOIN role_assignments r ON r.user_id = u.id
              LEFT JOIN units x ON x.id = r.unit_id
             WHERE \(condition)
             GROUP BY u.id, i.state_name, i.version
             ORDER BY u.username
            """, binds: bindings)
        let rows = try await connection.query(query, logger: self.logger)
        struct RawRole: Decodable { var role: String; var unit_id: UUID; var unit_path: String; var unit_name: String }
        var users: [UserSummary] = []
        for try await (id, username, phone, name, personID, status, version, roles) in rows.decode((UUID, String, String?, String, UUID?, String, Int, String).self) {
            let raw = try JSONDecoder().decode([RawRole].self, from: Data(roles.utf8))
            users.append(UserSummary(
                id: id, username: username, phone: phone, displayName: name, status: status, version: version, personID: personID,
                roles: raw.compactMap { role in
                    Role(rawValue: role.role).map {
                        .init(role: $0, roleName: $0.chineseName, unitID: role.unit_id, unitPath: role.unit_path, unitName: role.unit_name)
                    }
                }
            ))
        }
        return users
    }

    // MARK: Passwords

    public func hashPassword(_ password: String) async throws -> String {
        try Self.validatePassword(password)
        return try await Passwords.hash(password, cost: self.settings.bcryptCost)
    }

    /// Sets an account's password: its `set_password` transition, audited without the hash.
    public func setPassword(userID: UUID, password: String, by actor: Principal, requestID: String? = nil) async throws {
        let hash = try await self.hashPassword(password)
        try await self.database.transaction { connection in
            try await self.setPassword(userID: userID, hash: hash, by: actor, requestID: requestID, on: connection)
        }
    }

    /// The same with a hash made before the caller's transaction.
    func setPassword(userID: UUID, hash: String, by actor: Principal, requestID: String? = nil,
                     on connection: PostgresConnection) async throws {
        _ = try await self.transitions.apply(AccountLifecycle.self, id: userID, .setPassword(hash: hash), by: actor,
                                             metadata: RequestMetadata(requestID: requestID), on: connection)
    }

    static func validateUsername(_ username: String) throws(SignoffError) {
        guard (3...40).contains(username.count),
              username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") })
        else {
            throw SignoffError.invalidValue("username", "A username has 3 to 40 letters, digits, ‘_’, ‘-’ or ‘.’.")
        }
    }

    static func validatePassword(_ password: String) throws(SignoffError) {
        guard password.count >= 8, password.count <= 72 else {
            throw SignoffError.invalidValue("password", "A password has 8 to 72 characters.")
        }
    }

    // MARK: Login and tokens

    /// A bcrypt hash checked when the login names nobody, so both cases take as long.
    private static let decoyHash = Bcrypt.hash("decoy password for timing", cost: 10)

    /// Checks the password and issues a token. Repeated failures lock the account for a while.
    public func login(identifier: String, password: String) async throws -> IssuedToken {
        let now = self.transitions.clock.now()
        let found: (id: UUID, hash: String?, status: String, lockedUntil: Date?)? = try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT u.id, u.password_hash, i.state_name, t.locked_until
                  FROM users u
                  JOIN instances i ON i.id = u.id AND i.kind = 'account'
                  LEFT JOIN login_throttle t ON t.user_id = u.id
                 WHERE u.username = \(identifier) OR u.phone = \(identifier)
                 LIMIT 1
                """, logger: self.logger)
            for try await (id, hash, status, locked) in rows.decode((UUID, String?, String, Date?).self) {
                return (id, hash, status, locked)
            }
            return nil
        }
        guard let found else {
            _ = try await Passwords.verify(password, hash: Self.decoyHash)
            throw SignoffError(.invalidCredentials, "The login or the password is wrong.")
        }
        if let lockedUntil = found.lockedUntil, lockedUntil > now {
            throw Self.locked(until: lockedUntil, now: now)
        }
        guard let hash = found.hash, try await Passwords.verify(password, hash: hash) else {
            try await self.recordFailure(userID: found.id, now: now)
            throw SignoffError(.invalidCredentials, "The login or the password is wrong.")
        }
        guard found.status == AccountLifecycle.State.active.rawValue else {
            throw SignoffError(.accountSuspended, "This account is \(found.status). Ask the township office (乡政府办公室) to reactivate it.")
        }
        return try await self.database.transaction { connection in
            try await connection.query("DELETE FROM login_throttle WHERE user_id = \(found.id)", logger: self.logger)
            return try await self.issueToken(userID: found.id, now: now, on: connection)
        }
    }

    /// Issues a token without a password, for the CLI's `user token`.
    public func issueToken(userID: UUID) async throws -> IssuedToken {
        try await self.database.withConnection { connection in
            _ = try await self.user(id: userID, on: connection)
            return try await self.issueToken(userID: userID, now: self.transitions.clock.now(), on: connection)
        }
    }

    private func issueToken(userID: UUID, now: Date, on connection: PostgresConnection) async throws -> IssuedToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = "sgf_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let expires = now.addingTimeInterval(self.settings.tokenLifetime)
        try await connection.query("""
            INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at)
            VALUES (\(Self.digest(token)), \(userID), \(now), \(expires))
            """, logger: self.logger)
        return IssuedToken(token: token, expiresAt: expires, userID: userID)
    }

    private func recordFailure(userID: UUID, now: Date) async throws {
        let windowStart = now.addingTimeInterval(-self.settings.failureWindow)
        let lockUntil = now.addingTimeInterval(self.settings.lockDuration)
        try await self.database.withConnection { connection in
            try await connection.query("""
                INSERT INTO login_throttle AS t (user_id, failures, first_failure_at, locked_until)
                VALUES (\(userID), 1, \(now), NULL)
                ON CONFLICT (user_id) DO UPDATE SET
                    failures = CASE WHEN t.first_failure_at < \(windowStart) THEN 1 ELSE t.failures + 1 END,
                    first_failure_at = CASE WHEN t.first_failure_at < \(windowStart) THEN \(now) ELSE t.first_failure_at END,
                    locked_until = CASE WHEN t.first_failure_at >= \(windowStart) AND t.failures + 1 >= \(self.settings.maxFailures)
                                        THEN \(lockUntil) ELSE NULL END
                """, logger: self.logger)
        }
    }

    static func locked(until: Date, now: Date) -> SignoffError {
        let seconds = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
        return SignoffError(.tooManyAttempts, "Too many wrong passwords. Try again in \(max(1, seconds / 60)) minute(s).",
                            extra: ["retry_after": .int(seconds)])
    }

    /// The actor behind a bearer token, or nil when the token is unknown, expired, revoked or its account is not active.
    public func authenticate(token: String) async throws -> Principal? {
        let now = self.transitions.clock.now()
        // Inside a write request this joins the transaction its transition adopts (`Database.scoped`).
        let statement = TokenActorStatement(tokenHash: Self.digest(token), now: now)
        return try await self.database.opening { [logger = self.logger] connection in
            try await connection.rows(statement, logger: logger).first.map(Self.actor(from:))
        }
    }

    /// An active account as an actor with every role it holds, or nil (unknown, suspended, closed).
    static func activeActor(userID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Principal? {
        let rows = try await connection.query("""
            SELECT u.id, u.display_name, u.person_id,
                   coalesce(json_agg(json_build_object('role', r.role, 'unit_id', x.id, 'unit_path', x.path::text))
                            FILTER (WHERE r.role IS NOT NULL), '[]')::text
              FROM users u
              JOIN instances i ON i.id = u.id AND i.kind = 'account' AND i.state_name = 'active'
              LEFT JOIN role_assignments r ON r.user_id = u.id
              LEFT JOIN units x ON x.id = r.unit_id
             WHERE u.id = \(userID)
             GROUP BY u.id
            """, logger: logger)
        return try await Self.firstActor(rows)
    }

    /// The first row of (id, display name, person id, roles as JSON) as an actor.
    private static func firstActor(_ rows: PostgresRowSequence) async throws -> Principal? {
        for try await row in rows.decode((UUID, String, UUID?, String).self) { return try Self.actor(from: row) }
        return nil
    }

    /// A row of (id, display name, person id, roles as JSON) as an actor.
    private static func actor(from row: (UUID, String, UUID?, String)) throws -> Principal {
        struct RawRole: Decodable { var role: String; var unit_id: UUID; var unit_path: String }
        let (id, name, personID, roles) = row
        let raw = try JSONDecoder().decode([RawRole].self, from: Data(roles.utf8))
        let assignments = try raw.compactMap { role -> RoleAssignment? in
            guard let parsed = Role(rawValue: role.role) else { return nil }
            return RoleAssignment(role: parsed, unitID: role.unit_id, unitPath: try UnitPath(role.unit_path))
        }
        return Principal(userID: id, displayName: name, assignments: assignments, personID: personID)
    }

    /// Revokes one token (logout).
    public func revoke(token: String) async throws {
        try await self.database.withConnection { connection in
            try await connection.query(
                "UPDATE auth_tokens SET revoked_at = \(self.transitions.clock.now()) WHERE token_hash = \(Self.digest(token)) AND revoked_at IS NULL",
                logger: self.logger)
        }
    }

    static func digest(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }
}

/// Writes the rows an account's emitted events stand for, in the transition's transaction:
/// the only writer of `role_assignments` and of `users.password_hash`.
struct AccountRowsReaction: TransitionReaction {
    static let events: Set<String> = [
        AccountLifecycle.roleGrantedEvent, AccountLifecycle.roleRevokedEvent, AccountLifecycle.passwordSetEvent,
    ]

    func react(to event: DomainEvent, subjectKind: String, subjectID: UUID, at now: Date,
               on connection: PostgresConnection, logger: Logger) async throws {
        switch event.name {
        case AccountLifecycle.roleGrantedEvent:
            let (role, unitID) = try Self.roleAtUnit(event)
            try await connection.query("""
                INSERT INTO role_assignments (user_id, role, unit_id) VALUES (\(subjectID), \(role), \(unitID))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        case AccountLifecycle.roleRevokedEvent:
            let (role, unitID) = try Self.roleAtUnit(event)
            try await connection.query("""
                DELETE FROM role_assignments WHERE user_id = \(subjectID) AND role = \(role) AND unit_id = \(unitID)
                """, logger: logger)
        case AccountLifecycle.passwordSetEvent:
            guard let hash = event.payload["password_hash"]?.stringValue else {
                throw SignoffError(.internalError, "The password event carries no hash.")
            }
            try await connection.query("UPDATE users SET password_hash = \(hash) WHERE id = \(subjectID)", logger: logger)
        default:
            return
        }
    }

    private static func roleAtUnit(_ event: DomainEvent) throws -> (String, UUID) {
        guard let role = event.payload["role"]?.stringValue,
              let unit = event.payload["unit_id"]?.stringValue.flatMap(UUID.init(uuidString:))
        else { throw SignoffError(.internalError, "The role event \(event.key) names no role and unit.") }
        return (role, unit)
    }
}
