import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// A login killed with SIGKILL at any instant leaves the user's state as it was or as the login
/// would have left it (never torn, never losing a code it reported as accepted), and nothing
/// that blocks or breaks the next login.
///
/// strace counts the system calls a login makes after the module's prompt (reading the answer,
/// locking, reading, verifying, writing, syncing, logging, exiting) and then, in a fresh sandbox
/// each time, kills the driver as it enters each one of them in turn. Every kill lands where it
/// was aimed (checked against strace's own record of the killed run), so every step of the
/// write path is covered, whatever the store's layout.
@Suite struct CrashSafetyTests {
  static let now = LoginTests.now

  /// A login whose write path is interrupted.
  struct Scenario: CustomStringConvertible, Sendable {
    var description: String
    /// The PAM result of the login when it is not killed.
    var result: String
    var parameters = TokenParameters.standard
    var prepare: @Sendable (inout UserRecord) -> Void = { _ in }
    var answer: @Sendable () throws -> String
    /// A login that must work afterwards, whether the killed one left the old or the new state.
    var next: @Sendable () throws -> LoginRequest = {
      let later = CrashSafetyTests.now + 1000
      return LoginRequest(answers: [try oathtool(secret: Sandbox.secret, at: later)], time: later, timeLimit: 60)
    }

    /// A fresh sandbox with alice enrolled for this scenario.
    func sandbox() throws -> Sandbox {
      let sandbox = try Sandbox()
      try sandbox.enroll("alice", parameters: parameters, change: prepare)
      return sandbox
    }
  }

