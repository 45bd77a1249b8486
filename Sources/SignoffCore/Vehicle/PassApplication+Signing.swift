import Foundation

// MARK: - Signing
extension PassApplication {
    /// Signs the pending level; after the last level the pass is effective.
    ///
    /// Errors, in the order checked: `invalid_transition` (not pending); `out_of_order` (a
    /// stated `level` other than the pending one, or the actor holds another level's role
    /// at a unit containing the grid, so it is not their turn); `forbidden_role` (the
    /// pending role is not held at all); `out_of_jurisdiction` (the pending role is held
    /// only elsewhere); `delegation_inactive` / `delegation_invalid` (a delegation outside
    /// its period, revoked, or not for this role, place or person); `level_reassigned` (an
    /// administrator handed the level to someone else); `repeated_signer` (the actor, or the
    /// person signed for, acted at another level already).
    /// An actor holding several chain roles acts in the pending level's role.
    public mutating func sign(level: Int? = nil, delegation: DelegationGrant? = nil, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let (pending, acting) = try self.authorizePendingLevel(actor, statedLevel: level, delegation: delegation, event: "sign", at: now)
        let signature = Signature(level: pending.level, role: pending.role, userID: actor.userID, name: actor.displayName,
                                  unitID: acting.unitID, unitPath: acting.unitPath, at: now,
                                  onBehalfOf: delegation?.delegator, delegationNumber: delegation?.number)
        self.rounds[self.rounds.count - 1].signatures.append(signature)
        var payload: [String: JSONValue] = [
            "round": .int(self.rounds.count), "level": .int(pending.level), "role": .string(pending.role.rawValue),
        ]
        Self.addDelegation(delegation, to: &payload)
        guard pending.level == self.chain.count else {
            let next = self.chain[pending.level]  // level numbers are 1-based, so this is the next level
            payload["pending_level"] = .int(next.level)
            payload["pending_role"] = .string(next.role.rawValue)
            return Effect(event: "sign", actingAs: acting, payload: payload)
        }
        let number = Self.passNumber(applicationID: self.applicationID, effectiveAt: now)
        let until = now.addingTimeInterval(DomainFormat.days(self.passValidityDays))
        self.state = .effective
        self.passNumber = number
        self.effectiveFrom = now
        self.effectiveUntil = until
        payload["pass_number"] = .string(number)
        payload["effective_until"] = .string(DomainFormat.timestamp(until))
        let event = DomainEvent(
            name: Self.effectiveEvent,
            key: "\(Self.effectiveEvent):\(self.applicationID.uuidString)",
            payload: [
                "application_id": .string(self.applicationID.uuidString), "vehicle_id": .string(self.vehicleID.uuidString),
                "pledge_id": .string(self.pledgeID.uuidString), "plate": .string(self.plate.text),
                "pass_number": .string(number), "effective_from": .string(DomainFormat.timestamp(now)),
                "effective_until": .string(DomainFormat.timestamp(until)),
                CredentialClaim.payloadKey: CredentialClaim(
                    kind: .vehiclePass, number: number, holder: .plate(self.plate.text), scope: Self.credentialScope,
                    validFrom: now, validUntil: until).payload,
            ])
        return Effect(event: "sign", actingAs: acting, payload: payload, emitted: [event])
    }

    /// Rejects at the pending level, with a reason. Checked like `sign`, then the reason.
    public mutating func reject(reason: String?, level: Int? = nil, delegation: DelegationGrant? = nil, by actor: Principal,
                                at now: Date) throws(SignoffError) -> Effect {
        let (pending, acting) = try self.authorizePendingLevel(actor, statedLevel: level, delegation: delegation, event: "reject", at: now)
        let reason = try requireReason(reason)
        let signer = Signature(level: pending.level, role: pending.role, userID: actor.userID, name: actor.displayName,
                               unitID: acting.unitID, unitPath: acting.unitPath, at: now,
                               onBehalfOf: delegation?.delegator, delegationNumber: delegation?.number)
        self.rounds[self.rounds.count - 1].rejection = Rejection(signer: signer, reason: reason)
        self.state = .rejected
        var payload: [String: JSONValue] = [
            "round": .int(self.rounds.count), "level": .int(pending.level), "role": .string(pending.role.rawValue),
        ]
        Self.addDelegation(delegation, to: &payload)
        return Effect(event: "reject", actingAs: acting, reason: reason, payload: payload)
    }

