import Foundation
import Testing

/// The record the module reads is the account's, under the name the user database gives it
/// (`pw_name`), whatever spelling of the name the login used: sshd, su and login accept every
/// name that resolves to the account. The tests give the driver a user database that folds
/// case, as SSSD or AD with `case_sensitive = false` do (`NSS/nss_lockstepcase.c`), through
/// a private `/etc/nsswitch.conf` bind-mounted in a mount namespace of their own.
@Suite struct AccountNameTests {
  static let now = LoginTests.now
  static let nssModuleDirectory = Paths.root + "/build"

  /// Runs `request` through the driver with the case-folding user database.
  func loginWithFoldingDatabase(_ sandbox: Sandbox, _ request: LoginRequest) throws -> Login {
    let nss = Self.nssModuleDirectory + "/libnss_lockstepcase.so.2"
    guard FileManager.default.fileExists(atPath: nss) else { throw TestFailure("\(nss) is missing: run make") }
    let nsswitch = sandbox.root + "/nsswitch.conf"
    try "passwd: files lockstepcase\ngroup: files\nshadow: files\n".write(
      toFile: nsswitch, atomically: true, encoding: .utf8)
    var environment = request.environment
    environment["LD_LIBRARY_PATH"] = Self.nssModuleDirectory
    let run = try runCommand(
      "/usr/bin/unshare",
      [
        "--mount", "--propagation", "private", "/bin/sh", "-c",
        "mount --bind \"$1\" /etc/nsswitch.conf && shift && exec \"$@\"", "sh", nsswitch, Paths.driver,
      ] + sandbox.driverArguments(request), environment: environment)
    return Login(parsing: run)
  }

  @Test func anotherSpellingOfAnEnrolledNameMustGiveThatAccountsCode() throws {
    // With nullok, `ALICE` was ignored while `alice` was asked for a code: the code was skipped.
    let sandbox = try Sandbox(arguments: ["nullok"])
    try sandbox.enroll("alice")
    let wrong = try loginWithFoldingDatabase(sandbox, LoginRequest(user: "ALICE", answers: ["000000"], time: Self.now))
    #expect(wrong.result == "PAM_AUTH_ERR", "\(wrong.lines)")
    #expect(wrong.prompts.map(\.text) == ["Verification code: "])
    #expect(try sandbox.record("alice")?.failures == 1)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let right = try loginWithFoldingDatabase(sandbox, LoginRequest(user: "ALICE", answers: [code], time: Self.now))
    #expect(right.result == "PAM_SUCCESS")
    #expect(try sandbox.record("alice")?.lastStep == Self.now / 30)
    #expect(sandbox.storeFile("ALICE") == nil && sandbox.storeFile(".ALICE.state") == nil)
    #expect(
      sandbox.logLines().contains {
        $0.contains("the name ALICE given is another name of this account") && $0.hasSuffix("user=alice")
      })
  }

  @Test func anotherSpellingOfAnUnenrolledNameIsRefusedNotIgnored() throws {
    let sandbox = try Sandbox(arguments: ["nullok"])
    let alias = try loginWithFoldingDatabase(sandbox, LoginRequest(user: "BOB", answers: ["123456"], time: Self.now))
    #expect(alias.result == "PAM_AUTH_ERR")
    #expect(sandbox.logLines().contains { $0.contains("nullok applies to an account's own name only") })
    // The account's own name is still let through by nullok, as before: the module is
    // ignored, and with no other module in the stack libpam denies.
    let own = try loginWithFoldingDatabase(sandbox, LoginRequest(user: "bob", answers: [], time: Self.now))
    #expect(own.result == "PAM_PERM_DENIED")
    #expect(own.prompts.isEmpty)
  }

  @Test func aNameNoAccountHasIsTakenAsItIs() throws {
    // Without the folding database `ALICE` is no account's name, and is not alice's either.
    let sandbox = try Sandbox(arguments: ["nullok"])
    try sandbox.enroll("alice")
    let login = try sandbox.login(LoginRequest(user: "ALICE", answers: [], time: Self.now))
    #expect(login.result == "PAM_PERM_DENIED")
    #expect(login.prompts.isEmpty)
  }
}
