import Foundation
import Testing
@testable import SignoffCore

/// Serial numbers count per year in China time: the township's new year starts at 16:00 UTC.
@Suite struct SerialNumberTests {
    static func utc(_ text: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text))
    }

    @Test func theYearTurnsAtMidnightChinaTime() throws {
        #expect(ChinaDay(containing: try Self.utc("2020-12-31T15:59:59Z")).year == 2020)
        #expect(ChinaDay(containing: try Self.utc("2020-12-31T16:00:00Z")).year == 2021)
        #expect(ChinaDay(containing: try Self.utc("2021-01-01T00:30:00Z")).year == 2021)
    }

    @Test func agriculturalPassSerials() {
        #expect(AgriculturalPass.serialNumber(year: 2020, number: 1) == "农通-2020-0001")
        #expect(AgriculturalPass.serialNumber(year: 2020, number: 219) == "农通-2020-0219")
        #expect(AgriculturalPass.serialNumber(year: 2021, number: 12345) == "农通-2021-12345")
    }

    @Test func healthCertificateNumbers() {
        #expect(CertificateRequest.certificateNumber(year: 2020, number: 42) == "LH-JK-2020-00042")
        #expect(CertificateRequest.certificateNumber(year: 2020, number: 1566) == "LH-JK-2020-01566")
    }
}
