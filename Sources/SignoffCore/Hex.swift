/// Lower-case hexadecimal text of bytes: digests, chain hashes, random tokens.
///
/// Written out by table rather than with `String(format:)`, which costs a formatted string per
/// byte: a signed checkpoint lists the head of every subject in the township.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(Self.digits[Int(byte >> 4)])
            text.append(Self.digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
