import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("lockstep enroll", .enabled(if: canRunCLITests, "needs root and oathtool"))
struct EnrollTests {
  @Test("a known secret from standard input works with oathtool's codes, once")
  func knownSecretVerifies() throws {
    let store = try TemporaryStore()
    let codes = try store.enroll("alice", secret: knownSecret)
    #expect(codes.count == 10)
    #expect(codes.allSatisfy { $0.count == 8 && $0.allSatisfy(\.isNumber) })
    let record = try store.record("alice")
    #expect(record.contains("secret \(knownSecret)\n"))
    #expect(record.components(separatedBy: "backup-code ").count - 1 == 10)
    for code in codes { #expect(!record.contains(code)) }
    var st = stat()
    #expect(stat(store.path + "/alice", &st) == 0)
    #expect(st.st_mode & 0o777 == 0o600)

    let code = try totp(knownSecret)
    let accepted = try store.run(["verify", "alice"], input: code + "\n")
    #expect(accepted.status == 0, "\(accepted.stderr)")
    let replayed = try store.run(["verify", "alice"], input: code + "\n")
    #expect(replayed.status == 1)
    #expect(replayed.stdout.contains("already used"))
  }

  @Test("a confirmed enrollment uses up the confirmation code")
  func confirmationConsumesCode() throws {
    let store = try TemporaryStore()
    let code = try totp(knownSecret)
    let result = try store.run(
      ["enroll", "alice", "--allow-unknown-user", "--secret-file", "-", "--qr", "none"],
      input: "\(knownSecret)\n\(code)\n")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("otpauth://totp/"))
    #expect(try store.record("alice").contains("last-step ") && !(try store.record("alice").contains("last-step none")))
    let replay = try store.run(["verify", "alice", "--dry-run"], input: code + "\n")
    #expect(replay.status == 1)
  }

  @Test("a wrong confirmation code saves nothing")
  func wrongConfirmation() throws {
    let store = try TemporaryStore()
    let before = try store.snapshot()
    let code = try totp(knownSecret)
    let wrong = String(format: "%06d", ((Int(code) ?? 0) + 1) % 1_000_000)
    let result = try store.run(
      ["enroll", "alice", "--allow-unknown-user", "--secret-file", "-", "--qr", "none"],
      input: "\(knownSecret)\n\(wrong)\n")
    #expect(result.status == 1)
    #expect(result.errorLines.count == 1)
    #expect(result.errorLines.first?.hasPrefix("lockstep: the code is wrong") == true)
    #expect(try store.snapshot() == before)
  }

  @Test("an existing enrollment is kept unless --force is given")
  func existingEnrollment() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let before = try store.snapshot()
    let refused = try store.run(["enroll", "alice", "--allow-unknown-user", "--no-confirm", "--qr", "none"])
    #expect(refused.status == 6)
    #expect(refused.errorLines == ["lockstep: alice is already enrolled; use --force to replace the enrollment."])
    #expect(try store.snapshot() == before)

