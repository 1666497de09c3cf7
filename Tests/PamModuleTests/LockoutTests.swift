import Foundation
import LockstepCore
import Testing

/// Rate limiting: consecutive failures lock the user out for a while.
@Suite struct LockoutTests {
  static let now = LoginTests.now

  @Test func lockoutEngagesExactlyAtTheThreshold() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=3", "lockout=600"])
    try sandbox.enroll("alice")
    for attempt in 1...2 {
      #expect(try sandbox.login(answers: ["000000"], at: Self.now).result == "PAM_AUTH_ERR")
      let record = try #require(try sandbox.record("alice"))
      #expect(record.failures == attempt)
      #expect(record.lockedUntil == 0)
    }
    #expect(try sandbox.login(answers: ["000000"], at: Self.now).result == "PAM_AUTH_ERR")
    #expect(try sandbox.record("alice")?.lockedUntil == Self.now + 600)
    #expect(sandbox.logLines().contains { $0.contains("locked out for 600 seconds") && $0.contains("<84>") })
    // While locked out even the right code is refused unchecked, with the documented code.
    let code = try oathtool(secret: Sandbox.secret, at: Self.now + 599)
    let locked = try sandbox.login(answers: [code], at: Self.now + 599)
    #expect(locked.result == "PAM_MAXTRIES")
    #expect(try sandbox.record("alice")?.lastStep == nil)
    #expect(sandbox.logLines().contains { $0.contains("refused unchecked: locked out") })
  }

  @Test func lockoutExpiresAndSuccessResetsCounters() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=2", "lockout=60"])
    try sandbox.enroll("alice")
    _ = try sandbox.login(answers: ["000000"], at: Self.now)
    _ = try sandbox.login(answers: ["000000"], at: Self.now)
    #expect(try sandbox.record("alice")?.lockedUntil == Self.now + 60)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now + 60)
    #expect(try sandbox.login(answers: [code], at: Self.now + 60).result == "PAM_SUCCESS")
    let record = try #require(try sandbox.record("alice"))
    #expect(record.failures == 0)
    #expect(record.lockedUntil == 0)
  }

  @Test func defaultsAreFiveFailuresAndFifteenMinutes() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    for _ in 1...4 { _ = try sandbox.login(answers: ["000000"], at: Self.now) }
    #expect(try sandbox.record("alice")?.lockedUntil == 0)
    _ = try sandbox.login(answers: ["000000"], at: Self.now)
    #expect(try sandbox.record("alice")?.lockedUntil == Self.now + 900)
  }

  @Test func lockoutZeroTurnsLockingOff() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=1", "lockout=0"])
    try sandbox.enroll("alice")
    for _ in 1...3 { _ = try sandbox.login(answers: ["000000"], at: Self.now) }
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
  }
}