    /// 转交: an administrator covering the vehicle's grid hands the overdue pending level to
    /// `target`, who must hold the level's role at a unit covering the grid and must not have
    /// acted at another level. From then on only `target` (or their delegate) acts there, and
    /// the level's reminders go to them, with its limit counted again from now.
    ///
    /// Errors: `forbidden_role` / `out_of_jurisdiction` (not an administrator here);
    /// `invalid_transition` (not pending); `out_of_order` (another level is pending);
    /// `not_overdue`; `delegation_invalid` (the target does not hold the role there, or is the
    /// current holder); `repeated_signer`; `reason_required`.
    public mutating func reassign(level: Int, to target: Principal, reason: String?, by actor: Principal, at now: Date) throws(SignoffError) -> Effect {
        let acting = try actor.assignment(as: .admin, covering: self.gridPath)
        guard let pending = self.pendingLevel, let due = self.pendingDueAt else {
            throw .invalidTransition("reassign", from: self.stateName)
        }
        guard level == pending.level else {
            throw self.outOfOrder(pending, detail: "You asked to reassign level \(level).")
        }
        guard now >= due else {
            throw SignoffError(.notOverdue, "Level \(pending.level) is not overdue yet (its limit ends \(DomainFormat.timestamp(due))); only an overdue level can be reassigned.",
                               extra: ["due_at": .string(DomainFormat.timestamp(due)), "pending_level": .int(pending.level)])
        }
        let reason = try requireReason(reason)
        guard reason.count <= 500 else { throw SignoffError.invalidValue("reason", "The reason is longer than 500 characters.") }
        let held: RoleAssignment
        do throws(SignoffError) {
            held = try target.assignment(as: pending.role, covering: self.gridPath)
        } catch {
            throw SignoffError(
                .delegationInvalid,
                "\(target.displayName) does not hold \(pending.role.chineseName) (\(pending.role.rawValue)) at a unit covering this vehicle's grid.",
                extra: ["field": "to_user_id", "role": .string(pending.role.rawValue)])
        }
        if self.pendingReassignment?.to.userID == target.userID {
            throw SignoffError(.delegationInvalid, "Level \(pending.level) is already assigned to \(target.displayName).",
                               extra: ["field": "to_user_id"])
        }
        if let earlier = self.actsOfUser(target.userID).first(where: { $0.level != pending.level }) {
            throw SignoffError(
                .repeatedSigner,
                "\(target.displayName) already acted at level \(earlier.level) of this application; one person never signs two levels of one 通行证 application.",
                extra: ["signed_level": .int(earlier.level), "pending_level": .int(pending.level)])
        }
        let reassignment = Reassignment(level: pending.level, to: Delegation.Person(userID: target.userID, name: target.displayName),
                                        toUnitPath: held.unitPath, by: Delegation.Person(userID: actor.userID, name: actor.displayName),
                                        reason: reason, at: now)
        let index = self.rounds.count - 1
        self.rounds[index].reassignments = (self.rounds[index].reassignments ?? []) + [reassignment]
        return Effect(event: "reassign", actingAs: acting, reason: reason, payload: [
            "round": .int(self.rounds.count), "level": .int(pending.level), "role": .string(pending.role.rawValue),
            "to_user_id": .string(target.userID.uuidString), "to_name": .string(target.displayName),
        ])
    }

    static func addDelegation(_ delegation: DelegationGrant?, to payload: inout [String: JSONValue]) {
        guard let delegation else { return }
        payload["delegation_number"] = .int(delegation.number)
        payload["on_behalf_of_id"] = .string(delegation.delegator.userID.uuidString)
        payload["on_behalf_of_name"] = .string(delegation.delegator.name)
    }

    /// The pass number printed on the paper: `通行证-<year in China>-<first 8 hex digits of the application id>`.
    ///
    /// Derived, not allocated, so the machine stays pure and the last signature needs nothing
    /// from the store; the id is random, so numbers do not reveal how many passes exist.
    public static func passNumber(applicationID: UUID, effectiveAt date: Date) -> String {
        let short = applicationID.uuidString.replacingOccurrences(of: "-", with: "").prefix(8).uppercased()
        return "通行证-\(DomainFormat.year(date))-\(short)"
    }

