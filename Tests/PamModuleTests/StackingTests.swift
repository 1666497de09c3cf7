import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// How the module behaves inside a PAM stack: unenrolled users, stacked passwords, and
/// password-plus-code in one answer. Stacks use real modules around it: pam_unix to collect a
/// password first, pam_exec (`expose_authtok`) to see what password the module hands on.
@Suite struct StackingTests {
  static let now = LoginTests.now

  /// The module's line with `arguments`, pointing at the sandbox's store.
  private func moduleLine(_ sandbox: Sandbox, _ control: String = "required", _ arguments: String = "") -> String {
    "auth \(control) \(Paths.module) store=\(sandbox.store) \(arguments)"
  }

  /// pam_unix asking for a password first; it fails (the test users have no account), but
  /// leaves what was typed in `PAM_AUTHTOK`, as it does in any stack.
  private let passwordFirst = "auth optional pam_unix.so nodelay"

  @Test func unenrolledUserWithNullokIsIgnoredWithoutPrompt() throws {
    let sandbox = try Sandbox()
    try sandbox.writeService("s", lines: [moduleLine(sandbox, "required", "nullok"), "auth required pam_permit.so"])
    let ignored = try sandbox.login(LoginRequest(user: "bob", time: Self.now, service: "s"))
    #expect(ignored.result == "PAM_SUCCESS", "pam_permit decides once the module is ignored")
    #expect(ignored.prompts.isEmpty)
    // Alone in the stack, a module that only ignores leaves libpam with no decision at all.
    try sandbox.configure(arguments: ["nullok"])
    #expect(try sandbox.login(LoginRequest(user: "bob", time: Self.now)).result == "PAM_PERM_DENIED")
  }

  @Test func unenrolledUserWithoutNullokIsPromptedAndRefused() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let login = try sandbox.login("bob", answers: ["123456"], at: Self.now)
    #expect(login.result == "PAM_AUTH_ERR")
    // The same prompt as an enrolled user gets: nothing tells who is enrolled.
    let enrolled = try sandbox.login("alice", answers: ["123456"], at: Self.now)
    #expect(login.prompts.map(\.text) == enrolled.prompts.map(\.text))
    #expect(
      sandbox.logLines().contains {
        $0.contains("user is not enrolled; event=login outcome=refused reason=not-enrolled")
          && $0.hasSuffix(" rhost=192.0.2.7 user=bob")
      })
    #expect(sandbox.storeFile("bob") == nil)
  }

  @Test func enrolledUserWithNullokMustStillGiveACode() throws {
    let sandbox = try Sandbox(arguments: ["nullok"])
    try sandbox.enroll("alice")
    #expect(try sandbox.login("alice", answers: ["000000"], at: Self.now).result == "PAM_AUTH_ERR")
  }

  @Test func tryFirstPassUsesAStackedCode() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    try sandbox.writeService("s", lines: [passwordFirst, moduleLine(sandbox, "required", "try_first_pass")])
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(LoginRequest(answers: [code], time: Self.now, service: "s"))
    #expect(login.result == "PAM_SUCCESS")
    #expect(login.prompts.map(\.text) == ["Password: "])
  }

  @Test func tryFirstPassPromptsWhenTheStackedPasswordIsNotACode() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    try sandbox.writeService("s", lines: [passwordFirst, moduleLine(sandbox, "required", "try_first_pass")])
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(LoginRequest(answers: ["correct horse", code], time: Self.now, service: "s"))
    #expect(login.result == "PAM_SUCCESS")
    #expect(login.prompts.map(\.text) == ["Password: ", "Verification code: "])
    // An ordinary password is never counted as a failed code.
    #expect(try sandbox.record("alice")?.failures == 0)
  }

  @Test func useFirstPassNeverPrompts() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    try sandbox.configure(arguments: ["use_first_pass"])
    let missing = try sandbox.login(LoginRequest(answers: ["123456"], time: Self.now))
    #expect(missing.result == "PAM_AUTH_ERR")
    #expect(missing.prompts.isEmpty)
    try sandbox.writeService("s", lines: [passwordFirst, moduleLine(sandbox, "required", "use_first_pass")])
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(LoginRequest(answers: [code], time: Self.now, service: "s"))
    #expect(login.result == "PAM_SUCCESS")
    #expect(login.prompts.count == 1)
  }

  @Test func forwardPassWithNullokStillAsksAnUnenrolledUserForThePassword() throws {
    // Ignored without a prompt, the user typed nothing, and pam_unix use_first_pass after this
    // module had no password to check.
    let sandbox = try Sandbox()
    try sandbox.writeService(
      "s", lines: [moduleLine(sandbox, "required", "forward_pass nullok"), sandbox.passwordCaptureLine])
    let login = try sandbox.login(LoginRequest(user: "bob", answers: ["correct horse"], time: Self.now, service: "s"))
    #expect(login.prompts.map(\.text) == ["Password: "])
    #expect(try sandbox.capturedPassword() == "correct horse")
  }

  @Test func forwardPassSplitsPasswordAndCode() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    try sandbox.writeService(
      "s", lines: [moduleLine(sandbox, "required", "forward_pass"), sandbox.passwordCaptureLine])
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let password = "pa ss:word1"
    let login = try sandbox.login(LoginRequest(answers: [password + code], time: Self.now, service: "s"))
    #expect(login.result == "PAM_SUCCESS")
    #expect(login.prompts.map(\.text) == ["Password & verification code: "])
    #expect(try sandbox.capturedPassword() == password)
    // A wrong code still hands the password on, so the rest of the stack behaves the same.
    try FileManager.default.removeItem(atPath: sandbox.capturedPasswordPath)
    let wrong = try sandbox.login(LoginRequest(answers: ["other" + "000000"], time: Self.now, service: "s"))
    #expect(wrong.result == "PAM_AUTH_ERR")
    #expect(try sandbox.capturedPassword() == "other")
  }

  @Test func forwardPassAcceptsABackupCode() throws {
    let sandbox = try Sandbox()
    let hashes = try #require(
      BackupCodeHashes.issue(codes: [Array("24681357".utf8)], iterations: 1000, crypto: LibCrypto()))
    try sandbox.enroll("alice") { $0.backupCodes = hashes }
    try sandbox.writeService(
      "s", lines: [moduleLine(sandbox, "required", "forward_pass"), sandbox.passwordCaptureLine])
    let login = try sandbox.login(LoginRequest(answers: ["hunter2" + "24681357"], time: Self.now, service: "s"))
    #expect(login.result == "PAM_SUCCESS")
    #expect(try sandbox.capturedPassword() == "hunter2")
  }

  @Test func forwardPassHandsThePasswordToPamUnix() throws {
    // The stack a sysadmin writes: the module first, then pam_unix with use_first_pass, which
    // must take the password it is handed instead of prompting.
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    try sandbox.writeService(
      "s",
      lines: [moduleLine(sandbox, "requisite", "forward_pass"), "auth required pam_unix.so use_first_pass nodelay"])
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(LoginRequest(answers: ["not-an-account" + code], time: Self.now, service: "s"))
    #expect(login.prompts.count == 1)
    #expect(login.result != "PAM_SUCCESS")
    #expect(try sandbox.record("alice")?.lastStep == Self.now / 30)
    #expect(sandbox.logLines().contains { $0.contains("pam_unix(s:auth)") })
  }
}
