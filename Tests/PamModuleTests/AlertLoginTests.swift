import Foundation
import LockstepCore
import Testing

/// lockstepd's alerts over real logins: the real module through real libpam asks a real
/// lockstepd (`store =`), whose `alert-command` is a Python program that parses each alert
/// with Python's own JSON parser, and whose `alert-email` goes through a real sendmail program
/// (msmtp) to a real SMTP server on loopback.
@Suite struct AlertLoginTests {
  static let t = SentCodeWorld.start

  /// A host with alerts on: the agent's configuration gets `lines`, the module `arguments`.
  func world(_ lines: [String], arguments: [String]) throws -> (world: SentCodeWorld, alerts: String) {
    let directory = NSTemporaryDirectory() + "lockstep-alerts-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    let command = "alert-command = \(StandIn.python) \(StandIn.directory)/alert-sink.py \(directory)"
    return (try SentCodeWorld(lines: [command] + lines, arguments: arguments), directory)
  }

  /// The alerts the command received, parsed.
  func alerts(in directory: String) throws -> [[String: Any]] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted().map {
      let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0))
      return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
  }

  /// The agent's `event=alert` lines with `outcome`.
  func alertLines(_ world: SentCodeWorld, _ outcome: String) -> [String] {
    world.agentLog.split(separator: "\n").map(String.init).filter {
      LogLine.fields(of: $0).map { fields in
        fields.first?.value == "alert" && fields.contains { $0.key == "outcome" && $0.value == outcome }
      } ?? false
    }
  }

  @Test func aReplayALockoutAndASprayEachRaiseOneAlertByCommandAndByMail() throws {
    let (world, directory) = try world(["alert-email = admin@example.com"], arguments: ["max_failures=3"])
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for user in ["alice", "bob", "carol"] { try world.sandbox.enroll(user) }
    let code = try oathtool(secret: Sandbox.secret, at: Self.t)
    let attacker = "203.0.113.9"
    #expect(try world.login("alice", answers: [code]).result == "PAM_SUCCESS")
    #expect(try world.login("alice", answers: [code], rhost: attacker).result == "PAM_AUTH_ERR")  // a replay
    for _ in 0..<2 { _ = try world.login("alice", answers: ["000000"], rhost: attacker) }  // the lockout
    _ = try world.login("bob", answers: ["000000"], rhost: attacker)
    _ = try world.login("carol", answers: ["000000"], rhost: attacker)  // the third user: a spray

    // Three alerts, each by command and by mail.
    try PostgresServer.waitUntil("six alerts sent", seconds: 30) { alertLines(world, "sent").count >= 6 }
    #expect(alertLines(world, "failed").isEmpty, "\(world.agentLog)")
    let received = try alerts(in: directory)
    #expect(received.compactMap { $0["alert"] as? String }.sorted() == ["lockout", "replay", "spray"])
    let lockout = try #require(received.first { $0["alert"] as? String == "lockout" })
    #expect(lockout["user"] as? String == "alice")
    #expect(lockout["rhost"] as? String == attacker)
    #expect(lockout["service"] as? String == SentCodeWorld.service)
    #expect(lockout["failures"] as? Int == 3)
    #expect(lockout["unix"] as? Int == Int(Self.t))
    let spray = try #require(received.first { $0["alert"] as? String == "spray" })
    #expect(spray["rhost"] as? String == attacker)
    #expect(spray["users"] as? Int == 3)
    let mails = try world.messages()
    #expect(mails.count == 3)
    #expect(mails.allSatisfy { $0.contains("To: admin@example.com") })
    #expect(mails.contains { $0.contains("Subject: Lockstep alert on ") && $0.contains(": lockout") })
    // No alert holds a code.
    for text in try FileManager.default.contentsOfDirectory(atPath: directory).map({
      try String(contentsOfFile: directory + "/" + $0, encoding: .utf8)
    }) + mails {
      #expect(!text.contains(code))
    }
  }

  @Test(arguments: [
    ("/bin/false", "/bin/false exited with status 1"),
    ("/bin/sleep 30", "/bin/sleep did not finish in time and was killed"),
  ])
  func anAlertCommandThatFailsOrHangsIsLoggedAsFailedAndLoginsGoOn(command: String, failure: String) throws {
    let world = try SentCodeWorld(lines: ["alert-command = \(command)", "alert-timeout = 1"], arguments: [])
    try world.sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.t)
    #expect(try world.login("alice", answers: [code]).result == "PAM_SUCCESS")
    #expect(try world.login("alice", answers: [code]).result == "PAM_AUTH_ERR")  // a replay: one alert
    try PostgresServer.waitUntil("the alert's failure logged", seconds: 30) { !alertLines(world, "failed").isEmpty }
    let failed = alertLines(world, "failed")
    #expect(failed.count == 1, "\(world.agentLog)")
    #expect(
      failed.first?.contains("alert replay could not go by command: alert-command: \(failure)") == true, "\(failed)")
    #expect(alertLines(world, "sent").isEmpty)
    // The agent goes on deciding logins while and after the command fails.
    let next = try oathtool(secret: Sandbox.secret, at: Self.t + 30)
    #expect(try world.login("alice", answers: [next], at: Self.t + 30).result == "PAM_SUCCESS")
  }

  @Test func aFloodOfReplaysEndsInTheRateLimitedNumberOfAlerts() throws {
    let (world, directory) = try world(["alert-limit = 3"], arguments: ["max_failures=100"])
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try world.sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.t)
    #expect(try world.login("alice", answers: [code]).result == "PAM_SUCCESS")
    for _ in 0..<8 { #expect(try world.login("alice", answers: [code]).result == "PAM_AUTH_ERR") }
    // Every replay is decided: three go, five are left out.
    try PostgresServer.waitUntil("eight alert decisions", seconds: 30) {
      alertLines(world, "sent").count + alertLines(world, "suppressed").count >= 8
    }
    #expect(alertLines(world, "sent").count == 3, "\(world.agentLog)")
    #expect(alertLines(world, "suppressed").count == 5)
    #expect(try alerts(in: directory).map { $0["alert"] as? String } == ["replay", "replay", "replay"])
  }

  @Test func alertSettingsWithoutACommandOrAnAddressAreRefused() throws {
    let sandbox = try Sandbox()
    let config = sandbox.root + "/agent.conf"
    let text = "store = \(sandbox.store)\nalert-limit = 3\n"
    #expect(
      FileManager.default.createFile(atPath: config, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
    let result = try runCommand(Paths.agent, ["--config", config, "--check-config"])
    #expect(result.status == 78)
    #expect(result.error.contains("'alert-limit' goes with 'alert-command =' or 'alert-email ='"), "\(result.error)")
  }
}
