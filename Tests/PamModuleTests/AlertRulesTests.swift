import Foundation
import LockstepConfiguration
import LockstepCore
import LockstepDelivery
import Testing

/// The alert rules of lockstepd(8), ALERTS, over hand-written events: what makes an alert,
/// what it says, the spray and send-spike windows, and the rate limit.
@Suite struct AlertRulesTests {
  static let t: Int64 = 1_769_800_000

  /// The fields of a log line, as the agent's observer reads them back.
  func event(_ line: String) -> [(key: String, value: String)] {
    LogLine.fields(of: "message; " + line) ?? []
  }

  func kinds(_ decisions: [AlertRules.Decision]) -> [String] {
    decisions.map { decision in
      switch decision {
      case .send(let alert): alert.kind
      case .suppressed(let kind): "suppressed " + kind
      }
    }
  }

  @Test func aLockoutMakesAnAlertWithItsFacts() throws {
    var rules = AlertRules(settings: AlertSettings())
    let decisions = rules.consider(
      event("event=lockout failures=5 until=1769800900 service=sshd rhost=203.0.113.9 user=al\\x20ice"), now: Self.t)
    guard case .send(let alert) = try #require(decisions.first) else {
      Issue.record("no alert")
      return
    }
    #expect(
      alert.json(host: "web1")
        == #"{"alert":"lockout","host":"web1","time":"2026-01-30T19:06:40Z","unix":1769800000,"#
        + #""summary":"al ice is locked out after failures from 203.0.113.9","user":"al ice","rhost":"203.0.113.9","#
        + #""service":"sshd","failures":5,"until":1769800900,"suppressed":0}"#)
  }

  @Test func replaysAndBackupCodesMakeAlertsAndOtherEventsNone() {
    var rules = AlertRules(settings: AlertSettings())
    let lines = [
      "event=verify outcome=refused reason=replay step=58993333 failures=1 service=sshd rhost=192.0.2.7 user=alice",
      "event=verify outcome=accepted method=backup left=7 service=sshd rhost=192.0.2.7 user=alice",
      "event=verify outcome=accepted method=backup left=2 service=sshd rhost=192.0.2.7 user=alice",
      "event=verify outcome=accepted method=totp step=58993334 service=sshd rhost=192.0.2.7 user=alice",
      "event=verify outcome=refused reason=wrong-code failures=1 service=sshd rhost=192.0.2.7 user=alice",
      "event=delivery outcome=sent channel=email ms=40 provider=sendmail id=x service=sshd rhost=192.0.2.7 user=alice",
      "event=database outcome=lost",
    ]
    var alerts: [Alert] = []
    for line in lines {
      for case .send(let alert) in rules.consider(event(line), now: Self.t) { alerts.append(alert) }
    }
    #expect(alerts.map(\.kind) == ["replay", "backup-code", "backup-code"])
    #expect(alerts.map { $0.facts.first { $0.key == "low" }?.value } == [nil, .flag(false), .flag(true)])
  }

  @Test func oneSourceRefusedForSeveralUsersIsASpray() {
    var settings = AlertSettings()
    settings.sprayUsers = 3
    settings.sprayWindowSeconds = 600
    var rules = AlertRules(settings: settings)
    func refused(_ user: String, from rhost: String = "203.0.113.9", at time: Int64) -> [String] {
      kinds(
        rules.consider(
          event("event=verify outcome=refused reason=wrong-code failures=1 service=sshd rhost=\(rhost) user=\(user)"),
          now: time))
    }
    // One user failing often is no spray; three users within the window are.
    #expect(refused("alice", at: Self.t) == [])
    #expect(refused("alice", at: Self.t + 1) == [])
    #expect(refused("bob", at: Self.t + 2) == [])
    #expect(refused("carol", from: "198.51.100.1", at: Self.t + 3) == [])
    #expect(refused("carol", at: Self.t + 4) == ["spray"])
    // Not again for that address within the window; again after it.
    #expect(refused("dave", at: Self.t + 5) == [])
    #expect(refused("erin", at: Self.t + 700) == [])
    #expect(refused("frank", at: Self.t + 701) == [])
    #expect(refused("grace", at: Self.t + 702) == ["spray"])
    // Local logins (no rhost) are nobody's spray.
    #expect(refused("a", from: "-", at: Self.t + 800) + refused("b", from: "-", at: Self.t + 801) == [])
    #expect(refused("c", from: "-", at: Self.t + 802) == [])
  }

  @Test func manySendsInAWindowAreASpikeButConfirmationsDoNotCount() {
    var settings = AlertSettings()
    settings.sends = 3
    settings.sendsWindowSeconds = 600
    var rules = AlertRules(settings: settings)
    func sent(at time: Int64, confirm: Bool = false) -> [String] {
      kinds(
        rules.consider(
          event(
            "event=delivery outcome=sent channel=sms ms=5\(confirm ? " confirm=yes" : "") service=- rhost=- user=u"),
          now: time))
    }
    #expect(sent(at: Self.t) == [])
    #expect(sent(at: Self.t + 1, confirm: true) == [])
    #expect(sent(at: Self.t + 2) == [])
    #expect(sent(at: Self.t + 3) == ["send-spike"])
    #expect(sent(at: Self.t + 4) == [])
    // Those have left the window by +700; three in it again at +1000.
    #expect(sent(at: Self.t + 700) == [])
    #expect(sent(at: Self.t + 701) == [])
    #expect(sent(at: Self.t + 1000) == ["send-spike"])
  }

  @Test func theRateLimitLeavesOutTheRestAndTheNextAlertSaysHowMany() {
    var settings = AlertSettings()
    settings.limit = 2
    settings.windowSeconds = 3600
    var rules = AlertRules(settings: settings)
    let lockout = event("event=lockout failures=5 until=1 service=sshd rhost=192.0.2.7 user=alice")
    var outcomes: [String] = []
    for offset in 0..<5 { outcomes += kinds(rules.consider(lockout, now: Self.t + Int64(offset))) }
    #expect(outcomes == ["lockout", "lockout", "suppressed lockout", "suppressed lockout", "suppressed lockout"])
    guard case .send(let next) = rules.consider(lockout, now: Self.t + 3600).first else {
      Issue.record("no alert after the window")
      return
    }
    #expect(next.suppressed == 3)
  }
}
