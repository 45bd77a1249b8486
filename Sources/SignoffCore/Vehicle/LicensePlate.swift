/// A mainland Chinese number plate 号牌, such as 川Q12345 or the new-energy 川QD12345.
///
/// Input may carry spaces, `·` or `-` and lower-case letters; the stored text is the
/// normalised form (川Q12345). The letters I and O never appear after the issuing
/// authority letter, so they are refused there.
public struct LicensePlate: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, Hashable {
        /// 普通号牌: five letters or digits.
        case regular
        /// 新能源号牌: six characters, D or F first (small) or last (large).
        case newEnergy = "new_energy"
        /// 挂车 trailer, 学 learner or 警 police: four letters or digits and the marker.
        case special
    }

    /// The normalised plate, as stored and shown.
    public let text: String
    public let kind: Kind

    /// The 31 provincial abbreviations that open a plate.
    static let provinces: Set<Character> = Set("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
    static let specialMarkers: Set<Character> = Set("挂学警")

    public init(_ input: String) throws(SignoffError) {
        let text = String(input.filter { !" ·•-\t".contains($0) }.uppercased())
        guard let kind = Self.kind(of: Array(text)) else {
            throw SignoffError.invalidValue(
                "plate", "‘\(input)’ is not a valid number plate 号牌 (expected e.g. 川Q12345 or 川QD12345).")
        }
        self.text = text
        self.kind = kind
    }

    public var description: String { self.text }

    /// 川, for counting vehicles by province of registration.
    public var province: Character { self.text.first! }  // init guarantees a province character first

    private static func kind(of chars: [Character]) -> Kind? {
        guard chars.count >= 7, Self.provinces.contains(chars[0]), Self.isAuthorityLetter(chars[1]) else { return nil }
        let serial = Array(chars.dropFirst(2))
        switch serial.count {
        case 5:
            if serial.allSatisfy(Self.isSerialCharacter) { return .regular }
            if serial.prefix(4).allSatisfy(Self.isSerialCharacter), Self.specialMarkers.contains(serial[4]) {
                return .special
            }
            return nil
        case 6:
            // Small new-energy: D/F, a letter or digit, four digits. Large: five digits, D/F.
            let small = Self.isEnergyMarker(serial[0]) && Self.isSerialCharacter(serial[1])
                && serial.suffix(4).allSatisfy(\.isASCIIDigit)
            let large = serial.prefix(5).allSatisfy(\.isASCIIDigit) && Self.isEnergyMarker(serial[5])
            return small || large ? .newEnergy : nil
        default:
            return nil
        }
    }

    private static func isAuthorityLetter(_ c: Character) -> Bool {
        c.isASCII && c.isUppercase && c.isLetter
    }

    private static func isSerialCharacter(_ c: Character) -> Bool {
        c.isASCIIDigit || (c.isASCII && c.isUppercase && c.isLetter && c != "I" && c != "O")
    }

    private static func isEnergyMarker(_ c: Character) -> Bool {
        c == "D" || c == "F"
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.detail))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.text)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self.isASCII && self.isNumber }
}
