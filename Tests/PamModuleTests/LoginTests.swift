import Foundation
import LockstepCore
import Testing

/// Ordinary logins through real libpam and the built module, with codes from `oathtool`.
@Suite struct LoginTests {
  /// A fixed instant in the middle of a 30-second step (step 58_333_333 starts at 1_749_999_990).
  static let now: Int64 = 1_750_000_000

  @Test func correctCodeIsAccepted() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(answers: [code], at: Self.now)
    #expect(login.result == "PAM_SUCCESS")
    #expect(login.prompts.count == 1)
    #expect(login.prompts.first?.text == "Verification code: ")
    #expect(login.prompts.first?.echo == false)
    let record = try #require(try sandbox.record("alice"))
    #expect(record.lastStep == Self.now / 30)
    #expect(record.lastSuccess == Self.now)
    #expect(
      sandbox.logLines().contains {
        $0.contains("accepted verification code") && $0.hasSuffix(" rhost=192.0.2.7 user=alice")
      })
  }

  @Test func wrongCodeIsRefusedAndCounted() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let wrong = String(format: "%06d", (Int(code)! + 1) % 1_000_000)
    let login = try sandbox.login(answers: [wrong], at: Self.now)
    #expect(login.result == "PAM_AUTH_ERR")
    #expect(try sandbox.record("alice")?.failures == 1)
    #expect(sandbox.logLines().contains { $0.contains("wrong verification code; failure 1 of 5") })
  }

  @Test func sameCodeTwiceIsAReplay() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
    #expect(try sandbox.login(answers: [code], at: Self.now + 5).result == "PAM_AUTH_ERR")
    #expect(sandbox.logLines().contains { $0.contains("replayed verification code") })
  }

  @Test func earlierCodeAfterALaterOneIsAReplay() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let later = try oathtool(secret: Sandbox.secret, at: Self.now + 30)
    let earlier = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [later], at: Self.now).result == "PAM_SUCCESS")
    #expect(try sandbox.login(answers: [earlier], at: Self.now).result == "PAM_AUTH_ERR")
  }

  @Test(arguments: [(-1, true), (1, true), (-2, false), (2, false)])
  func defaultWindowIsOneStep(offset: Int, accepted: Bool) throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now + Int64(offset) * 30)
    let login = try sandbox.login(answers: [code], at: Self.now)
    #expect(login.result == (accepted ? "PAM_SUCCESS" : "PAM_AUTH_ERR"))
  }

  @Test(arguments: [(0, 0, true), (0, 1, false), (3, 3, true), (3, 4, false)])
  func windowArgument(window: Int, offset: Int, accepted: Bool) throws {
    let sandbox = try Sandbox(arguments: ["window=\(window)"])
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now - Int64(offset) * 30)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == (accepted ? "PAM_SUCCESS" : "PAM_AUTH_ERR"))
  }

  @Test func stepBoundaryIsExact() throws {
    let sandbox = try Sandbox(arguments: ["window=0"])
    try sandbox.enroll("alice")
    let stepStart: Int64 = 1_749_999_990
    let code = try oathtool(secret: Sandbox.secret, at: stepStart)
    #expect(try sandbox.login(answers: [code], at: stepStart - 1).result == "PAM_AUTH_ERR")
    #expect(try sandbox.login(answers: [code], at: stepStart + 29).result == "PAM_SUCCESS")
  }

  @Test(arguments: ["sha1", "sha256", "sha512"], [6, 7, 8])
  func everyAlgorithmAndLength(algorithm: String, digits: Int) throws {
    let sandbox = try Sandbox()
    let parameters = TokenParameters(kind: .totp, algorithm: OTPAlgorithm(name: algorithm)!, digits: digits, period: 60)
    try sandbox.enroll("alice", parameters: parameters)
    let oath = try runCommand(
      "/usr/bin/oathtool",
      ["--totp=\(algorithm)", "-s", "60s", "-d", String(digits), "--now", "@\(Self.now)", "-b", Sandbox.secret])
    let code = oath.output.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(code.count == digits)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
  }

  @Test func hotpCounterAdvancesWithLookahead() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice", parameters: TokenParameters(kind: .hotp, algorithm: .sha1, digits: 6, period: 30)) {
      $0.counter = 5
    }
    let skipped = try oathtool(secret: Sandbox.secret, counter: 12)
    #expect(try sandbox.login(answers: [skipped]).result == "PAM_SUCCESS")
    #expect(try sandbox.record("alice")?.counter == 13)
    let old = try oathtool(secret: Sandbox.secret, counter: 11)
    #expect(try sandbox.login(answers: [old]).result == "PAM_AUTH_ERR")
    let tooFar = try oathtool(secret: Sandbox.secret, counter: 13 + 11)
    #expect(try sandbox.login(answers: [tooFar]).result == "PAM_AUTH_ERR")
  }

  @Test func spacesInTheCodeAreIgnored() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let spaced = " " + code.prefix(3) + " " + code.suffix(3) + " "
    #expect(try sandbox.login(answers: [String(spaced)], at: Self.now).result == "PAM_SUCCESS")
  }

  @Test func promptAndEchoAreConfigurable() throws {
    let sandbox = try Sandbox(arguments: ["prompt=One-time code [from your phone]: ", "echo"])
    try sandbox.enroll("alice")
    let login = try sandbox.login(answers: ["000000"], at: Self.now)
    #expect(login.prompts.first?.text == "One-time code [from your phone]: ")
    #expect(login.prompts.first?.echo == true)
  }

  @Test func debugLogsTheConfigurationButNoSecret() throws {
    let sandbox = try Sandbox(arguments: ["debug"])
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
    let log = sandbox.logLines().joined(separator: "\n")
    #expect(
      log.contains(
        "configuration: store=\(sandbox.store) agent=- host_key=/etc/lockstep/host.key nullok=false window=1"))
    #expect(!containsNumber(log, code))
    #expect(!log.contains(Sandbox.secret))
    #expect(log.contains("<87>"), "debug lines go out at LOG_AUTHPRIV|LOG_DEBUG")
  }
}
