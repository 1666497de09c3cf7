import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
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

  @Test func staysResidentAndNeedsOnlyLibcLibpamAndLibnettle() throws {
    // Embedded Swift: no Swift runtime, no libstdc++, no libcrypto (see ARCHITECTURE.md).
    let dynamic = try runCommand("/usr/bin/readelf", ["-d", Paths.module])
    #expect(dynamic.output.contains("NODELETE"))
    let needed = dynamic.output.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line in
      line.split(separator: "[").last?.split(separator: "]").first.map(String.init)
    }
    #expect(needed.sorted() == ["libc.so.6", "libnettle.so.8", "libpam.so.0"])
  }

  @Test func readsNoEnvironmentVariable() throws {
    // Inside sudo the environment is the caller's: nothing in the image may look at it.
    let nm = try runCommand("/usr/bin/nm", ["-D", "--undefined-only", Paths.module])
    #expect(nm.status == 0)
    let names = nm.output.split(separator: "\n").compactMap {
      $0.split(separator: " ").last?.split(separator: "@").first
    }
    #expect(!names.isEmpty)
    let environment = names.filter {
      ["getenv", "secure_getenv", "environ", "__environ", "setenv", "putenv"].contains(String($0))
    }
    #expect(environment.isEmpty, "\(environment)")
  }

  @Test func hasNoRunPathToSearchForLibraries() throws {
    // A RUNPATH such as $ORIGIN would make the loader look for libcrypto and libpam beside
    // the module, in the PAM directory, before the system's library directories.
    let dynamic = try runCommand("/usr/bin/readelf", ["-d", Paths.module])
    #expect(!dynamic.output.contains("RUNPATH"))
    #expect(!dynamic.output.contains("RPATH"))
  }

  @Test func valgrindFindsNoMemoryErrorsOrLeaksOverAThousandCycles() throws {
    // The real clock (libfaketime under valgrind would be checked too): the first cycle's code
    // is accepted, the other 999 are replays, each read, locked, verified and written.
    let sandbox = try Sandbox(arguments: ["lockout=0"])
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret)
    let run = try runCommand(
      "/usr/bin/valgrind",
      ["--leak-check=full", "--errors-for-leak-kinds=definite", "--error-exitcode=99", Paths.driver]
        + sandbox.driverArguments(LoginRequest(answers: [code], rhost: nil)) + ["--cycles", "1000"])
    #expect(run.status == 0, "\(run.error.suffix(3000))")
    #expect(run.error.contains("ERROR SUMMARY: 0 errors"))
    #expect(run.error.contains("definitely lost: 0 bytes") || run.error.contains("no leaks are possible"))
    let log = sandbox.logLines()
    #expect(log.filter { $0.contains("accepted verification code") }.count == 1)
    #expect(log.filter { $0.contains("replayed verification code") }.count == 999)
  }

  @Test func memoryStaysFlatOverTwentyThousandCycles() throws {
    // lockout=0 keeps every cycle on the full path: read, lock, verify, durable write.
    let sandbox = try Sandbox(arguments: ["lockout=0"])
    try sandbox.enroll("alice")
    let run = try runCommand(
      Paths.driver,
      [
        "--confdir", sandbox.confdir, "--user", "alice", "--answer", "000000", "--cycles", "20000", "--syslog",
        sandbox.syslog,
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
    // Signal handlers and mask, umask, user and group ids, working directory, limits, the
    // dumpable flag, standard input, output and error, and the set of open descriptors.
    #expect(login.lines.contains("host unchanged"), "\(login.lines)")
    // Every descriptor the module held at the prompt, when it locked, synced and renamed, and
    // when it logged, was close-on-exec; and those checks saw the files it writes.
    #expect(!login.lines.contains { $0.contains("without O_CLOEXEC") }, "\(login.lines)")
    let inspected = try #require(login.lines.first { $0.hasPrefix("descriptors inspected ") })
    let seen = inspected.split(separator: " ").dropFirst(5).map(String.init)
    #expect(seen.contains(sandbox.store), "\(inspected)")
    #expect(seen.contains { $0.hasPrefix(sandbox.store + "/.alice") }, "no check while the user's files were open")
  }

  /// A secret and backup codes that appear nowhere else in the driver's memory.
  static let scanned: (secret: String, backupCode: String, backupHashes: BackupCodeHashes) = {
    let crypto = LibCrypto()
    let secret = Base32.encode(crypto.randomBytes(count: 20) ?? [])
    let codes = BackupCodeHashes.generateCodes(count: 2, crypto: crypto) ?? []
    let hashes = BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto) ?? .none
    return (secret, String(decoding: codes.first ?? [], as: UTF8.self), hashes)
  }()

  @Test(arguments: ["the right code", "a wrong code", "a backup code"])
  func secretAndCodesAreGoneFromMemoryAfterTheLogin(answer: String) throws {
    let (secret, backupCode, hashes) = Self.scanned
    let sandbox = try Sandbox()
    try sandbox.enroll("scanprobe", secret: secret) { $0.backupCodes = hashes }
    // The codes of the window the module computes, and the answer typed.
    let window = try [-30, 0, 30].map { try oathtool(secret: secret, at: Self.now + Int64($0)) }
    let wrong = String(format: "%06d", ((Int(window[1]) ?? 0) + 500_000) % 1_000_000)
    let typed = ["the right code": window[1], "a wrong code": wrong, "a backup code": backupCode][answer] ?? ""
    let key = try #require(Base32.decode(secret)).withUnsafeBytes { Array($0) }
    let secrets = [hex(secret), key.map { String(format: "%02x", $0) }.joined(), hex(typed)] + window.map { hex($0) }
    // The user's name is left in libpam's freed memory: it shows the scan sees the heap.
    let login = try sandbox.login(
      LoginRequest(
        user: "scanprobe", answers: [typed],
        extraArguments: (secrets + [hex("scanprobe")]).flatMap { ["--scan-for", $0] }, time: Self.now))
    #expect(login.result == (answer == "a wrong code" ? "PAM_AUTH_ERR" : "PAM_SUCCESS"))
    #expect(login.lines.contains { $0.hasPrefix("scan found \(hex("scanprobe")) ") }, "the scan saw nothing")
    let found = login.lines.filter { line in line.hasPrefix("scan found") && secrets.contains { line.contains($0) } }
    #expect(found.isEmpty, "left in memory: \(found)")
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
