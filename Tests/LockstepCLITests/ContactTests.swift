import Foundation
import Testing

/// `enroll --email` and `--sms` without the agent (`--no-confirm`), and what the other commands
/// do with an address: status masks it, revoke --contact removes it alone, export and resync
/// refuse a user who has no app.
@Suite(
  "lockstep enroll --email/--sms, status, revoke --contact", .enabled(if: canRunCLITests, "needs root and oathtool"))
struct ContactTests {
  @Test func anAddressAloneMakesARecordWithNoSecret() throws {
    let store = try TemporaryStore()
    let enroll = try store.run([
      "enroll", "carol", "--sms", "+447700900123", "--no-confirm", "--allow-unknown-user", "--json",
    ])
    #expect(enroll.status == 0, "\(enroll.stderr)")
    let object = try jsonObject(enroll.stdout)
    #expect(object["contact"] as? String == "+44 •••• ••0123")
    #expect(object["alone"] as? Bool == true)
    #expect((object["backupCodes"] as? [String])?.count == 10)
    let record = try store.record("carol")
    #expect(record.contains("kind delivered\n") && record.contains("sms +447700900123\n"))
    #expect(!record.contains("secret"))

    let status = try store.run(["status", "carol"])
    #expect(status.stdout.contains("SMS:") && status.stdout.contains("+44 •••• ••0123"), "\(status.stdout)")
    #expect(!status.stdout.contains("900123"))

    for command in [["export", "carol", "--uri"], ["resync", "carol"]] {
      let refused = try store.run(command)
      #expect(refused.status != 0)
      #expect(refused.stderr.contains("sent to them"), "\(command): \(refused.stderr)")
    }
    let revoke = try store.run(["revoke", "carol", "--contact"])
    #expect(revoke.status != 0)
    #expect(revoke.stderr.contains("revoke the whole enrollment instead"))
  }

  @Test func anAddressBesideAnAppIsAddedAndRemovedAlone() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let before = try store.record("alice")
    let add = try store.run(["enroll", "alice", "--email", "alice@example.com", "--no-confirm", "--allow-unknown-user"])
    #expect(add.status == 0, "\(add.stderr)")
    #expect(add.stdout.contains("can now also be sent by email to a•••@example.com"))
    let withAddress = try store.record("alice")
    #expect(withAddress.contains("email alice@example.com\n"))
    #expect(withAddress.contains("secret \(knownSecret)\n"), "the app's secret stays")

    let status = try store.run(["status", "alice", "--json"])
    let contact = try #require(try jsonObject(status.stdout)["contact"] as? [String: Any])
    #expect(contact["channel"] as? String == "email" && contact["address"] as? String == "a•••@example.com")

    let remove = try store.run(["revoke", "alice", "--contact"])
    #expect(remove.status == 0, "\(remove.stderr)")
    #expect(remove.stdout.contains("Removed alice's email address a•••@example.com"))
    let after = try store.record("alice")
    #expect(!after.contains("email"))
    #expect(after.contains("secret \(knownSecret)\n"))
    #expect(before.contains("backup-code") && after.components(separatedBy: "backup-code ").count == 11)
  }

  @Test func addressesAreCheckedBeforeAnythingIsWritten() throws {
    let store = try TemporaryStore()
    let before = try store.snapshot()
    for (arguments, message) in [
      (["--email", "alice@example.com\r\nBcc: x@y"], "is not an email address lockstep sends to"),
      (["--sms", "07700900123"], "--sms needs a number in E.164 form"),
      (["--email", "a@example.com", "--sms", "+447700900123"], "give --email or --sms, not both"),
      (["--email", "a@example.com", "--hotp"], "are for an authenticator app"),
    ] {
      let result = try store.run(["enroll", "dave", "--no-confirm", "--allow-unknown-user"] + arguments)
      #expect(result.status == 64 || result.status == 2, "\(arguments): \(result.status)")
      #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
    }
    #expect(try store.snapshot() == before)
  }

  @Test func checkJudgesTheDeliverySettings() throws {
    let store = try TemporaryStore()
    let config = store.root.path + "/lockstepd.conf"
    func rules(_ lines: [String]) throws -> [String: String] {
      let text = (["store = \(store.path)", "host-key = \(store.root.path)/host.key"] + lines).joined(separator: "\n")
      #expect(
        FileManager.default.createFile(
          atPath: config, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
      let run = try CLI.run([
        "check", "--config", config, "--pam-directory", store.root.path, "--sshd-config", "/nonexistent", "--json",
      ])
      var result: [String: String] = [:]
      for finding in try jsonObject(run.stdout)["findings"] as? [[String: Any]] ?? [] {
        if let rule = finding["rule"] as? String { result[rule] = finding["severity"] as? String }
      }
      return result
    }
    let twilio = [
      "sms = twilio", "twilio-account-sid = AC0123456789abcdef0123456789abcdef",
      "twilio-auth-token-file = /etc/lockstep/twilio.token", "twilio-from = +15005550006",
    ]
    let open = try rules(twilio)
    #expect(open["delivery.host-key"] == "error", "\(open)")
    #expect(open["delivery.sms-countries"] == "warning")
    #expect(open["delivery.email"] == nil)
    #expect(FileManager.default.createFile(atPath: store.root.path + "/host.key", contents: Data(count: 32)))
    let closed = try rules(twilio + ["sms-countries = 44", "email = sendmail", "email-from = login@example.com"])
    #expect(closed["delivery.host-key"] == nil && closed["delivery.sms-countries"] == nil, "\(closed)")
    #expect(closed["delivery.email"] == "info")
    #expect(try rules([]).keys.allSatisfy { !$0.hasPrefix("delivery.") })
  }
}
