import Foundation
import LockstepCore
import Testing

/// Rate limiting: consecutive failures lock the user out for a while.
@Suite struct LockoutTests {
  static let now = LoginTests.now

  @Test func defaultLockoutEngagesExactlyAtTheFifthFailureForFifteenMinutes() throws {
    // The defaults: max_failures=5, lockout=900. This is what SECURITY.md's guessing figures
    // rest on: five checked guesses, then nothing is checked for 900 seconds.
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    for attempt in 1...4 {
      #expect(try sandbox.login(answers: ["000000"], at: Self.now).result == "PAM_AUTH_ERR")
      let record = try #require(try sandbox.record("alice"))
      #expect(record.failures == attempt)
      #expect(record.lockedUntil == 0, "locked after only \(attempt) failures")
    }
    #expect(try sandbox.login(answers: ["000000"], at: Self.now).result == "PAM_AUTH_ERR")
    #expect(try sandbox.record("alice")?.lockedUntil == Self.now + 900)
    #expect(sandbox.logLines().contains { $0.contains("locked out for 900 seconds") && $0.contains("<84>") })
    // Times in the log are ISO 8601 UTC, with the Unix time beside them.
    #expect(sandbox.logLines().contains { $0.contains("until 2025-06-15T15:21:40Z (Unix time 1750000900)") })
    // The sixth attempt, even with the right code, is refused unchecked and changes nothing,
    // up to the last second of the lockout.
    let locked = try #require(try sandbox.record("alice"))
    for time in [Self.now, Self.now + 899] {
      let code = try oathtool(secret: Sandbox.secret, at: time)
      #expect(try sandbox.login(answers: [code], at: time).result == "PAM_AUTH_ERR")
      #expect(try sandbox.record("alice")?.fingerprint == locked.fingerprint)
    }
    #expect(sandbox.logLines().filter { $0.contains("refused unchecked: locked out") }.count == 2)
    // At 900 seconds the codes are checked again, with a fresh count of five.
    for attempt in 1...4 {
      #expect(try sandbox.login(answers: ["000000"], at: Self.now + 900).result == "PAM_AUTH_ERR")
      #expect(try sandbox.record("alice")?.failures == attempt)
    }
    let code = try oathtool(secret: Sandbox.secret, at: Self.now + 900)
    #expect(try sandbox.login(answers: [code], at: Self.now + 900).result == "PAM_SUCCESS")
  }

  @Test func lockoutThresholdAndLengthAreConfigurable() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=3", "lockout=600"])
    try sandbox.enroll("alice")
    for _ in 1...2 { #expect(try sandbox.login(answers: ["000000"], at: Self.now).result == "PAM_AUTH_ERR") }
    #expect(try sandbox.record("alice")?.lockedUntil == 0)
    #expect(try sandbox.login(answers: ["000000"], at: Self.now).result == "PAM_AUTH_ERR")
    #expect(try sandbox.record("alice")?.lockedUntil == Self.now + 600)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now + 599)
    #expect(try sandbox.login(answers: [code], at: Self.now + 599).result == "PAM_AUTH_ERR")
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

  @Test func lockoutZeroTurnsLockingOff() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=1", "lockout=0"])
    try sandbox.enroll("alice")
    for _ in 1...3 { _ = try sandbox.login(answers: ["000000"], at: Self.now) }
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
  }
}