    let forced = try store.run(["enroll", "alice", "--allow-unknown-user", "--no-confirm", "--force", "--json"])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(!(try store.record("alice").contains(knownSecret)))
  }

  @Test("malformed and too-short secrets are refused without writing", arguments: ["not base32!", "JBSWY3DP", ""])
  func malformedSecret(secret: String) throws {
    let store = try TemporaryStore()
    let before = try store.snapshot()
    let result = try store.run(
      ["enroll", "alice", "--allow-unknown-user", "--secret-file", "-", "--no-confirm"], input: secret + "\n")
    #expect(result.status == 2)
    #expect(result.errorLines.count == 1)
    #expect(result.errorLines.first?.hasPrefix("lockstep: ") == true)
    #expect(try store.snapshot() == before)
  }

  @Test("a secret file, SHA-256 in any case, and 8 digits match oathtool")
  func secretFileAndParameters() throws {
    let store = try TemporaryStore()
    let file = store.root.appendingPathComponent("secret").path
    try Data("  \(knownSecret.lowercased())\n".utf8).write(to: URL(fileURLWithPath: file))
    let result = try store.run([
      "enroll", "bob", "--allow-unknown-user", "--secret-file", file, "--algorithm", "ShA256", "--digits", "8",
      "--no-confirm", "--json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try jsonObject(result.stdout)
    #expect(object["algorithm"] as? String == "SHA256")
    #expect((object["uri"] as? String)?.contains("algorithm=SHA256&digits=8&period=30") == true)
    let code = try totp(knownSecret, algorithm: "sha256", digits: 8)
    #expect(try store.run(["verify", "bob"], input: code + "\n").status == 0)
  }

  @Test("the URI percent-encodes issuer and label")
  func uriEncoding() throws {
    let store = try TemporaryStore()
    let result = try store.run(
      [
        "enroll", "alice", "--allow-unknown-user", "--secret-file", "-", "--no-confirm", "--json", "--issuer",
        "ACME Co: Zürich",
        "--label", "alice@example.com",
      ], input: knownSecret + "\n")
    #expect(result.status == 0, "\(result.stderr)")
    let object = try jsonObject(result.stdout)
    #expect(
      object["uri"] as? String
        == "otpauth://totp/ACME%20Co%3A%20Z%C3%BCrich:alice%40example.com?secret=\(knownSecret)"
        + "&issuer=ACME%20Co%3A%20Z%C3%BCrich&algorithm=SHA1&digits=6&period=30")
    #expect((object["backupCodes"] as? [String])?.count == 10)
  }

  @Test("--json output escapes quotes, backslashes and control characters, and keeps the rest as it is")
  func jsonEscaping() throws {
    let store = try TemporaryStore()
    let issuer = "Q\"uote \\back\ttab/slash Zürich \u{1}"
    let result = try store.run(
      ["enroll", "alice", "--allow-unknown-user", "--secret-file", "-", "--no-confirm", "--json", "--issuer", issuer],
      input: knownSecret + "\n")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try jsonObject(result.stdout)["issuer"] as? String == issuer)
    #expect(result.stdout.contains(#""issuer" : "Q\"uote \\back\ttab/slash Zürich \u0001""#))
    #expect(result.stdout.contains(#""confirmed" : false"#))
  }

  @Test("a generated secret is 160 bits and its codes verify")
  func generatedSecret() throws {
    let store = try TemporaryStore()
    let result = try store.run(["enroll", "carol", "--allow-unknown-user", "--no-confirm", "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let uri = try jsonObject(result.stdout)["uri"] as? String ?? ""
    let secret = uri.components(separatedBy: "secret=").last?.components(separatedBy: "&").first ?? ""
    #expect(secret.count == 32)
    #expect(try store.run(["verify", "carol"], input: try totp(secret) + "\n").status == 0)
  }

  @Test("an HOTP enrollment verifies oathtool's counter codes and moves the counter")
  func hotp() throws {
    let store = try TemporaryStore()
    try store.enroll("dave", secret: knownSecret, extra: ["--hotp"])
    let code = try oathtool(["-b", "-c", "3", knownSecret]).first ?? ""
    #expect(try store.run(["verify", "dave"], input: code + "\n").status == 0)
    let status = try jsonObject(try store.run(["status", "dave", "--json"]).stdout)
    #expect(status["kind"] as? String == "hotp")
    #expect(status["counter"] as? Int == 4)
  }

  @Test("the terminal QR code decodes back to the exact URI")
  func qrCodeDecodes() throws {
    try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/zbarimg"))
    let store = try TemporaryStore()
    let result = try store.run(
      [
        "enroll", "alice", "--allow-unknown-user", "--secret-file", "-", "--no-confirm", "--qr", "utf8", "--issuer",
        "Lockstep Test",
      ],
      input: knownSecret + "\n")
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let uriIndex = try #require(lines.firstIndex { $0.hasPrefix("otpauth://") })
    let decoded = try decodeQR(Array(lines[..<uriIndex]))
    #expect(decoded == lines[uriIndex])

    // --qr ansi draws the dark modules, black on white: without its colour codes it is the
    // utf8 drawing inverted (except below the last row, which lies outside the code in both).
    let export = try store.run(["export", "alice", "--uri", "--qr", "ansi", "--issuer", "Lockstep Test"])
    #expect(export.status == 0)
    let ansiLines = export.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("\u{1B}[") }
    #expect(!ansiLines.isEmpty)
    let inverted: [Character: Character] = [
      "\u{2588}": " ", " ": "\u{2588}", "\u{2580}": "\u{2584}", "\u{2584}": "\u{2580}",
    ]
    let plain = ansiLines.map { line in
      String(
        line.replacingOccurrences(of: "\u{1B}[30;47m", with: "").replacingOccurrences(of: "\u{1B}[0m", with: "")
          .map { inverted[$0] ?? $0 })
    }
    #expect(try decodeQR(plain) == lines[uriIndex])
  }

  @Test("a name that is not an account on this host is refused unless --allow-unknown-user is given")
  func unknownUser() throws {
    let store = try TemporaryStore()
    let before = try store.snapshot()
    let name = "nosuchuser\(getpid())"
    let refused = try store.run(["enroll", name, "--no-confirm"])
    #expect(refused.status == 2)
    #expect(refused.errorLines.count == 1)
    #expect(refused.errorLines.first?.hasPrefix("lockstep: \(name) is not a user on this host") == true)
    #expect(refused.stderr.contains("--allow-unknown-user"))
    #expect(try store.snapshot() == before)
    let imported = try store.run(["import", "google-authenticator", name, "/dev/null"])
    #expect(imported.status == 2)
    #expect(imported.errorLines.first?.hasPrefix("lockstep: \(name) is not a user on this host") == true)

    // An account the system knows needs no flag; an unknown one is enrolled with it.
    #expect(try store.run(["enroll", "nobody", "--no-confirm", "--json"]).status == 0)
    #expect(try store.run(["enroll", name, "--no-confirm", "--allow-unknown-user", "--json"]).status == 0)
    #expect(try store.run(["status", name]).status == 0)
    #expect(try CLI.run(["help", "enroll"]).stdout.contains("--allow-unknown-user"))
  }

  @Test("after a confirmed enrollment, the user is told to wait for the next code")
  func confirmedEnrollmentSaysToWait() throws {
    let store = try TemporaryStore()
    let result = try store.run(
      ["enroll", "alice", "--allow-unknown-user", "--secret-file", "-", "--qr", "none"],
      input: "\(knownSecret)\n\(try totp(knownSecret))\n")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("wait for the app's next code"))
    let unconfirmed = try store.run(["enroll", "bob", "--allow-unknown-user", "--no-confirm", "--qr", "none"])
    #expect(unconfirmed.status == 0)
    #expect(!unconfirmed.stdout.contains("next code"))
  }
}

/// Decodes a half-block rendering (light modules drawn, as `--qr utf8` does) with zbarimg,
/// through the tests' `qr-text.py`.
func decodeQR(_ lines: [String]) throws -> String {
  let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("PamModuleTests/StandIns/qr-text.py").path
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
  process.arguments = [script]
  let input = Pipe()
  let output = Pipe()
  process.standardInput = input
  process.standardOutput = output
  try process.run()
  input.fileHandleForWriting.write(Data(lines.joined(separator: "\n").utf8))
  try input.fileHandleForWriting.close()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
}
