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
}
