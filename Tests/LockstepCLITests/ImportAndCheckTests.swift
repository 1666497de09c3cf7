import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("lockstep import and check", .enabled(if: canRunCLITests, "needs root and oathtool"))
struct ImportAndCheckTests {
  /// The RFC 6238 SHA-1 key in hex, as pam_oath's users file holds it.
  let hexSecret = "3132333435363738393031323334353637383930"

  @Test("a file written by Debian's google-authenticator imports with its secret and scratch codes")
  func googleAuthenticator() throws {
    let tool = "/usr/bin/google-authenticator"
    try #require(FileManager.default.isExecutableFile(atPath: tool))
    let store = try TemporaryStore()
    let file = store.root.appendingPathComponent("google_authenticator").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = ["-t", "-d", "-f", "-q", "-C", "-u", "-w", "5", "-e", "3", "-s", file, "-Q", "NONE"]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
    let secret = lines[0]
    let scratch = lines.filter { $0.count == 8 && $0.allSatisfy(\.isNumber) }
    #expect(scratch.count == 3)

    let result = try store.run(["import", "google-authenticator", "alice", file, "--allow-unknown-user", "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try jsonObject(result.stdout)
    #expect(object["backupCodes"] as? Int == 3)
    #expect(object["suggestedWindow"] as? Int == 2)
    let record = try store.record("alice")
    for code in scratch { #expect(!record.contains(code)) }
    #expect(try store.run(["verify", "alice"], input: try totp(secret) + "\n").status == 0)
    #expect(try store.run(["verify", "alice"], input: scratch[1] + "\n").status == 0)
    #expect(try store.run(["verify", "alice"], input: scratch[1] + "\n").status == 1)

    let before = try store.snapshot()
    let again = try store.run(["import", "google-authenticator", "alice", file, "--allow-unknown-user"])
    #expect(again.status == 6)
    #expect(try store.snapshot() == before)
  }

  @Test("a broken google-authenticator file is refused without writing")
  func brokenGoogleAuthenticator() throws {
    let store = try TemporaryStore()
    let file = store.root.appendingPathComponent("bad").path
    try Data("not a secret!\n".utf8).write(to: URL(fileURLWithPath: file))
    let before = try store.snapshot()
    let result = try store.run(["import", "google-authenticator", "alice", file, "--allow-unknown-user"])
    #expect(result.status == 2)
    #expect(result.errorLines.count == 1)
    #expect(try store.snapshot() == before)
  }

  @Test("a pam_oath users file imports HOTP and HOTP/T30 users, counter included")
  func pamOath() throws {
    let store = try TemporaryStore()
    let file = store.root.appendingPathComponent("users.oath").path
    try Data("# pam_oath\nHOTP/T30 bob - \(hexSecret)\nHOTP carol - \(hexSecret) 7\n".utf8)
      .write(to: URL(fileURLWithPath: file))
    let result = try store.run(["import", "pam-oath", file, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let imported = try jsonObject(result.stdout)["imported"] as? [[String: Any]] ?? []
    #expect(imported.map { $0["user"] as? String } == ["bob", "carol"])
    let hotp = try oathtool(["-c", "7", hexSecret]).first ?? ""
    #expect(try store.run(["verify", "carol"], input: hotp + "\n").status == 0)
    let totpCode = try oathtool(["--totp", hexSecret]).first ?? ""
    #expect(try store.run(["verify", "bob"], input: totpCode + "\n").status == 0)

    let before = try store.snapshot()
    #expect(try store.run(["import", "pam-oath", file]).status == 6)
    try Data("HOTP/T30 dave - zz\n".utf8).write(to: URL(fileURLWithPath: file))
    #expect(try store.run(["import", "pam-oath", file]).status == 2)
    #expect(try store.snapshot() == before)
  }

  @Test("check reports an unsafe store and a sufficient module line, and its exit status says how bad")
  func check() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let pam = store.root.appendingPathComponent("pam.d")
    try FileManager.default.createDirectory(at: pam, withIntermediateDirectories: true)
    try Data("auth sufficient pam_lockstep.so nullok\n@include common-auth\n".utf8)
      .write(to: pam.appendingPathComponent("sudo"))
    let sshd = store.root.appendingPathComponent("sshd_config")
    try Data(
      "UsePAM yes\nKbdInteractiveAuthentication yes\nAuthenticationMethods publickey,keyboard-interactive\n".utf8
    ).write(to: sshd)
    let arguments = ["check", "--pam-directory", pam.path, "--sshd-config", sshd.path, "--json"]

    let result = try store.run(arguments)
    #expect([0, 8, 9].contains(result.status), "\(result.stderr)")
    let findings = try jsonObject(result.stdout)["findings"] as? [[String: Any]] ?? []
    let rules = Set(findings.compactMap { $0["rule"] as? String })
    #expect(rules.contains { $0.hasPrefix("pam.") && $0 != "pam.not-loaded" })
    #expect(!rules.contains("store.unusable"))
    #expect(findings.allSatisfy { $0["fix"] is String && $0["severity"] is String })

    #expect(chmod(store.path, 0o777) == 0)
    let unsafe = try store.run(arguments)
    #expect(unsafe.status == 9)
    let unsafeRules = (try jsonObject(unsafe.stdout)["findings"] as? [[String: Any]] ?? []).compactMap {
      $0["rule"] as? String
    }
    #expect(unsafeRules.contains("store.unusable"))
  }

  @Test("check warns of a store that others can read, and of one below a directory anyone can write to")
  func checkExposure() throws {
    // TemporaryStore lies below /tmp, which is sticky and writable by anyone.
    let store = try TemporaryStore()
    func rules(_ run: CLIRun) throws -> [String: String] {
      let findings = try jsonObject(run.stdout)["findings"] as? [[String: Any]] ?? []
      var result: [String: String] = [:]
      for finding in findings {
        if let rule = finding["rule"] as? String { result[rule] = finding["severity"] as? String }
      }
      return result
    }
    let arguments = ["check", "--pam-directory", store.root.path, "--sshd-config", "/nonexistent", "--json"]
    let below = try rules(try store.run(arguments))
    #expect(below["store.below-writable"] == "warning", "\(below)")
    #expect(below["store.readable"] == nil)
    #expect(chmod(store.path, 0o755) == 0)
    #expect(try rules(try store.run(arguments))["store.readable"] == "warning")
    // A store below directories only root can write to draws neither warning.
    let safe = "/run/lockstep-check-\(UUID().uuidString)"
    #expect(mkdir(safe, 0o700) == 0)
    defer { rmdir(safe) }
    let quiet = try rules(try CLI.run(arguments + ["--store", safe]))
    #expect(quiet["store.below-writable"] == nil && quiet["store.readable"] == nil, "\(quiet)")
  }

  /// A directory with the PAM files `files` (name → text), and an sshd_config check accepts.
  private func setup(_ store: TemporaryStore, _ files: [String: String]) throws -> [String] {
    let pam = store.root.appendingPathComponent("pam.d")
    try FileManager.default.createDirectory(at: pam, withIntermediateDirectories: true)
    for (name, text) in files { try Data(text.utf8).write(to: pam.appendingPathComponent(name)) }
    let sshd = store.root.appendingPathComponent("sshd_config")
    try Data(
      "UsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication no\nAuthenticationMethods keyboard-interactive\n"
        .utf8
    ).write(to: sshd)
    return ["check", "--pam-directory", pam.path, "--sshd-config", sshd.path]
  }

  @Test("check lists each service that loads the module and how, with its arguments")
  func listsServices() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let arguments = try setup(
      store,
      [
        "sudo": "auth requisite pam_lockstep.so window=2\n@include common-auth\n",
        "sshd": "auth [success=ok default=bad] /lib/security/pam_lockstep.so\n", "other": "@include common-auth\n",
      ])
    let result = try store.run(arguments + ["--json"])
    let findings = try jsonObject(result.stdout)["findings"] as? [[String: Any]] ?? []
    let loaded = findings.filter { $0["rule"] as? String == "pam.loaded" }.compactMap { $0["message"] as? String }
    #expect(
      loaded.sorted() == [
        "The sshd service loads the module as 'auth [success=ok default=bad]', with no arguments.",
        "The sudo service loads the module as 'auth requisite', with window=2.",
      ])
    // Nothing else is wrong, but for what the machine and the test's store place may add: an
    // unsynchronised clock, and a store below /tmp.
    let expected: Set<String> = ["clock.unsynchronised", "store.below-writable"]
    let worse = findings.filter {
      $0["severity"] as? String != "info" && !expected.contains($0["rule"] as? String ?? "")
    }
    #expect(worse.isEmpty, "\(result.stdout)")
  }

  @Test("nullok is a warning where a password alone lets an unenrolled user in, and information otherwise")
  func nullokSeverity() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let arguments = try setup(
      store,
      [
        "sshd": "@include common-auth\nauth required pam_lockstep.so nullok\n",
        "sudo": "auth required pam_lockstep.so nullok\n",
      ])
    let findings = try jsonObject(try store.run(arguments + ["--json"]).stdout)["findings"] as? [[String: Any]] ?? []
    let nullok = findings.filter { $0["rule"] as? String == "pam.nullok" }.map {
      "\(($0["file"] as? String ?? "").split(separator: "/").last ?? "") \($0["severity"] as? String ?? "")"
    }
    #expect(nullok.sorted() == ["sshd warning", "sudo info"])
  }

  @Test("check's text output gives a fix for warnings and errors, not for information")
  func fixLines() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let arguments = try setup(store, ["sudo": "auth sufficient pam_lockstep.so\n"])
    let lines = try store.run(arguments).stdout.split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.hasPrefix("info: ") && $0.contains("The store holds 1 usable enrollment.") })
    #expect(lines.contains { $0.hasPrefix("error: ") && $0.contains(":1: A correct code alone") })
    for (index, line) in lines.enumerated() where !line.hasPrefix("  ") {
      let hasFix = index + 1 < lines.count && lines[index + 1].hasPrefix("  fix: ")
      #expect(hasFix == !line.hasPrefix("info: "), "\(line)")
    }
  }

  @Test("check on a PAM directory that does not exist is a usage error")
  func missingPamDirectory() throws {
    let store = try TemporaryStore()
    let result = try store.run(["check", "--pam-directory", store.root.path + "/nowhere"])
    #expect(result.status == 2)
    #expect(
      result.errorLines == [
        "lockstep: cannot read the PAM directory \(store.root.path)/nowhere: No such file or directory."
      ])
    #expect(result.stdout.isEmpty)
  }

  @Test("check notes state files left by revoke, and --prune removes them under the lock")
  func stateFilesWithoutRecord() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    try store.enroll("bob", secret: knownSecret)
    #expect(try store.run(["revoke", "bob"]).status == 0)
    #expect(FileManager.default.fileExists(atPath: store.path + "/.bob.state"))
    let arguments = try setup(store, ["sudo": "auth required pam_lockstep.so\n"])
    let findings = try jsonObject(try store.run(arguments + ["--json"]).stdout)["findings"] as? [[String: Any]] ?? []
    let orphans = findings.filter { $0["rule"] as? String == "store.state-without-record" }
    #expect(orphans.compactMap { $0["file"] as? String } == [store.path + "/.bob.state"])
    #expect(orphans.first?["severity"] as? String == "info")

    let pruned = try store.run(arguments + ["--prune"])
    #expect(pruned.stdout.contains("Removed \(store.path)/.bob.state"))
    #expect(!FileManager.default.fileExists(atPath: store.path + "/.bob.state"))
    #expect(FileManager.default.fileExists(atPath: store.path + "/.alice.state"))
    #expect(try store.run(["status", "alice"]).status == 0)
    let after = try jsonObject(try store.run(arguments + ["--json"]).stdout)["findings"] as? [[String: Any]] ?? []
    #expect(!after.contains { $0["rule"] as? String == "store.state-without-record" })
  }

  @Test("verify --dry-run says which failure a wrong code would be, and records none")
  func dryRunWording() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let wrong = String(format: "%06d", ((Int(try totp(knownSecret)) ?? 0) + 500_000) % 1_000_000)
    let result = try store.run(["verify", "alice", "--dry-run"], input: wrong + "\n")
    #expect(result.status == 1)
    #expect(result.stdout == "Refused: the code is wrong (it would be failure 1). (Dry run: nothing was recorded.)\n")
    #expect(
      try store.run(["unlock", "alice"]).stdout
        == "Unlocked alice (it had 0 consecutive failures and was not locked).\n")
    _ = try store.run(["verify", "alice"], input: wrong + "\n")
    #expect(
      try store.run(["unlock", "alice"]).stdout == "Unlocked alice (it had 1 consecutive failure and was not locked).\n"
    )
  }
}
