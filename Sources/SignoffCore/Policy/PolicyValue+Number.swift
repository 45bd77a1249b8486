import Foundation
import Yams

// MARK: - Decimal numbers
extension PolicyValue {
    /// An unquoted finite number, such as `37.3` or `45`. Temperatures need decimals,
    /// which `int()` refuses.
    public func number() throws(SignoffError) -> Double {
        guard case .scalar(let scalar) = self.node, scalar.style == .plain, let value = Double(scalar.string),
            value.isFinite
        else {
            throw self.invalid("must be a number, such as 37.3.")
        }
        return value
    }
}

extension PolicyMapping {
    public func number(_ key: String) throws(SignoffError) -> Double { try self.value(key).number() }
}