  static let backup: (code: String, hashes: BackupCodeHashes) = {
    let crypto = LibCrypto()
    let codes = BackupCodeHashes.generateCodes(count: 2, crypto: crypto) ?? []
    let hashes = BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto) ?? .none
    return (String(decoding: codes.first ?? [], as: UTF8.self), hashes)
  }()

  static let scenarios = [
    Scenario(
      description: "an accepted code", result: "PAM_SUCCESS",
      answer: { try oathtool(secret: Sandbox.secret, at: now) }),
    Scenario(description: "a wrong code", result: "PAM_AUTH_ERR", answer: { "000000" }),
    Scenario(
      description: "the failure that starts a lockout", result: "PAM_AUTH_ERR", prepare: { $0.failures = 4 },
      answer: { "000000" }),
    Scenario(
      description: "an accepted backup code", result: "PAM_SUCCESS", prepare: { $0.backupCodes = backup.hashes },
      answer: { backup.code }),
    Scenario(
      description: "an accepted HOTP code", result: "PAM_SUCCESS",
      parameters: TokenParameters(kind: .hotp, algorithm: .sha1, digits: 6, period: 30), prepare: { $0.counter = 5 },
      answer: { try oathtool(secret: Sandbox.secret, counter: 7) },
      next: { LoginRequest(answers: [try oathtool(secret: Sandbox.secret, counter: 9)], timeLimit: 60) }),
  ]

  @Test(arguments: scenarios)
  func killedAtEverySystemCallAfterThePromptLeavesTheOldOrTheNewState(_ scenario: Scenario) throws {
    let request = LoginRequest(answers: [try scenario.answer()], time: Self.now)
    // Two runs that are not killed: the state they leave is "new", and their system calls
    // must be the same, or the kills could not be aimed.
    let reference = try scenario.sandbox()
    let old = try #require(try reference.record("alice")).fingerprint
    let (login, trace) = try reference.traceLogin(request)
    #expect(login.result == scenario.result)
    let new = try #require(try reference.record("alice")).fingerprint
    #expect(new != old)
    let (_, again) = try scenario.sandbox().traceLogin(request)
    let calls = Array(trace.afterPrompt)
    #expect(calls.map(\.name) == again.afterPrompt.map(\.name), "the login's system calls differ between runs")
    try #require(calls.count > 10, "strace saw no prompt: \(trace.calls.suffix(5))")
    let result = try #require(calls.firstIndex { $0.name == "write" && $0.line.contains("(1, \"result ") })

    var leftNew = 0
    var reaimed = 0
    for (index, call) in calls.enumerated() {
      let (sandbox, status, killed, attempts) = try Self.kill(scenario, request, at: call, index: index, of: trace)
      reaimed += attempts - 1
      #expect(status == 128 + SIGKILL, "not killed at \(call)")
      #expect(killed.afterPrompt.count == index + 1 && killed.afterPrompt.last?.name == call.name, "aimed at \(call)")
      // The state must parse (read throws if not) and be one of the two.
      let state = try #require(try sandbox.record("alice"), "no record after a kill at \(call)").fingerprint
      #expect(state == old || state == new, "torn state after a kill at \(call)")
      // Once the application has been told the result, the state that goes with it is durable.
      if index >= result { #expect(state == new, "a kill at \(call), after the result, lost the new state") }
      if state == new { leftNew += 1 }
      let next = try sandbox.login(try scenario.next())
      #expect(next.result == "PAM_SUCCESS", "the next login after a kill at \(call)")
      #expect(try sandbox.storeErrors().isEmpty, "lockstep check after a kill at \(call)")
    }
    let locked = calls.firstIndex { $0.name == "flock" && $0.line.contains("LOCK_EX") } ?? 0
    let synced = calls.lastIndex { $0.name == "fsync" || $0.name == "fdatasync" } ?? 0
    print(
      "\(scenario): \(calls.count) kill points after the prompt, \(synced - locked + 1) of them from taking "
        + "the lock to the last sync, \(calls.count - result) after the result was printed; "
        + "\(leftNew) left the new state, \(calls.count - leftNew) the old one; \(reaimed) kills aimed again")
  }

  /// Kills a login, in a fresh sandbox, as it enters `call`, the `index`th call after the
  /// prompt in the reference run `trace`. strace counts a call's ordinal from the start of
  /// the process, and what a run does before the prompt can differ by a call or two from run to
  /// run (libfaketime's shared memory and semaphore set-up, whose names glibc draws with
  /// getrandom), which moves the ordinal the kill must be aimed at. A kill that did not land
  /// after `index` calls past the prompt is aimed again, in a new sandbox, from the count of
  /// such calls that the missed run made before its prompt; at most three times in all.
  static func kill(
    _ scenario: Scenario, _ request: LoginRequest, at call: SystemCall, index: Int, of trace: SystemCallTrace
  ) throws -> (sandbox: Sandbox, status: Int32, killed: SystemCallTrace, attempts: Int) {
    let afterPrompt = call.ordinal - trace.beforePrompt(named: call.name)
    var aimed = call
    var attempt = 1
    while true {
      let sandbox = try scenario.sandbox()
      let (status, killed) = try sandbox.loginKilled(request, at: aimed)
      let landed =
        status == 128 + SIGKILL && killed.afterPrompt.count == index + 1 && killed.afterPrompt.last?.name == call.name
      if landed || attempt == 3 { return (sandbox, status, killed, attempt) }
      guard killed.hasPrompt else {
        // Killed before the prompt: more such calls came before it this time.
        aimed.ordinal += 1
        attempt += 1
        continue
      }
      aimed.ordinal = killed.beforePrompt(named: call.name) + afterPrompt
      attempt += 1
    }
  }

  @Test func leftoverTemporaryFileDoesNotBlock() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    // A crash between writing the new record and renaming it leaves this behind.
    let leftover = sandbox.store + "/.alice.tmp"
    try "lockstep-record 1\ntorn".write(toFile: leftover, atomically: false, encoding: .utf8)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
    #expect(try sandbox.record("alice")?.lastStep == Self.now / 30)
    // The next time the record is replaced, the leftover goes.
    try sandbox.enroll("alice")
    #expect(!FileManager.default.fileExists(atPath: leftover))
  }

  @Test func leftoverTemporarySymlinkIsNotFollowed() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let target = sandbox.root + "/victim"
    try "untouched".write(toFile: target, atomically: false, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: sandbox.store + "/.alice.tmp", withDestinationPath: target)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
    #expect(try String(contentsOfFile: target, encoding: .utf8) == "untouched")
  }
}

extension UserRecord {
  /// Every field as text, to compare whole states.
  var fingerprint: String {
    let key = secret.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
    return "\(parameters) secret=\(key) counter=\(counter) lastStep=\(String(describing: lastStep)) offset=\(offset) "
      + "failures=\(failures) lockedUntil=\(lockedUntil) lastSuccess=\(lastSuccess) enrolled=\(enrolled) "
      + "backupCodes=\(backupCodes)"
  }
}
