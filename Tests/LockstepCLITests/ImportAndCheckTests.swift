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
}
