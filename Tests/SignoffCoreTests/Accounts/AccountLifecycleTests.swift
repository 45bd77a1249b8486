import Foundation
import Testing
@testable import SignoffCore

/// Role grants, revocations and passwords as commands of the account machine.
@Suite struct AccountLifecycleTests {
    static let accountID = UUID(uuidString: "A0000000-0000-0000-0000-000000000001")!
    static let grid1Worker = AccountLifecycle.RoleAtUnit(
        role: .gridWorker, unitID: Fixture.unitID(Fixture.grid1), unitPath: Fixture.grid1, unitKind: .grid, unitName: "一网格")
    static let group1Leader = AccountLifecycle.RoleAtUnit(
        role: .groupLeader, unitID: Fixture.unitID(Fixture.group1), unitPath: Fixture.group1, unitKind: .group, unitName: "一组")

    static func held(_ roles: AccountLifecycle.RoleAtUnit...) -> [RoleAssignment] {
        roles.map { RoleAssignment(role: $0.role, unitID: $0.unitID, unitPath: $0.unitPath) }
    }

    static func account() throws -> AccountLifecycle {
        try AccountLifecycle.start(.init(username: "gw_zhangsan", homePath: Fixture.grid1, roles: [grid1Worker]),
                                   id: accountID, by: Fixture.admin, at: Fixture.t0).0
    }

    @Test func creationEmitsItsRolesAndThePasswordWithoutAuditingTheHash() throws {
        let (account, effect) = try AccountLifecycle.start(
            .init(username: "gw_zhangsan", homePath: Fixture.grid1, roles: [Self.grid1Worker], passwordHash: "$2b$secret"),
            id: Self.accountID, by: Fixture.admin, at: Fixture.t0)
        #expect(account.state == .active)
        #expect(effect.event == "create")
        #expect(effect.payload == ["username": .string("gw_zhangsan"), "password_set": .bool(true)])
        #expect(effect.emitted.map(\.name) == [AccountLifecycle.roleGrantedEvent, AccountLifecycle.passwordSetEvent])
        #expect(effect.emitted[0].payload["unit_id"] == .string(Self.grid1Worker.unitID.uuidString))
        let state = String(decoding: try StoredForm.encoder().encode(account), as: UTF8.self)
        #expect(!state.contains("secret"))
    }

    @Test func creationRefusesARoleTheUnitCannotHold() {
        let wrong = AccountLifecycle.RoleAtUnit(role: .groupLeader, unitID: UUID(), unitPath: Fixture.grid1, unitKind: .grid, unitName: "一网格")
        let error = expectError(.invalidValue) { () throws(SignoffError) in
            try AccountLifecycle.start(.init(username: "x_leader", homePath: Fixture.grid1, roles: [wrong]),
                                       id: Self.accountID, by: Fixture.admin, at: Fixture.t0)
        }
        #expect(error?.extra["field"] == .string("roles"))
    }

