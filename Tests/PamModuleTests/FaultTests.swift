import Foundation
import LockstepCore
import LockstepPlatform
import Testing

/// Faults around a login: a full or read-only store, a missing store, a record deleted while the
/// user types, a lock left by a killed login, a clock set back. Each gets a logged answer that
/// lets no one in who should not get in, never a crash, and a clear `lockstep check` finding.
@Suite struct FaultTests {
  static let now = LoginTests.now
  static let step = now / 30

  /// A login with the right code at `time`, under a watchdog.
  func loginWithTheCode(_ sandbox: Sandbox, at time: Int64 = now) throws -> Login {
    let code = try oathtool(secret: Sandbox.secret, at: time)
    return try sandbox.login(LoginRequest(answers: [code], time: time, timeLimit: 60))
  }

  /// A login that did not succeed, failed closed with a code for it, ran to completion and
  /// changed nothing.
  func expectFailedClosed(_ login: Login, _ sandbox: Sandbox, before: UserRecord) throws {
    #expect(login.status == 0, "the driver did not run to completion: \(login.lines)")
    #expect(["PAM_AUTHINFO_UNAVAIL", "PAM_AUTH_ERR"].contains(login.result))
    #expect(try #require(try sandbox.record("alice")).fingerprint == before.fingerprint)
  }

  @Test func fullStoreStillRecordsCodesAndRefusesWhatItCannotRecord() throws {
    let sandbox = try Sandbox()
    try sandbox.mountStore(size: "128k")
    let backup = CrashSafetyTests.backup
    try sandbox.enroll("alice") { $0.backupCodes = backup.hashes }
    let filler = try sandbox.fillStore()
    #expect(try sandbox.storeErrors() == ["store.full"])
    // The state file's blocks were allocated when it was created, so a code is still recorded
    // in place: it is accepted, and its replay refused.
    let login = try loginWithTheCode(sandbox)
    #expect(login.result == "PAM_SUCCESS")
    #expect(try sandbox.record("alice")?.lastStep == Self.step)
    #expect(try loginWithTheCode(sandbox).result == "PAM_AUTH_ERR")
    // A backup code is used up by rewriting the record, which needs space: it fails closed.
    let current = try #require(try sandbox.record("alice"))
    let backupLogin = try sandbox.login(LoginRequest(answers: [backup.code], time: Self.now, timeLimit: 60))
    try expectFailedClosed(backupLogin, sandbox, before: current)
    #expect(sandbox.logLines().contains { $0.hasPrefix("<83>") && $0.contains("No space left on device") })
    // With space again, everything works and check is content.
    try FileManager.default.removeItem(atPath: filler)
    #expect(try loginWithTheCode(sandbox, at: Self.now + 30).result == "PAM_SUCCESS")
    #expect(try sandbox.storeErrors().isEmpty)
  }

  @Test func readOnlyStoreFailsClosed() throws {
    let sandbox = try Sandbox()
    try sandbox.mountStore(size: "1m")
    let before = try sandbox.enroll("alice")
    try sandbox.remountStore(readOnly: true)
    #expect(try sandbox.storeErrors() == ["store.read-only"])
    // Nothing can be recorded, so the right code is refused like a wrong one.
    for answer in [try oathtool(secret: Sandbox.secret, at: Self.now), "000000"] {
      let login = try sandbox.login(LoginRequest(answers: [answer], time: Self.now, timeLimit: 60))
      try expectFailedClosed(login, sandbox, before: before)
    }
    #expect(sandbox.logLines().contains { $0.hasPrefix("<83>") && $0.contains("Read-only file system") })
    try sandbox.remountStore(readOnly: false)
    #expect(try loginWithTheCode(sandbox).result == "PAM_SUCCESS")
    #expect(try sandbox.storeErrors().isEmpty)
  }

  @Test(arguments: [[], ["nullok"]])
  func missingStoreIsUnavailable(arguments: [String]) throws {
    let sandbox = try Sandbox(arguments: arguments)
    try sandbox.enroll("alice")
    try FileManager.default.removeItem(atPath: sandbox.store)
    let login = try loginWithTheCode(sandbox)
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.hasPrefix("<83>") && $0.contains("is unusable") })
    #expect(try sandbox.storeErrors() == ["store.unusable"])
  }

  @Test func recordDeletedWhileTheUserTypesIsRefused() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let line = try StartLine(in: sandbox.root, name: "prompt")
    let request = LoginRequest(answers: [try oathtool(secret: Sandbox.secret, at: Self.now)], time: Self.now)
    let driver = try Child(
      Paths.driver, sandbox.driverArguments(request) + line.driverArguments + ["--sync-at", "prompt"],
      environment: request.environment, output: sandbox.root + "/login.out")
    defer { driver.kill() }
    // The module has read the record and is waiting for the answer.
    try line.waitUntilReady([driver])
    try FileManager.default.removeItem(atPath: sandbox.store + "/alice")
    line.release()
    let login = Login(parsing: driver.wait())
    #expect(login.status == 0)
    #expect(login.result == "PAM_AUTH_ERR")
    #expect(sandbox.logLines().contains { $0.contains("the record disappeared during the login") })
    #expect(try sandbox.record("alice") == nil)
    // check has nothing to fix; it counts no enrollment, and status says alice is not enrolled.
    #expect(try sandbox.storeErrors().isEmpty)
    #expect(try sandbox.storeFindings().contains { $0.message.contains("holds 0 usable enrollments") })
    #expect(try sandbox.lockstep(["status", "alice"]).status == 3)
  }

  @Test func lockHeldByAKilledLoginDoesNotBlock() throws {
    let request = LoginRequest(answers: [try oathtool(secret: Sandbox.secret, at: Self.now)], time: Self.now)
    let twin = try Sandbox()
    try twin.enroll("alice")
    let calls = Array(try twin.traceLogin(request).1.afterPrompt)
    let locked = try #require(calls.firstIndex { $0.name == "flock" && $0.line.contains("LOCK_EX") })
    // Killed on its next system call, with the user's lock held.
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let (status, killed) = try sandbox.loginKilled(request, at: calls[locked + 1])
    #expect(status == 128 + SIGKILL)
    #expect(killed.afterPrompt.count == locked + 2)
    #expect(try loginWithTheCode(sandbox, at: Self.now + 30).result == "PAM_SUCCESS")
    #expect(try sandbox.storeErrors().isEmpty)
  }

  @Test func codeAtOrBelowTheWatermarkIsRefusedAfterTheClockWentBack() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=100"])
    try sandbox.enroll("alice")
    #expect(try loginWithTheCode(sandbox).result == "PAM_SUCCESS")
    // Back one step: the used code is still in the window, but at the watermark. Back ten
    // minutes: the codes of that time are all below it.
    for (back, answer) in [(30, Self.now), (30, Self.now - 30), (600, Self.now - 600), (600, Self.now - 630)] {
      let code = try oathtool(secret: Sandbox.secret, at: answer)
      let login = try sandbox.login(LoginRequest(answers: [code], time: Self.now - Int64(back), timeLimit: 60))
      #expect(login.result == "PAM_AUTH_ERR", "clock \(back) s back, code of \(answer)")
    }
    #expect(try sandbox.record("alice")?.lastStep == Self.step)
    let warnings = sandbox.logLines().filter { $0.contains("the clock is behind the last accepted time step") }
    #expect(warnings.count == 4)
    #expect(warnings.allSatisfy { $0.hasPrefix("<84>") })
  }
}
