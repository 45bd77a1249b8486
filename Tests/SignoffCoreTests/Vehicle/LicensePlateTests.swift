import Testing

@testable import SignoffCore

@Suite struct LicensePlateTests {
    @Test(arguments: [
        ("川Q12345", "川Q12345", LicensePlate.Kind.regular),
        ("川q·a1234", "川QA1234", .regular),
        (" 川Q 12345 ", "川Q12345", .regular),
        ("川QD12345", "川QD12345", .newEnergy),
        ("川QDA1234", "川QDA1234", .newEnergy),
        ("川Q12345D", "川Q12345D", .newEnergy),
        ("川Q1234挂", "川Q1234挂", .special),
        ("渝A88888", "渝A88888", .regular),
    ] as [(String, String, LicensePlate.Kind)])
    func validPlatesAreNormalised(input: String, text: String, kind: LicensePlate.Kind) throws {
        let plate = try LicensePlate(input)
        #expect(plate.text == text)
        #expect(plate.kind == kind)
    }

    @Test(arguments: [
        "", "川", "川Q1234", "川Q123456", "XQ12345", "沪12345", "川QI2345", "川Q1O345", "川Q12345X", "川QX12345",
        "川Q1234学5", "川QF0A123", "川9Q1234", "火Q12345",
    ])
    func badPlatesAreRefused(input: String) {
        let error = expectError(.invalidValue) { () throws(SignoffError) in try LicensePlate(input) }
        #expect(error?.extra["field"] == "plate")
    }

    @Test func aPlateIsStoredAsItsText() throws {
        let plate = try LicensePlate("川qd12345")
        #expect(snapshot([plate]) == "[\"川QD12345\"]")
        #expect(plate.province == "川")
    }
}
