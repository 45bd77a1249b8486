import Testing
@testable import SignoffHTTP

@Suite("The cap on requests in progress")
struct RequestGateTests {
    @Test func aFullGateRefusesUntilAPlaceIsFreed() {
        let gate = RequestGate(limit: 2)
        #expect(gate.enter())
        #expect(gate.enter())
        #expect(!gate.enter())
        #expect(gate.current == 2)
        gate.leave()
        #expect(gate.enter())
        #expect(!gate.enter())
    }
}
