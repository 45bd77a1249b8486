import Foundation
import Testing
@testable import SignoffCore

/// Every fact queued in the outbox has a consumer; the rest is not queued.
@Suite struct OutboxRoutesTests {
    @Test func theNotificationPolicyNamesOnlyRoutedEvents() throws {
        let yaml = try String(contentsOf: RepoPaths.workflows.appendingPathComponent("notifications.yaml"), encoding: .utf8)
        let policy = try NotificationPolicy.load(yaml: yaml)
        #expect(!policy.events.isEmpty)
        for name in policy.events {
            #expect(OutboxRoutes.consumers(of: name).contains(.notifications), "\(name) has a notice rule but is never queued for it")
        }
        // And every routed notice has a rule, so none waits for a notice that is never sent.
        #expect(OutboxRoutes.notifications == Set(policy.events))
    }

    @Test func eachPublishedFactHasItsConsumers() {
        #expect(OutboxRoutes.consumers(of: ParkingPledge.violationEvent) == [.vehicleEvents])
        #expect(OutboxRoutes.consumers(of: KeyCustody.declinedEvent) == [.vehicleEvents])
        #expect(OutboxRoutes.consumers(of: PassApplication.effectiveEvent) == [.notifications])
        #expect(OutboxRoutes.consumers(of: "timer.level_limit") == [.notifications])
        // In-transaction only: signed by the credential reaction, or rows of the account and ledger.
        for name in [AgriculturalPass.issuedEvent, AgriculturalPass.revokedEvent, PassApplication.revokedEvent,
                     CertificateRequest.certifiedEvent, CertificateRequest.revokedEvent,
                     AccountLifecycle.roleGrantedEvent, AccountLifecycle.roleRevokedEvent, AccountLifecycle.passwordSetEvent,
                     HouseholdLedger.infractionRecordedEvent, HouseholdLedger.creditRecordedEvent] {
            #expect(!OutboxRoutes.isQueued(name), "\(name) would wait in the outbox with no consumer")
        }
    }
}
