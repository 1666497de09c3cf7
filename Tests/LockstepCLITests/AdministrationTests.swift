import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite(
  "lockstep list, status, revoke, unlock, backup-codes, verify, resync, export",
  .enabled(if: canRunCLITests, "needs root and oathtool"))
struct AdministrationTests {
  @Test("list and status print JSON of the documented shape, never a secret")
  func listAndStatusJSON() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    try store.enroll("bob", secret: knownSecret, extra: ["--hotp", "--digits", "8"])

    let list = try store.run(["list", "--json"])
    #expect(list.status == 0)
    #expect(!list.stdout.contains(knownSecret))
    let array = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    #expect(array.map { $0["user"] as? String } == ["alice", "bob"])
    let alice = array[0]
    #expect(alice["kind"] as? String == "totp")
    #expect(alice["algorithm"] as? String == "SHA1")
    #expect(alice["digits"] as? Int == 6)
    #expect(alice["period"] as? Int == 30)
    #expect(alice["failures"] as? Int == 0)
    #expect(alice["locked"] as? Bool == false)
    #expect(alice["lockedUntil"] is NSNull)
    #expect(alice["lastSuccess"] is NSNull)
    #expect(alice["enrolled"] as? Int ?? 0 > 1_700_000_000)
    #expect(alice["backupCodesRemaining"] as? Int == 10)
    #expect(array[1]["kind"] as? String == "hotp")
    #expect(array[1]["counter"] as? Int == 0)

    let status = try store.run(["status", "bob", "--json"])
    #expect(status.status == 0)
    let object = try jsonObject(status.stdout)
    #expect(object["user"] as? String == "bob")
    #expect(object["digits"] as? Int == 8)

