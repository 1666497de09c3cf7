import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// What a refusal tells someone who can only choose answers and watch the replies: neither the
/// time from answer to verdict nor the verdict itself may say whether the user is enrolled, has
/// backup codes left, or is locked out. Each case runs through the real module, with the
/// module's default `fail_delay`.
@Suite(.serialized) struct RefusalTimingTests {
  static let now = LoginTests.now
  /// Logins timed per case. Interleaved, so that a busy moment of the machine falls on every case.
  static let rounds = 12

  /// The cases an observer would compare, all answered with an 8-digit number (the shape of a
  /// backup code, which costs enrolled users with codes a PBKDF2 hash).
  enum Case: String, CaseIterable {
    case unenrolled = "not enrolled"
    case withBackupCodes = "enrolled, backup codes left"
    case withoutBackupCodes = "enrolled, no backup codes"
    case lockedOut = "enrolled and locked out"

    var user: String {
      switch self {
      case .unenrolled: return "nobody-here"
      case .withBackupCodes: return "alice"
      case .withoutBackupCodes: return "bob"
      case .lockedOut: return "carol"
      }
    }
  }

  /// A sandbox whose service runs the module with its defaults (the sandbox's own `configure`
  /// turns the delay off for the other tests) and no lockout for alice and bob, so that their
  /// wrong answers keep being checked.
  static func sandbox() throws -> Sandbox {
    let sandbox = try Sandbox()
    try sandbox.writeService(
      "lockstep-test", lines: ["auth required \(Paths.module) store=\(sandbox.store) max_failures=1000"])
    let codes = try #require(
      BackupCodeHashes.issue(codes: [Array("13572468".utf8), Array("97531864".utf8)], crypto: LibCrypto()))
    try sandbox.enroll("alice") { $0.backupCodes = codes }
    try sandbox.enroll("bob")
    try sandbox.enroll("carol") { $0.lockedUntil = Self.now + 86_400 }
    return sandbox
  }

  @Test func refusalsTakeTheSameTimeWhoeverTheUserIs() throws {
    let sandbox = try Self.sandbox()
    var samples: [Case: [Double]] = [:]
    for round in 0..<Self.rounds {
      for kind in Case.allCases {
        let login = try sandbox.login(
          LoginRequest(
            user: kind.user, answers: [String(format: "%08d", 10_000_000 + round)], extraArguments: ["--timing"],
            time: Self.now))
        #expect(login.result == "PAM_AUTH_ERR", "\(kind.rawValue): \(login.result)")
        let line = try #require(login.lines.first { $0.hasPrefix("after_answer_us ") }, "\(login.lines)")
        samples[kind, default: []].append(Double(line.dropFirst("after_answer_us ".count)) ?? -1)
      }
    }
    let medians = samples.mapValues { median($0) / 1000 }
    let report = Case.allCases.map { kind in
      let ms = (samples[kind] ?? []).map { String(format: "%.1f", $0 / 1000) }.joined(separator: " ")
      return "\(kind.rawValue): median \(String(format: "%.1f", medians[kind] ?? 0)) ms [\(ms)]"
    }
    print("refusal times after the answer, ms:\n" + report.joined(separator: "\n"))
    // Every refusal waits out the default delay of 500 ms from the answer ...
    for (kind, times) in samples {
      #expect(times.allSatisfy { $0 >= 500_000 }, "\(kind.rawValue) refused sooner than fail_delay: \(report)")
    }
    // ... and the cases cannot be told apart: their medians lie within 10 ms of each other
    // (without the delay they lay 20 to 70 ms apart: a PBKDF2 hash and an fdatasync), and
    // their ranges overlap.
    let values = Array(medians.values)
    #expect((values.max() ?? 0) - (values.min() ?? 0) < 10, "\(report)")
    let ranges = samples.values.map { ($0.min() ?? 0, $0.max() ?? 0) }
    for a in ranges {
      for b in ranges { #expect(a.0 <= b.1 && b.0 <= a.1, "\(report)") }
    }
  }

  @Test func aLockedOutUserIsRefusedWithTheCodeOfAnUnenrolledOne() throws {
    // PAM_MAXTRIES made sshd end keyboard-interactive at once for a locked-out user, while an
    // unenrolled name was asked again: one probe told them apart.
    let sandbox = try Self.sandbox()
    try sandbox.writeService(
      "lockstep-test", lines: ["auth required \(Paths.module) store=\(sandbox.store) fail_delay=0"])
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let locked = try sandbox.login(LoginRequest(user: "carol", answers: [code], time: Self.now))
    let unenrolled = try sandbox.login(LoginRequest(user: "nobody-here", answers: [code], time: Self.now))
    #expect(locked.result == "PAM_AUTH_ERR")
    #expect(locked.result == unenrolled.result)
    #expect(locked.prompts.map(\.text) == unenrolled.prompts.map(\.text))
    #expect(locked.lines == unenrolled.lines, "no message tells a lockout without lockout_message")
    // The log still says which it was.
    #expect(
      sandbox.logLines().contains { $0.contains("refused unchecked: locked out until") && $0.hasSuffix("user=carol") })
  }

  @Test func theBackupCodeIsHashedBeforeTheLockIsTaken() throws {
    // Hashing under the lock made every other login and command for the user wait for it.
    // A right backup code and a wrong one (a code is left for it to be checked against).
    let sandbox = try Self.sandbox()
    for answer in ["13572468", "24681357"] {
      let login = try sandbox.login(
        LoginRequest(answers: [answer], extraArguments: ["--report-hashing"], time: Self.now))
      #expect(login.lines.filter { $0.hasPrefix("pbkdf2 ") } == ["pbkdf2 without-lock"], "\(login.lines)")
    }
  }

  @Test func lockoutMessageTellsTheUserWhereAFirstFactorCameFirst() throws {
    let sandbox = try Self.sandbox()
    try sandbox.configure(arguments: ["lockout_message"])
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(LoginRequest(user: "carol", answers: [code], time: Self.now))
    #expect(login.result == "PAM_AUTH_ERR")
    #expect(
      login.lines.contains(
        "error Too many wrong verification codes: codes are refused for 1440 minutes. "
          + "An administrator can unlock the account sooner."), "\(login.lines)")
  }

  private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1
      ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
  }
}
