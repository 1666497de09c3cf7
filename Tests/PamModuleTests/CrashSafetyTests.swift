import Foundation
import LockstepCore
import Testing

/// What a crashed login leaves behind must never block the next one.
@Suite struct CrashSafetyTests {
  static let now = LoginTests.now

  @Test func lockHeldByAKilledProcessDoesNotBlock() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    // A subshell takes alice's lock exactly as the module does (flock on .alice.state) and is
    // killed with SIGKILL while holding it, as a login process killed mid-write would be.
    let holder = try runCommand(
      "/bin/bash",
      [
        "-c", "( flock --exclusive 9 && echo held && kill -KILL $BASHPID ) 9>\"$1\"", "-",
        sandbox.store + "/.alice.state",
      ])
    #expect(holder.output == "held\n")
    #expect(holder.status == 128 + SIGKILL)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
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