    @Test func anAdministratorGrantsARoleWithoutChangingTheState() throws {
        var account = try Self.account()
        let effect = try account.handle(.grantRole(Self.group1Leader, held: Self.held(Self.grid1Worker), reason: " 兼任组长 "),
                                        by: Fixture.admin, at: Fixture.t0)
        #expect(account.state == .active)
        #expect(effect.event == "grant_role")
        #expect(effect.reason == "兼任组长")
        #expect(effect.actingAs?.role == .admin)
        #expect(effect.payload == ["role": .string("group_leader"), "unit_path": .string("lianhe.v01.g01")])
        #expect(effect.emitted == [DomainEvent(
            name: AccountLifecycle.roleGrantedEvent,
            key: "account.role_granted:\(Self.accountID.uuidString):group_leader:\(Self.group1Leader.unitID.uuidString)",
            payload: ["user_id": .string(Self.accountID.uuidString), "role": .string("group_leader"),
                      "unit_id": .string(Self.group1Leader.unitID.uuidString)])])
    }

    @Test func grantsAreRefusedToOthersTwiceAtTheWrongUnitAndOnAClosedAccount() throws {
        var account = try Self.account()
        let held = Self.held(Self.grid1Worker)
        expectRefused(&account, .grantRole(Self.group1Leader, held: held, reason: nil), by: Fixture.gridWorker, at: Fixture.t0, .forbiddenRole)
        expectRefused(&account, .grantRole(Self.grid1Worker, held: held, reason: nil), by: Fixture.admin, at: Fixture.t0, .duplicate)
        let misplaced = AccountLifecycle.RoleAtUnit(role: .groupLeader, unitID: UUID(), unitPath: Fixture.grid2, unitKind: .grid, unitName: "二网格")
        expectRefused(&account, .grantRole(misplaced, held: held, reason: nil), by: Fixture.admin, at: Fixture.t0, .invalidValue)
        let villageAdmin = Fixture.actor("村管理员", (.admin, Fixture.village2))
        expectRefused(&account, .grantRole(Self.group1Leader, held: held, reason: nil), by: villageAdmin, at: Fixture.t0, .outOfJurisdiction)
        _ = try account.handle(.close(reason: "离职"), by: Fixture.admin, at: Fixture.t0)
        expectRefused(&account, .grantRole(Self.group1Leader, held: held, reason: nil), by: Fixture.admin, at: Fixture.t0, .invalidTransition)
    }

    @Test func aRevocationNeedsAReasonAHeldRoleAndAnotherRoleLeft() throws {
        var account = try Self.account()
        let both = Self.held(Self.grid1Worker, Self.group1Leader)
        expectRefused(&account, .revokeRole(Self.group1Leader, held: both, reason: "  "), by: Fixture.admin, at: Fixture.t0, .reasonRequired)
        expectRefused(&account, .revokeRole(Self.group1Leader, held: Self.held(Self.grid1Worker), reason: "调岗"),
                      by: Fixture.admin, at: Fixture.t0, .notFound)
        expectRefused(&account, .revokeRole(Self.grid1Worker, held: Self.held(Self.grid1Worker), reason: "调岗"),
                      by: Fixture.admin, at: Fixture.t0, .invalidValue)
        let effect = try account.handle(.revokeRole(Self.group1Leader, held: both, reason: "调岗"), by: Fixture.admin, at: Fixture.t0)
        #expect(effect.event == "revoke_role")
        #expect(effect.reason == "调岗")
        #expect(effect.emitted.map(\.name) == [AccountLifecycle.roleRevokedEvent])
    }

    @Test func administratorsKeepTheirOwnAdministratorRole() throws {
        let adminRole = AccountLifecycle.RoleAtUnit(role: .admin, unitID: Fixture.unitID(Fixture.township), unitPath: Fixture.township,
                                                    unitKind: .township, unitName: "联合乡")
        var account = try AccountLifecycle.start(.init(username: "office", homePath: Fixture.township, roles: [adminRole]),
                                                 id: Fixture.admin.userID, by: Fixture.admin, at: Fixture.t0).0
        expectRefused(&account, .revokeRole(adminRole, held: Self.held(adminRole, Self.grid1Worker), reason: "调岗"),
                      by: Fixture.admin, at: Fixture.t0, .invalidValue)
    }

    @Test func thePasswordIsSetByItsHolderAnAdministratorOrTheServiceAndNeverAudited() throws {
        var account = try Self.account()
        let holder = Principal(userID: Self.accountID, displayName: "网格员 张三", assignments: [])
        let own = try account.handle(.setPassword(hash: "$2b$own-hash"), by: holder, at: Fixture.t0)
        #expect(own.event == "set_password")
        #expect(own.actingAs == nil)
        #expect(own.payload == ["by_holder": .bool(true)])
        #expect(own.emitted.map(\.name) == [AccountLifecycle.passwordSetEvent])
        #expect(own.emitted[0].payload["password_hash"] == .string("$2b$own-hash"))
        let byAdmin = try account.handle(.setPassword(hash: "$2b$reset"), by: Fixture.admin, at: Fixture.t0)
        #expect(byAdmin.actingAs?.role == .admin)
        #expect(byAdmin.payload == ["by_holder": .bool(false)])
        _ = try account.handle(.setPassword(hash: "$2b$cli"), by: .system, at: Fixture.t0)
        expectRefused(&account, .setPassword(hash: "$2b$other"), by: Fixture.gridWorker, at: Fixture.t0, .forbiddenRole)
        expectRefused(&account, .setPassword(hash: ""), by: holder, at: Fixture.t0, .invalidValue)
        _ = try account.handle(.close(reason: "离职"), by: Fixture.admin, at: Fixture.t0)
        expectRefused(&account, .setPassword(hash: "$2b$late"), by: Fixture.admin, at: Fixture.t0, .invalidTransition)
    }
}
