import Foundation
import Testing

/// The administrator's path end to end: the built `lockstep` tool writes the record, the built
/// module reads it at a real PAM login.
@Suite struct CLIThenModuleTests {
  static let cli = Paths.root + "/build/lockstep"

  @Test func loginSucceedsRightAfterEnroll() throws {
    let sandbox = try Sandbox()
    let enroll = try runShell(
      "printf '%s\\n' \(Sandbox.secret) | \(Self.cli) enroll alice --store \(sandbox.store) --allow-unknown-user --secret-file - --no-confirm --qr none"
    )
    #expect(enroll.status == 0, "\(enroll.error)")
    let code = try oathtool(secret: Sandbox.secret)
    let login = try sandbox.login(LoginRequest(answers: [code]))
    #expect(login.result == "PAM_SUCCESS")
    // The tool's status shows the login the module recorded.
    let status = try runCommand(Self.cli, ["status", "alice", "--store", sandbox.store, "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
    #expect(object?["lastSuccess"] != nil && !(object?["lastSuccess"] is NSNull), "\(status.output)")
  }

  @Test func loginSucceedsAfterImportingAGoogleAuthenticatorFile() throws {
    let sandbox = try Sandbox()
    let file = sandbox.root + "/google_authenticator"
    let made = try runCommand(
      "/usr/bin/google-authenticator",
      [
        "--time-based", "--disallow-reuse", "--force", "--rate-limit=3", "--rate-time=30", "--window-size=3",
        "--no-confirm", "--quiet", "--secret=\(file)",
      ])
    try #require(made.status == 0, "\(made.error)")
    let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
    let secret = try #require(lines.first)
    let scratch = try #require(lines.last { $0.count == 8 && $0.allSatisfy(\.isNumber) && !$0.hasPrefix("0") })
    let imported = try runCommand(
      Self.cli, ["import", "google-authenticator", "alice", file, "--allow-unknown-user", "--store", sandbox.store])
    #expect(imported.status == 0, "\(imported.error)")
    #expect(try sandbox.login(LoginRequest(answers: [try oathtool(secret: secret)])).result == "PAM_SUCCESS")
    // A scratch code from the old file now works once, as a backup code.
    #expect(try sandbox.login(LoginRequest(answers: [scratch])).result == "PAM_SUCCESS")
    #expect(try sandbox.login(LoginRequest(answers: [scratch])).result == "PAM_AUTH_ERR")
  }

  /// Enrolls alice with `Sandbox.secret` through the CLI, with `extra` arguments.
  private func enrollWithTheCLI(_ sandbox: Sandbox, _ extra: String = "") throws -> CommandResult {
    try runShell(
      "printf '%s\\n' \(Sandbox.secret) | \(Self.cli) enroll alice --store \(sandbox.store) --allow-unknown-user --secret-file - "
        + "--no-confirm --qr none \(extra)")
  }

  @Test func reenrollingWithTheSameSecretDoesNotMakeAUsedCodeWorkAgain() throws {
    let sandbox = try Sandbox()
    #expect(try enrollWithTheCLI(sandbox).status == 0)
    let code = try oathtool(secret: Sandbox.secret)
    #expect(try sandbox.login(LoginRequest(answers: [code])).result == "PAM_SUCCESS")
    let forced = try enrollWithTheCLI(sandbox, "--force")
    #expect(forced.status == 0, "\(forced.error)")
    #expect(try sandbox.login(LoginRequest(answers: [code])).result == "PAM_AUTH_ERR")
    #expect(sandbox.logLines().contains { $0.contains("replayed verification code") })
    // A google-authenticator file of the same secret, imported with --force, keeps it too.
    let file = sandbox.root + "/google_authenticator"
    try "\(Sandbox.secret)\n\" TOTP_AUTH\n".write(toFile: file, atomically: true, encoding: .utf8)
    chmod(file, 0o600)
    let imported = try runCommand(
      Self.cli,
      ["import", "google-authenticator", "alice", file, "--force", "--allow-unknown-user", "--store", sandbox.store])
    #expect(imported.status == 0, "\(imported.error)")
    #expect(try sandbox.login(LoginRequest(answers: [code])).result == "PAM_AUTH_ERR")
  }

  @Test func theCodeThatConfirmedTheEnrollmentIsRefusedButNotCounted() throws {
    // A user who logs in right after enrolling types the code just used: refused as a replay,
    // it counted as a failure. Both run on the real clock; a try that straddles the end of a
    // time step is made again.
    for _ in 0..<3 {
      let sandbox = try Sandbox()
      let step = Int64(Date().timeIntervalSince1970) / 30
      let code = try oathtool(secret: Sandbox.secret, at: step * 30)
      let enroll = try runShell(
        "printf '%s\\n%s\\n' \(Sandbox.secret) \(code) | \(Self.cli) enroll alice --store \(sandbox.store) "
          + "--allow-unknown-user --secret-file - --qr none")
      try #require(enroll.status == 0, "\(enroll.error)")
      let login = try sandbox.login(LoginRequest(answers: [code]))
      guard Int64(Date().timeIntervalSince1970) / 30 == step else { continue }
      #expect(login.result == "PAM_AUTH_ERR")
      #expect(try sandbox.record("alice")?.failures == 0)
      #expect(sandbox.logLines().contains { $0.contains("confirmed the enrollment; not counted as a failure") })
      return
    }
    Issue.record("three tries each straddled the end of a time step")
  }

  @Test func aNameThatIsNotUTF8IsRefusedByTheCLIAsByTheModule() throws {
    // The CLI read caf\xe9 as "caf\u{FFFD}" and enrolled that spelling, which the module
    // never looks up.
    let sandbox = try Sandbox()
    let enroll = try runShell(
      "printf '%s\\n' \(Sandbox.secret) | \(Self.cli) enroll \"$(printf 'caf\\351')\" --store \(sandbox.store) --allow-unknown-user "
        + "--secret-file - --no-confirm --qr none")
    #expect(enroll.status == 2, "\(enroll.output) \(enroll.error)")
    #expect(enroll.error.contains("UTF-8"), "\(enroll.error)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.store).filter { !$0.hasPrefix(".") }.isEmpty)
  }
}
