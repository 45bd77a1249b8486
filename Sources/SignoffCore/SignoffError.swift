/// Every failure a user or a race can cause, with a stable code.
///
/// `description` stays generic so nothing internal leaks into logs or responses;
/// `detail` is the sentence shown to the user and `String(reflecting:)` adds the rest.
public struct SignoffError: Error, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidJSON = "invalid_json"
            case unknownField = "unknown_field"
            case invalidType = "invalid_type"
            case missingField = "missing_field"
            case invalidID = "invalid_id"
            case invalidValue = "invalid_value"
            case reasonRequired = "reason_required"
            case payloadTooLarge = "payload_too_large"
            case unauthenticated
            case invalidCredentials = "invalid_credentials"
            case tooManyAttempts = "too_many_attempts"
            case tooManyRequests = "too_many_requests"
            case accountSuspended = "account_suspended"
            case forbiddenRole = "forbidden_role"
            case outOfJurisdiction = "out_of_jurisdiction"
            case notFound = "not_found"
            case methodNotAllowed = "method_not_allowed"
            case versionConflict = "version_conflict"
            case invalidTransition = "invalid_transition"
            case duplicate
            case idempotencyKeyReused = "idempotency_key_reused"
            case clearanceNotReached = "clearance_not_reached"
            case outOfOrder = "out_of_order"
            case repeatedSigner = "repeated_signer"
            case policyInvalid = "policy_invalid"
            case importInvalid = "import_invalid"
            case migrationChecksum = "migration_checksum_mismatch"
            case databaseUnavailable = "database_unavailable"
            case serviceBusy = "service_busy"
            case requestTimeout = "request_timeout"
            case serverMissing = "postgres_server_missing"
            case internalError = "internal_error"
            case addressRefused = "address_refused"
            case delegationInvalid = "delegation_invalid"
            case delegationInactive = "delegation_inactive"
            case delegationOverlap = "delegation_overlap"
            case levelReassigned = "level_reassigned"
            case notOverdue = "not_overdue"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The stable machine-readable code, as sent in problem+json `code`.
        public var rawValue: String { self.base.rawValue }
        public var description: String { self.base.rawValue }

        public static let invalidJSON = Code(.invalidJSON)
        public static let unknownField = Code(.unknownField)
        public static let invalidType = Code(.invalidType)
        public static let missingField = Code(.missingField)
        public static let invalidID = Code(.invalidID)
        public static let invalidValue = Code(.invalidValue)
        public static let reasonRequired = Code(.reasonRequired)
        public static let payloadTooLarge = Code(.payloadTooLarge)
        public static let unauthenticated = Code(.unauthenticated)
        public static let invalidCredentials = Code(.invalidCredentials)
        public static let tooManyAttempts = Code(.tooManyAttempts)
        /// Past the rate limit on writes of an account or a client address.
        public static let tooManyRequests = Code(.tooManyRequests)
        public static let accountSuspended = Code(.accountSuspended)
        public static let forbiddenRole = Code(.forbiddenRole)
        public static let outOfJurisdiction = Code(.outOfJurisdiction)
        public static let notFound = Code(.notFound)
        public static let methodNotAllowed = Code(.methodNotAllowed)
        public static let versionConflict = Code(.versionConflict)
        public static let invalidTransition = Code(.invalidTransition)
        public static let duplicate = Code(.duplicate)
        public static let idempotencyKeyReused = Code(.idempotencyKeyReused)
        public static let clearanceNotReached = Code(.clearanceNotReached)
        public static let outOfOrder = Code(.outOfOrder)
        public static let repeatedSigner = Code(.repeatedSigner)
        public static let policyInvalid = Code(.policyInvalid)
        public static let importInvalid = Code(.importInvalid)
        public static let migrationChecksum = Code(.migrationChecksum)
        public static let databaseUnavailable = Code(.databaseUnavailable)
        public static let serviceBusy = Code(.serviceBusy)
        /// The request was not finished within the service's deadline (a stalled body or a slow dependency).
        public static let requestTimeout = Code(.requestTimeout)
        public static let serverMissing = Code(.serverMissing)
        public static let internalError = Code(.internalError)
        /// A webhook URL that is not http(s), or points at a loopback or private address.
        public static let addressRefused = Code(.addressRefused)
        /// A delegation or reassignment the rules refuse: the person does not hold the role at a
        /// unit covering the jurisdiction, names themself, or the period is not sane.
        public static let delegationInvalid = Code(.delegationInvalid)
        /// A delegation used outside its period, or after it was revoked.
        public static let delegationInactive = Code(.delegationInactive)
        /// Another active delegation for the same role and unit overlaps the period.
        public static let delegationOverlap = Code(.delegationOverlap)
        /// The pending level was reassigned to someone else by an administrator.
        public static let levelReassigned = Code(.levelReassigned)
        /// Only an overdue level may be reassigned.
        public static let notOverdue = Code(.notOverdue)

        /// The HTTP status a code is answered with.
        public var httpStatus: Int {
            switch self.base {
            case .invalidJSON, .unknownField, .invalidType, .missingField, .invalidID: 400
            case .unauthenticated, .invalidCredentials: 401
            case .forbiddenRole, .outOfJurisdiction, .accountSuspended, .levelReassigned: 403
            case .notFound: 404
            case .methodNotAllowed: 405
            case .versionConflict, .invalidTransition, .duplicate, .outOfOrder, .delegationInactive, .delegationOverlap,
                .notOverdue:
                409
            case .payloadTooLarge: 413
            case .invalidValue, .reasonRequired, .idempotencyKeyReused, .clearanceNotReached,
                .repeatedSigner, .policyInvalid, .importInvalid, .addressRefused, .delegationInvalid:
                422
            case .tooManyAttempts, .tooManyRequests: 429
            case .databaseUnavailable, .serviceBusy, .requestTimeout: 503
            case .migrationChecksum, .serverMissing, .internalError: 500
            }
        }

        /// A short English title for problem+json.
        public var title: String {
            switch self.base {
            case .invalidJSON: "Malformed JSON"
            case .unknownField: "Unknown field"
            case .invalidType: "Wrong type"
            case .missingField: "Missing field"
            case .invalidID: "Malformed id"
            case .invalidValue: "Invalid value"
            case .reasonRequired: "Reason required"
            case .payloadTooLarge: "Request body too large"
            case .unauthenticated: "Not signed in"
            case .invalidCredentials: "Wrong login or password"
            case .tooManyAttempts: "Too many attempts"
            case .tooManyRequests: "Too many changes"
            case .accountSuspended: "Account suspended"
            case .forbiddenRole: "Role not allowed"
            case .outOfJurisdiction: "Outside your jurisdiction"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .versionConflict: "Stale version"
            case .invalidTransition: "Not allowed in this state"
            case .duplicate: "Already exists"
            case .idempotencyKeyReused: "Idempotency key reused with another request"
            case .clearanceNotReached: "Clearance not reached"
            case .outOfOrder: "Not this level's turn"
            case .repeatedSigner: "Signer already signed this application"
            case .policyInvalid: "Invalid policy"
            case .importInvalid: "Import refused"
            case .migrationChecksum: "Applied migration changed"
            case .databaseUnavailable: "Database unavailable"
            case .serviceBusy: "Too many requests in progress"
            case .requestTimeout: "Request took too long"
            case .serverMissing: "PostgreSQL server missing"
            case .internalError: "Internal error"
            case .addressRefused: "Address refused"
            case .delegationInvalid: "Delegation refused"
            case .delegationInactive: "Delegation not in force"
            case .delegationOverlap: "Overlapping delegation"
            case .levelReassigned: "Level reassigned to someone else"
            case .notOverdue: "Level not overdue"
            }
        }
    }

    public var code: Code
    /// A sentence for the person who made the request.
    public var detail: String
    /// Structured facts that help the caller act (a due date, the current version, failing rows).
    public var extra: [String: JSONValue]

    public init(_ code: Code, _ detail: String, extra: [String: JSONValue] = [:]) {
        self.code = code
        self.detail = detail
        self.extra = extra
    }
}

// MARK: - CustomStringConvertible
extension SignoffError: CustomStringConvertible {
    public var description: String { "SignoffError(\(self.code))" }
}

// MARK: - CustomDebugStringConvertible
extension SignoffError: CustomDebugStringConvertible {
    public var debugDescription: String { "SignoffError(\(self.code)): \(self.detail) \(self.extra)" }
}

extension SignoffError {
    public static func notFound(_ what: String) -> SignoffError {
        SignoffError(.notFound, "\(what) not found.")
    }

    public static func invalidTransition(_ event: String, from state: String) -> SignoffError {
        SignoffError(.invalidTransition, "‘\(event)’ is not possible while the record is ‘\(state)’.",
                     extra: ["state": .string(state), "event": .string(event)])
    }

    public static func invalidValue(_ field: String, _ detail: String) -> SignoffError {
        SignoffError(.invalidValue, detail, extra: ["field": .string(field)])
    }
}
