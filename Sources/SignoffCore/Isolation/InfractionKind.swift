/// The infractions of the township's points rules 积分细则, with stable codes.
///
/// Which infractions exist is the shape of the rules, so it is a Swift type; how many points
/// each scores is policy (`IsolationPolicy.infractionPoints`).
public enum InfractionKind: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, Hashable {
    case vehicleOnRoadBeforeClearance = "vehicle_on_road_before_clearance"
    case keyNotHandedIn = "key_not_handed_in"
    case visitedOtherHousehold = "visited_other_household"
    case familyMemberVisited = "family_member_visited"
    case familyNotSeparated = "family_not_separated"
    case noIsolationBarrier = "no_isolation_barrier"
    case missedTemperatureCheck = "missed_temperature_check"
    case refusedPreventionStaff = "refused_prevention_staff"

    /// The wording of the source document, for user-facing text.
    public var chineseName: String {
        switch self {
        case .vehicleOnRoadBeforeClearance: "车辆未停放满14天上路行驶"
        case .keyNotHandedIn: "没有自愿交钥匙在村上保管"
        case .visitedOtherHousehold: "自己外出到其它居民家"
        case .familyMemberVisited: "家庭其它成员到其它居民家"
        case .familyNotSeparated: "家庭成员没有执行隔离措施 (分居、分餐、分区)"
        case .noIsolationBarrier: "居家隔离没有自觉设置隔离障碍"
        case .missedTemperatureCheck: "没有按时配合进行体温监测"
        case .refusedPreventionStaff: "不配合防控人员进行防控宣传和落实科学防控措施"
        }
    }

    /// The vehicle workflows publish these two themselves (`vehicle.violation`,
    /// `vehicle.key_declined`); recording them by hand as well would score them twice.
    public var comesFromVehicleWorkflow: Bool {
        switch self {
        case .vehicleOnRoadBeforeClearance, .keyNotHandedIn: true
        default: false
        }
    }
}

/// What earns a household autonomy credit 自治积分. Kept apart from infractions: credit
/// never offsets infraction points.
public enum AutonomyCreditKind: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, Hashable {
    case preventionWork = "prevention_work"

    public var chineseName: String {
        switch self {
        case .preventionWork: "积极参与疫情防控相关宣传、劝导、卫生清理、消毒等公益活动"
        }
    }
}
