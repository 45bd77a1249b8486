import Foundation
import Testing
import SignoffCore

/// Every kind's "one at a time" key has one format, whoever builds it.
@Suite("Exclusive keys")
struct ExclusiveKeyTests {
    static let id = UUID(uuidString: "0e000000-0000-0000-0000-00000000000a")!

    @Test func theFormatIsScopeAndUpperCaseIdThenTheSlot() {
        #expect(ExclusiveKey.vehicle(Self.id).text == "vehicle:0E000000-0000-0000-0000-00000000000A")
        #expect(ExclusiveKey.person(Self.id).text == "person:0E000000-0000-0000-0000-00000000000A")
        #expect(ExclusiveKey.household(Self.id, slot: "2020-02-10 am").text == "household:0E000000-0000-0000-0000-00000000000A:2020-02-10 am")
    }
}
