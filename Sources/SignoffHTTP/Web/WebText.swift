import Foundation
import SignoffCore

/// Words and numbers as the web app shows them: China time, waits in days and hours, and
/// each error code in plain Chinese with what to do next.
enum WebText {
    static let chinaTime = TimeZone(identifier: "Asia/Shanghai")!

    /// 2020年2月16日 09:00
    static func time(_ date: Date?) -> String {
        guard let date else { return "" }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.chinaTime
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%d年%d月%d日 %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// 2020年2月16日
    static func day(_ date: Date?) -> String {
        guard let date else { return "" }
        return String(Self.time(date).prefix { $0 != " " })
    }

    /// For `<input type=datetime-local>`, in China time.
    static func localInput(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.chinaTime
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// Reads `<input type=datetime-local>` (China time).
    static func parseLocalInput(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = Self.chinaTime
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return formatter.date(from: text)
    }

    /// 3天5小时, 5小时, 20分钟
    static func duration(_ interval: TimeInterval) -> String {
        let minutes = max(0, Int(interval / 60))
        let days = minutes / (24 * 60), hours = minutes / 60 % 24
        if days > 0 { return hours > 0 ? "\(days)天\(hours)小时" : "\(days)天" }
        if hours > 0 { return "\(hours)小时" }
        return "\(minutes)分钟"
    }

    static func passState(_ application: PassApplication, at now: Date) -> String {
        if application.isExpired(at: now) { return "已过期" }
        switch application.state {
        case .pending: return "审批中"
        case .rejected: return "已退回"
        case .withdrawn: return "已撤回"
        case .effective: return "已生效"
        case .revoked: return "已吊销"
        }
    }

    static func pledgeState(_ state: ParkingPledge.State) -> String {
        switch state {
        case .parked: "停放中"
        case .released: "已解除停放"
        }
    }

    static func keyState(_ state: KeyCustody.State) -> String {
        switch state {
        case .held: "钥匙代管中"
        case .declined: "车主拒交钥匙"
        case .returned: "钥匙已归还"
        }
    }

    static func event(_ name: String) -> String {
        switch name {
        case "apply": "提交申请"
        case "sign": "同意"
        case "reject": "拒绝"
        case "resubmit": "重新提交"
        case "withdraw": "撤回"
        default: name
        }
    }

    /// Field names of the forms, for messages.
    static func field(_ name: String) -> String {
        switch name {
        case "plate": "号牌"
        case "parking_place": "停放地点"
        case "reason": "理由"
        case "note": "说明"
        case "owner_person_id": "车主"
        case "receipt_number": "收据编号"
        case "storage_place": "存放地点"
        case "custodian": "代管人"
        case "temperature", "celsius": "体温"
        case "from_province": "来自省份"
        case "from_city": "来自城市"
        case "arrived_at": "到达时间"
        case "purpose": "用途"
        case "route": "路线"
        case "vehicle_description": "车辆"
        default: name
        }
    }

    /// What a refusal means to the person holding the phone, and what to do.
    static func message(for error: SignoffError) -> String {
        let field = error.extra["field"].flatMap { if case .string(let name) = $0 { name } else { nil } }
        switch error.code {
        case .versionConflict, .invalidTransition, .outOfOrder:
            return "该事项已由他人处理。下面是它现在的状态。"
        case .repeatedSigner:
            if error.detail.hasPrefix("You") || error.extra["user_id"] == nil {
                return "您已在本通行证的另一级签过字，同一人不能签两级。"
            }
            return "被代签的人（或被转交的人）已在本通行证的另一级签过字，同一人不能签两级，代签也算本人。"
        case .delegationInvalid:
            return "不能这样委托或转交：被委托（转交）的人必须在覆盖该辖区的单位担任同一角色，且不能是本人；期限须合理（最长90天）。"
        case .delegationInactive:
            return "该委托不在有效期内（未开始、已到期或已撤销），不能据此代签。"
        case .delegationOverlap:
            if case .int(let number)? = error.extra["delegation_number"] {
                return "同一角色和单位在这段时间已有委托 #\(number)，请先撤销它或另选时间。"
            }
            return "同一角色和单位在这段时间已有委托。"
        case .levelReassigned:
            if case .string(let name)? = error.extra["assigned_to_name"] {
                return "这一级已由乡政府办公室转交给 \(name) 办理，您不能再签。"
            }
            return "这一级已转交他人办理，您不能再签。"
        case .notOverdue:
            return "这一级还没有逾期，只有逾期的事项才能转交。"
        case .reasonRequired:
            return "请填写理由后再提交。"
        case .forbiddenRole:
            return "您的角色不能办理此事项。"
        case .outOfJurisdiction:
            return "该事项不在您的辖区内，不能查看或办理。"
        case .notFound:
            return "没有找到该记录。它可能不存在，或不在您能查看的范围内。"
        case .clearanceNotReached:
            if case .string(let due)? = error.extra["due_at"], let date = ISO8601DateFormatter().date(from: due) {
                return "停放未满期限，\(Self.time(date)) 起才能申请通行证。"
            }
            return "停放未满期限，暂不能申请通行证。"
        case .duplicate:
            return "该记录已经存在（例如号牌已登记，或已有未办结的申请）。"
        case .idempotencyKeyReused:
            return "这次提交与之前的一次提交冲突。请刷新页面后重新填写。"
        case .invalidCredentials:
            return "账号或密码不对，请重新输入。"
        case .tooManyAttempts:
            return "尝试次数过多，请稍后再试。"
        case .tooManyRequests:
            if case .int(let seconds)? = error.extra["retry_after"] {
                return "操作太频繁，请稍后再试（约 \(seconds) 秒后）。这次提交没有保存。"
            }
            return "操作太频繁，请稍后再试。这次提交没有保存。"
        case .serviceBusy:
            return "系统正忙，请稍后再试。这次提交没有保存。"
        case .requestTimeout:
            return "处理超时，请稍后再试。如果刚才的提交没有显示结果，请刷新页面查看。"
        case .accountSuspended:
            return "账号已停用，请联系乡政府办公室。"
        case .unauthenticated:
            return "请先登录。"
        case .payloadTooLarge:
            return "提交的内容太长。"
        case .databaseUnavailable:
            return "系统暂时连不上数据库，请稍后再试。您填写的内容没有丢失。"
        case .invalidValue, .missingField, .invalidType, .unknownField, .invalidJSON:
            if let field { return "「\(Self.field(field))」填写有误，请检查后再提交。" }
            return "填写的内容有误，请检查后再提交。"
        default:
            return "系统出错，这次操作没有保存。请稍后再试。"
        }
    }

    /// Whether a refusal means "someone else already moved this record".
    static func isHandledElsewhere(_ error: SignoffError) -> Bool {
        [.versionConflict, .invalidTransition, .outOfOrder].contains(error.code)
    }
}