    /// The pending level and the assignment under which `actor` may act there.
    private func authorizePendingLevel(
        _ actor: Principal, statedLevel: Int?, delegation: DelegationGrant?, event: String, at now: Date
    ) throws(SignoffError) -> (VehiclePolicy.Level, RoleAssignment) {
        guard let pending = self.pendingLevel else { throw .invalidTransition(event, from: self.stateName) }
        if let statedLevel, statedLevel != pending.level {
            throw self.outOfOrder(pending, detail: "You acted on level \(statedLevel), but level \(pending.level) is waiting.")
        }
        let acting: RoleAssignment
        do throws(SignoffError) {
            acting = try actor.assignment(as: pending.role, covering: self.gridPath)
        } catch {
            // Not the pending role here: say whether it is a matter of turn, of role or of place.
            let chainRoles = self.chain.map(\.role)
            let held = actor.assignments.filter { chainRoles.contains($0.role) }
            if held.contains(where: { $0.covers(self.gridPath) }) {
                let theirs = self.chain.filter { level in held.contains { $0.role == level.role && $0.covers(self.gridPath) } }
                let names = theirs.map { "level \($0.level) (\($0.role.chineseName) \($0.role.rawValue))" }
                throw self.outOfOrder(pending, detail: "You sign at \(names.joined(separator: " and ")).")
            }
            throw error
        }
        if let delegation {
            try Self.check(delegation, for: actor, pending: pending, gridPath: self.gridPath, at: now)
        }
        // After a 转交 only the named holder acts here, in person or through their delegate.
        if let assigned = self.pendingReassignment {
            let principal = delegation?.delegator.userID ?? actor.userID
            guard principal == assigned.to.userID else {
                throw SignoffError(
                    .levelReassigned,
                    "Level \(pending.level) was reassigned to \(assigned.to.name) by \(assigned.by.name); only they (or their delegate) can act on it now.",
                    extra: ["assigned_to_id": .string(assigned.to.userID.uuidString), "assigned_to_name": .string(assigned.to.name),
                            "pending_level": .int(pending.level)])
            }
        }
        // Four eyes: neither the person acting nor the person signed for may appear at another level.
        for (person, you) in [(actor.userID, true)] + (delegation.map { [($0.delegator.userID, false)] } ?? []) {
            if let earlier = self.actsOfUser(person).first(where: { $0.level != pending.level }) {
                let who = you ? "You" : (delegation?.delegator.name ?? "The person you sign for")
                throw SignoffError(
                    .repeatedSigner,
                    "\(who) already acted at level \(earlier.level) of this application; one person never signs two levels of one 通行证 application, in person or through a delegate.",
                    extra: ["signed_level": .int(earlier.level), "pending_level": .int(pending.level),
                            "user_id": .string(person.uuidString)])
            }
        }
        return (pending, acting)
    }

    /// A delegation applies only to its delegate, inside its period, for its role and unit.
    static func check(_ grant: DelegationGrant, for actor: Principal, pending: VehiclePolicy.Level, gridPath: UnitPath,
                      at now: Date) throws(SignoffError) {
        let number: [String: JSONValue] = ["delegation_number": .int(grant.number)]
        guard grant.delegateID == actor.userID else {
            throw SignoffError(.delegationInvalid, "Delegation #\(grant.number) names someone else as the delegate.", extra: number)
        }
        guard grant.active, grant.from <= now, now < grant.until else {
            throw SignoffError(.delegationInactive,
                               "Delegation #\(grant.number) is not in force now (\(DomainFormat.timestamp(grant.from)) to \(DomainFormat.timestamp(grant.until))\(grant.active ? "" : ", revoked")).",
                               extra: number)
        }
        guard grant.role == pending.role, grant.unitPath.contains(gridPath) else {
            throw SignoffError(.delegationInvalid,
                               "Delegation #\(grant.number) is for \(grant.role.chineseName) at \(grant.unitPath), not for this level or place.",
                               extra: number)
        }
    }

    /// Every signature and rejection by `userID` or on their behalf, in every round.
    ///
    /// The rule spans rounds: someone who signed level 1 in round 1 may sign level 1 again
    /// after a resubmission, but never level 2, so no round can show one person twice and
    /// the history never shows one person at two levels.
    public func actsOfUser(_ userID: UUID) -> [Signature] {
        self.rounds.flatMap { round in
            round.signatures + (round.rejection.map { [$0.signer] } ?? [])
        }.filter { $0.userID == userID || $0.onBehalfOf?.userID == userID }
    }

    func outOfOrder(_ pending: VehiclePolicy.Level, detail: String) -> SignoffError {
        SignoffError(
            .outOfOrder,
            "It is level \(pending.level)’s turn (\(pending.role.chineseName) \(pending.role.rawValue)). \(detail)",
            extra: ["pending_level": .int(pending.level), "pending_role": .string(pending.role.rawValue)])
    }
}
