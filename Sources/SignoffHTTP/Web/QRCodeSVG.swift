import CQRencode
import Foundation

/// A QR code drawn as SVG path data on the server (libqrencode), so the certificate page shows
/// it without JavaScript and prints sharp.
struct QRCodeSVG: Sendable, Equatable {
    /// Modules per side, without the quiet zone.
    let width: Int
    /// One `M x y h1 v1 h-1 z` square per dark module, in module units offset by the quiet zone.
    let path: String
    /// The side of the view box: the code and a quiet zone of four modules each side.
    var viewBox: Int { self.width + 2 * Self.quietZone }

    static let quietZone = 4

    /// Encodes `text` at error-correction level M (what a phone camera reads from a screen);
    /// nil only when the text is too long for any QR version.
    init?(_ text: String) {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        var path = ""
        path.reserveCapacity(width * width * 6)
        for y in 0..<width {
            var x = 0
            while x < width {
                // bit 0 of each byte is the module's colour (1 = dark); runs share one rectangle.
                guard code.pointee.data[y * width + x] & 1 == 1 else { x += 1; continue }
                var run = 1
                while x + run < width, code.pointee.data[y * width + x + run] & 1 == 1 { run += 1 }
                path += "M\(x + Self.quietZone) \(y + Self.quietZone)h\(run)v1h-\(run)z"
                x += run
            }
        }
        self.width = width
        self.path = path
    }
}
