import Foundation
import Testing

/// The built shared object as a host process sees it: what it exports, what it needs, how it
/// behaves over many cycles, and what it leaves behind.
@Suite struct ModuleImageTests {
  static let now = LoginTests.now

  @Test func exportsOnlyThePamEntryPoints() throws {
    let nm = try runCommand("/usr/bin/nm", ["-D", "--defined-only", Paths.module])
    #expect(nm.status == 0)
    let names = nm.output.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
    #expect(names.sorted() == ["pam_sm_authenticate", "pam_sm_setcred"])
  }

  @Test func staysResidentAndNeedsNoSwiftLibraries() throws {
    let dynamic = try runCommand("/usr/bin/readelf", ["-d", Paths.module])
    #expect(dynamic.output.contains("NODELETE"))
    let needed = dynamic.output.split(separator: "\n").filter { $0.contains("(NEEDED)") }
    #expect(!needed.isEmpty)
    #expect(!needed.contains { $0.contains("swift") || $0.contains("Foundation") || $0.contains("dispatch") })
  }

  @Test func hasNoRunPathToSearchForLibraries() throws {
    // A RUNPATH such as $ORIGIN would make the loader look for libcrypto and libpam beside
    // the module, in the PAM directory, before the system's library directories.
    let dynamic = try runCommand("/usr/bin/readelf", ["-d", Paths.module])
    #expect(!dynamic.output.contains("RUNPATH"))
    #expect(!dynamic.output.contains("RPATH"))
  }

  @Test func valgrindFindsNoMemoryErrorsOrLeaksOverManyCycles() throws {
    let sandbox = try Sandbox(arguments: ["lockout=0"])
    try sandbox.enroll("alice")
    let run = try runCommand(
      "/usr/bin/valgrind",
      [
        "--leak-check=full", "--errors-for-leak-kinds=definite", "--error-exitcode=99", Paths.driver,
        "--confdir", sandbox.confdir, "--user", "alice", "--answer", "000000", "--cycles", "300", "--syslog",
        "/dev/null",
      ])
    #expect(run.status == 0, "\(run.error.suffix(3000))")
    #expect(run.error.contains("ERROR SUMMARY: 0 errors"))
    #expect(run.error.contains("definitely lost: 0 bytes") || run.error.contains("no leaks are possible"))
  }

  @Test func memoryStaysFlatOverTwentyThousandCycles() throws {
    // lockout=0 keeps every cycle on the full path: read, lock, verify, durable write.
    let sandbox = try Sandbox(arguments: ["lockout=0"])
    try sandbox.enroll("alice")
    let run = try runCommand(
      Paths.driver,
      [
        "--confdir", sandbox.confdir, "--user", "alice", "--answer", "000000", "--cycles", "20000", "--syslog",
        "/dev/null",
      ])
    let login = Login(parsing: run)
    #expect(login.result == "PAM_AUTH_ERR")
    let figures = try #require(login.lines.first { $0.hasPrefix("rss_kb ") })
    let kilobytes = figures.split(separator: " ").dropFirst().compactMap { Int($0) }
    try #require(kilobytes.count == 2)
    #expect(kilobytes[1] - kilobytes[0] < 1024, "resident memory grew from \(kilobytes[0]) KiB to \(kilobytes[1]) KiB")
    #expect(try sandbox.record("alice")?.failures == 20000)
  }

  @Test(arguments: ["right", "wrong"])
  func hostProcessIsLeftAsItWas(answer: String) throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = answer == "right" ? try oathtool(secret: Sandbox.secret, at: Self.now) : "000000"
    let login = try sandbox.login(LoginRequest(answers: [code], extraArguments: ["--check-host"], time: Self.now))
    #expect(login.result == (answer == "right" ? "PAM_SUCCESS" : "PAM_AUTH_ERR"))
    #expect(login.lines.contains("host unchanged"), "\(login.lines)")
  }

  @Test func printsNothingOnStandardOutputOrError() throws {
    let sandbox = try Sandbox(arguments: ["debug"])
    try sandbox.enroll("alice")
    let run = try runCommand(
      Paths.driver, ["--confdir", sandbox.confdir, "--user", "alice", "--answer", "000000", "--syslog", sandbox.syslog])
    #expect(run.error.isEmpty)
    #expect(run.output == "prompt echo=off Verification code: \nresult PAM_AUTH_ERR\n")
  }
}
