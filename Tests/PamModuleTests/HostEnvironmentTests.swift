import Foundation
import Testing

/// The module must not act on the host's environment: inside sshd or sudo it belongs to whoever
/// started the process. The module has no Swift runtime to read `SWIFT_*` variables (it is
/// Embedded Swift), and these values, which make an ordinary Swift program complain, change
/// nothing.
@Suite struct HostEnvironmentTests {
  static let environment = ["SWIFT_BACKTRACE": "nonsense=1", "SWIFT_DEBUG_HELP": "YES"]

  @Test func swiftVariablesChangeNothing() throws {
    // Control: a Swift program with its own runtime does complain about these values.
    let control = try runCommand(Paths.root + "/build/lockstep", ["--version"], environment: Self.environment)
    #expect(control.error.contains("swift runtime"))

    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let run = try runCommand(
      Paths.driver,
      ["--confdir", sandbox.confdir, "--user", "alice", "--answer", "000000", "--syslog", sandbox.syslog],
      environment: Self.environment)
    #expect(run.error.isEmpty)
    #expect(run.output == "prompt echo=off Verification code: \nresult PAM_AUTH_ERR\n")
  }
}