    let table = try store.run(["list"])
    #expect(table.status == 0)
    #expect(table.stdout.hasPrefix("USER"))
    #expect(table.stdout.contains("alice  totp  SHA1/6/30s"))
    let text = try store.run(["status", "alice"])
    #expect(text.stdout.contains("locked until:") && text.stdout.contains("not locked"))
  }

  @Test("revoke removes the record; the user is then not enrolled")
  func revoke() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let result = try store.run(["revoke", "alice"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: store.path + "/alice"))
    #expect(try store.run(["status", "alice"]).status == 3)
    #expect(try store.run(["verify", "alice"], input: try totp(knownSecret) + "\n").status == 3)
  }

  @Test("unlock clears a lockout so the next code is checked")
  func unlock() throws {
    let store = try TemporaryStore()
    try store.writeRecord(
      "alice",
      "lockstep-record 1\nkind totp\nalgorithm SHA1\ndigits 6\nperiod 30\nsecret \(knownSecret)\n"
        + "failures 5\nlocked-until 99999999999\n")
    let code = try totp(knownSecret)
    let locked = try store.run(["verify", "alice", "--json"], input: code + "\n")
    #expect(locked.status == 1)
    #expect(try jsonObject(locked.stdout)["result"] as? String == "locked-out")
    #expect(try jsonObject(try store.run(["status", "alice", "--json"]).stdout)["locked"] as? Bool == true)

    let result = try store.run(["unlock", "alice"])
    #expect(result.status == 0, "\(result.stderr)")
    let status = try jsonObject(try store.run(["status", "alice", "--json"]).stdout)
    #expect(status["locked"] as? Bool == false)
    #expect(status["failures"] as? Int == 0)
    #expect(try store.run(["verify", "alice"], input: code + "\n").status == 0)
  }

  @Test("backup-codes replaces the old codes; the new ones work once each")
  func backupCodes() throws {
    let store = try TemporaryStore()
    let old = try store.enroll("alice", secret: knownSecret)
    #expect(try store.run(["verify", "alice", "--dry-run"], input: old[0] + "\n").status == 0)
    let result = try store.run(["backup-codes", "alice", "--count", "3", "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let new = try jsonObject(result.stdout)["backupCodes"] as? [String] ?? []
    #expect(new.count == 3)
    #expect(try store.record("alice").contains("secret \(knownSecret)"))
    #expect(try store.run(["verify", "alice"], input: old[0] + "\n").status == 1)
    let accepted = try store.run(["verify", "alice", "--json"], input: new[1] + "\n")
    #expect(accepted.status == 0)
    #expect(try jsonObject(accepted.stdout)["backupCodesRemaining"] as? Int == 2)
    #expect(try store.run(["verify", "alice"], input: new[1] + "\n").status == 1)
  }

  @Test("verify --dry-run checks without consuming; a wrong code counts as a failure")
  func verifyDryRun() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let before = try store.snapshot()
    let code = try totp(knownSecret)
    #expect(try store.run(["verify", "alice", "--dry-run"], input: code + "\n").status == 0)
    #expect(try store.run(["verify", "alice", "--dry-run"], input: code + "\n").status == 0)
    #expect(try store.snapshot() == before)
    let notACode = try store.run(["verify", "alice", "--json"], input: "password\n")
    #expect(notACode.status == 1)
    #expect(try jsonObject(notACode.stdout)["result"] as? String == "not-a-code")
    #expect(try jsonObject(notACode.stdout)["recorded"] as? Bool == false)
    let wrongCode = String(format: "%06d", ((Int(code) ?? 0) + 1) % 1_000_000)
    let wrong = try store.run(["verify", "alice", "--json"], input: wrongCode + "\n")
    #expect(wrong.status == 1)
    #expect(try jsonObject(wrong.stdout)["result"] as? String == "wrong-code")
    #expect(try jsonObject(try store.run(["status", "alice", "--json"]).stdout)["failures"] as? Int == 1)
    #expect(try store.run(["verify", "alice"], input: code + "\n").status == 0)
  }

  @Test("resync records a TOTP clock offset from two consecutive codes")
  func resyncTOTP() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    // The device runs 20 steps (10 minutes) ahead.
    let now = Int(time(nil))
    let step = now / 30 + 20
    let first = try totp(knownSecret, at: (step - 1) * 30)
    let second = try totp(knownSecret, at: step * 30)
    #expect(try store.run(["verify", "alice", "--dry-run"], input: second + "\n").status == 1)
    let result = try store.run(["resync", "alice"], input: "\(first)\n\(second)\n")
    #expect(result.status == 0, "\(result.stderr)")
    let status = try jsonObject(try store.run(["status", "alice", "--json"]).stdout)
    let offset = status["offset"] as? Int ?? 0
    #expect((19...21).contains(offset))
    // The resync codes are used up; the device's next code works.
    #expect(try store.run(["verify", "alice"], input: second + "\n").status == 1)
    let next = try totp(knownSecret, at: (Int(time(nil)) / 30 + offset + 1) * 30)
    #expect(try store.run(["verify", "alice"], input: next + "\n").status == 0)
  }

  @Test("resync moves a drifted HOTP counter past two consecutive codes")
  func resyncHOTP() throws {
    let store = try TemporaryStore()
    try store.enroll("bob", secret: knownSecret, extra: ["--hotp"])
    let codes = try oathtool(["-b", "-c", "500", "-w", "2", knownSecret])
    #expect(try store.run(["verify", "bob", "--dry-run"], input: codes[0] + "\n").status == 1)
    let result = try store.run(["resync", "bob"], input: "\(codes[0])\n\(codes[1])\n")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try jsonObject(try store.run(["status", "bob", "--json"]).stdout)["counter"] as? Int == 502)
    #expect(try store.run(["verify", "bob"], input: codes[2] + "\n").status == 0)

    let before = try store.snapshot()
    let unknown = try store.run(["resync", "bob"], input: "\(codes[0])\n\(codes[1])\n")
    #expect(unknown.status == 1)
    #expect(try store.snapshot() == before)
  }

  @Test("export shows the URI only with --uri, with a warning")
  func export() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let refused = try store.run(["export", "alice"])
    #expect(refused.status == 2)
    #expect(refused.stdout.isEmpty)
    let result = try store.run(["export", "alice", "--uri", "--issuer", "Example"])
    #expect(result.status == 0)
    #expect(result.stderr.contains("warning: anyone who sees this URI"))
    #expect(
      result.stdout.trimmingCharacters(in: .newlines)
        == "otpauth://totp/Example:alice?secret=\(knownSecret)&issuer=Example&algorithm=SHA1&digits=6&period=30")
  }
}
