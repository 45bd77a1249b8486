import Foundation

// MARK: - Signing
extension PassApplication {
    /// Signs the pending level; after the last level the pass is effective.
    ///
    /// Errors, in the order checked: `invalid_transition` (not pending); `out_of_order` (a
    /// stated `level` other than the pending one, or the actor holds another level's role
    /// at a unit containing the grid, so it is not their turn); `forbidden_role` (the
    /// pending role is not held at all); `out_of_jurisdiction` (the pending role is held
    /// only elsewhere); `repeated_signer` (the actor acted at another level already).
    /// An actor holding several chain roles acts in the pending level's role.
    public mutating func sign(level: Int? = nil, by actor: Actor, at now: Date) throws(SignoffError) -> Effect {
        let (pending, acting) = try self.authorizePendingLevel(actor, statedLevel: level, event: "sign")
        let signature = Signature(level: pending.level, role: pending.role, userID: actor.userID, name: actor.displayName,
                                  unitID: acting.unitID, unitPath: acting.unitPath, at: now)
        self.rounds[self.rounds.count - 1].signatures.append(signature)
        var payload: [String: JSONValue] = [
            "round": .int(self.rounds.count), "level": .int(pending.level), "role": .string(pending.role.rawValue),
        ]
        guard pending.level == self.chain.count else {
            let next = self.chain[pending.level]  // level numbers are 1-based, so this is the next level
            payload["pending_level"] = .int(next.level)
            payload["pending_role"] = .string(next.role.rawValue)
            return Effect(event: "sign", actingAs: acting, payload: payload)
        }
        let number = Self.passNumber(applicationID: self.applicationID, effectiveAt: now)
        let until = now.addingTimeInterval(VehicleFormat.days(self.passValidityDays))
        self.state = .effective
        self.passNumber = number
        self.effectiveFrom = now
        self.effectiveUntil = until
        payload["pass_number"] = .string(number)
        payload["effective_until"] = .string(VehicleFormat.timestamp(until))
        let event = DomainEvent(
            name: Self.effectiveEvent,
            key: "\(Self.effectiveEvent):\(self.applicationID.uuidString)",
            payload: [
                "application_id": .string(self.applicationID.uuidString), "vehicle_id": .string(self.vehicleID.uuidString),
                "pledge_id": .string(self.pledgeID.uuidString), "plate": .string(self.plate.text),
                "pass_number": .string(number), "effective_from": .string(VehicleFormat.timestamp(now)),
                "effective_until": .string(VehicleFormat.timestamp(until)),
            ])
        return Effect(event: "sign", actingAs: acting, payload: payload, emitted: [event])
    }

    /// Rejects at the pending level, with a reason. Checked like `sign`, then the reason.
    public mutating func reject(reason: String?, level: Int? = nil, by actor: Actor, at now: Date) throws(SignoffError) -> Effect {
        let (pending, acting) = try self.authorizePendingLevel(actor, statedLevel: level, event: "reject")
        let reason = try requireReason(reason)
        let signer = Signature(level: pending.level, role: pending.role, userID: actor.userID, name: actor.displayName,
                               unitID: acting.unitID, unitPath: acting.unitPath, at: now)
        self.rounds[self.rounds.count - 1].rejection = Rejection(signer: signer, reason: reason)
        self.state = .rejected
        return Effect(event: "reject", actingAs: acting, reason: reason,
                      payload: ["round": .int(self.rounds.count), "level": .int(pending.level),
                                "role": .string(pending.role.rawValue)])
    }

    /// The pass number printed on the paper: `通行证-<year in China>-<first 8 hex digits of the application id>`.
    ///
    /// Derived, not allocated, so the machine stays pure and the last signature needs nothing
    /// from the store; the id is random, so numbers do not reveal how many passes exist.
    public static func passNumber(applicationID: UUID, effectiveAt date: Date) -> String {
        let short = applicationID.uuidString.replacingOccurrences(of: "-", with: "").prefix(8).uppercased()
        return "通行证-\(VehicleFormat.year(date))-\(short)"
    }

    /// The pending level and the assignment under which `actor` may act there.
    private func authorizePendingLevel(
        _ actor: Actor, statedLevel: Int?, event: String
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
        if let earlier = self.actsOfUser(actor.userID).first(where: { $0.level != pending.level }) {
            throw SignoffError(
                .repeatedSigner,
                "You already acted at level \(earlier.level) of this application; one person never signs two levels of one 通行证 application.",
                extra: ["signed_level": .int(earlier.level), "pending_level": .int(pending.level)])
        }
        return (pending, acting)
    }

    /// Every signature and rejection of `userID`, in every round.
    ///
    /// The rule spans rounds: someone who signed level 1 in round 1 may sign level 1 again
    /// after a resubmission, but never level 2, so no round can show one person twice and
    /// the history never shows one person at two levels.
    private func actsOfUser(_ userID: UUID) -> [Signature] {
        self.rounds.flatMap { round in
            round.signatures + (round.rejection.map { [$0.signer] } ?? [])
        }.filter { $0.userID == userID }
    }

    private func outOfOrder(_ pending: VehiclePolicy.Level, detail: String) -> SignoffError {
        SignoffError(
            .outOfOrder,
            "It is level \(pending.level)’s turn (\(pending.role.chineseName) \(pending.role.rawValue)). \(detail)",
            extra: ["pending_level": .int(pending.level), "pending_role": .string(pending.role.rawValue)])
    }
}
