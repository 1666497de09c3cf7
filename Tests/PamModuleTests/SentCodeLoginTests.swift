import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// Whole logins with codes sent by email: the real module through real libpam, a real
/// lockstepd, a real sendmail program (msmtp) and a real SMTP server on loopback; the code is
/// read from the mailbox by an independent parser (Python's email package) and typed back.
/// Both clocks (the module's and the agent's) are libfaketime's, moved by each login.
@Suite struct SentCodeLoginTests {
  static let t = SentCodeWorld.start
  static let prompt = "Verification code (press Enter to have one sent by email to a•••@example.com): "
  static let sent = "info Code sent by email to a•••@example.com; it expires in 5 minutes."

  @Test func enterSendsACodeThatLogsInOnce() throws {
    let world = try SentCodeWorld()
    try world.enroll("alice")
    let login = try world.login(answers: ["", world.code(1)])
    #expect(login.result == "PAM_SUCCESS", "\(login.lines) \(world.agentLog)")
    // Once the code is sent, the prompt just asks for it.
    #expect(login.prompts.map(\.text) == [Self.prompt, "Verification code: "])
    #expect(login.lines.contains(Self.sent), "\(login.lines)")
    let code = try #require(SentCodeWorld.typed(login))
    #expect(code.count == 6)

    // The message: to the user, from the configured sender, naming the host and the code.
    let messages = try world.messages()
    #expect(messages.count == 1)
    let message = try #require(messages.first)
    #expect(message.contains("To: alice@example.com"))
    #expect(message.contains("From: lockstep@test.invalid"))
    #expect(message.contains(code))

    // The same code again is refused: it was used up.
    let again = try world.login(answers: [code], at: Self.t + 5)
    #expect(again.result == "PAM_AUTH_ERR")
    #expect(world.sandbox.logLines().contains { $0.contains("accepted the code sent to the user") })
    #expect(world.agentLog.contains("sent a code by email to a•••@example.com (provider sendmail"), "\(world.agentLog)")
    #expect(world.agentLog.contains("rhost=192.0.2.7 user=alice"))

    // The code is in no log and in no file of the store; only its keyed hash is kept.
    #expect(!world.agentLog.contains(code))
    #expect(!((try? String(contentsOfFile: world.sandbox.syslog, encoding: .utf8)) ?? "").contains(code))
    for name in try FileManager.default.contentsOfDirectory(atPath: world.sandbox.store) {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: world.sandbox.store + "/" + name))
      #expect(bytes.range(of: Data(code.utf8)) == nil, "\(name)")
    }
  }

  @Test func aCodeExpiresAfterItsLifetime() throws {
    let world = try SentCodeWorld()
    try world.enroll("alice")
    // Sent, then the user gives up at the next prompt (no answer left: the conversation fails).
    let first = try world.login(answers: [""])
    #expect(first.lines.contains(Self.sent), "\(first.lines) \(world.agentLog)")
    let late = try world.login(answers: [world.code(1)], at: Self.t + 300)
    #expect(late.result == "PAM_AUTH_ERR")
    #expect(world.sandbox.logLines().contains { $0.contains("refused: wrong verification code; failure 1 of 5") })
    // Within its lifetime the next one works.
    let second = try world.login(answers: ["", world.code(2)], at: Self.t + 400)
    #expect(second.result == "PAM_SUCCESS", "\(second.lines)")
    let inTime = try world.login(answers: [""], at: Self.t + 1000)
    #expect(inTime.lines.contains(Self.sent))
    #expect(try world.login(answers: [world.code(3)], at: Self.t + 1299).result == "PAM_SUCCESS")
  }

  @Test func theResendCooldownAndThePerUserLimitHold() throws {
    let world = try SentCodeWorld()
    try world.enroll("alice")
    #expect(try world.login(answers: [""]).lines.contains(Self.sent))
    // Enter again at once: refused by the cooldown, and the module says how long to wait.
    let soon = try world.login(answers: [""], at: Self.t + 20)
    #expect(
      soon.lines.contains("error A code was sent moments ago; wait 40 seconds before asking for another."),
      "\(soon.lines)")
    #expect(try world.messages().count == 1)
    #expect(try world.login(answers: [""], at: Self.t + 60).lines.contains(Self.sent))
    #expect(try world.login(answers: [""], at: Self.t + 120).lines.contains(Self.sent))
    // A fourth within ten minutes is refused until the window ends.
    let fourth = try world.login(answers: [""], at: Self.t + 180)
    #expect(
      fourth.lines.contains("error Too many codes were sent; try again in 7 minutes, or use a backup code."),
      "\(fourth.lines)")
    #expect(try world.messages().count == 3)
    #expect(world.agentLog.contains("no code sent: the user's send limit is reached"))
    let later = try world.login(answers: ["", world.code(4)], at: Self.t + 600)
    #expect(later.result == "PAM_SUCCESS", "\(later.lines)")
  }

  @Test func onePerSourceLimitCoversEveryUser() throws {
    let world = try SentCodeWorld(lines: ["sends-per-source = 2"])
    for user in ["alice", "bob", "carol"] { try world.enroll(user) }
    #expect(try world.login("alice", answers: [""]).lines.contains(Self.sent))
    #expect(try world.login("bob", answers: [""]).lines.contains(Self.sent))
    let sprayed = try world.login("carol", answers: [""])
    #expect(sprayed.lines.contains { $0.hasPrefix("error Too many codes were sent") }, "\(sprayed.lines)")
    #expect(try world.messages().count == 2)
    // Another address is counted apart.
    #expect(try world.login("carol", answers: [""], rhost: "198.51.100.9").lines.contains(Self.sent))
  }

  @Test func theThirdWrongAnswerBurnsTheCode() throws {
    let world = try SentCodeWorld()
    try world.enroll("alice")
    let wrong = try world.login(answers: ["", "000000"])
    #expect(wrong.result == "PAM_AUTH_ERR")
    let code = try #require(
      try world.messages().first.flatMap { $0.firstMatch(of: /\b(\d{6})\b/).map { String($0.1) } })
    #expect(try world.login(answers: ["111111"], at: Self.t + 1).result == "PAM_AUTH_ERR")
    #expect(try world.login(answers: ["222222"], at: Self.t + 2).result == "PAM_AUTH_ERR")
    world.sandbox.noteTyped(code)
    #expect(try world.login(answers: [code], at: Self.t + 3).result == "PAM_AUTH_ERR")
    let record = try #require(try world.sandbox.record("alice"))
    #expect(record.failures == 4)
    #expect(record.state.sent.digest.isEmpty)
  }

  @Test func aSlowOrDownProviderGivesAPlainMessageWithinTheDeadline() throws {
    let slow = try SentCodeWorld(lines: ["send-timeout = 2"], sinkArguments: ["--delay", "30"])
    try slow.enroll("alice")
    let started = monotonicSeconds()
    let login = try slow.login(answers: [""])
    let elapsed = monotonicSeconds() - started
    #expect(
      login.lines.contains("error Could not send a code; use a backup code or try again later."), "\(login.lines)")
    #expect(elapsed < 7, "the login took \(elapsed) s with a send-timeout of 2 s (and send_timeout=10 in the module)")
    #expect(slow.agentLog.contains("sending a code by email to a•••@example.com failed"), "\(slow.agentLog)")

    // The module's own deadline holds too, when the agent waits longer than it.
    let impatient = try SentCodeWorld(arguments: ["send_timeout=2"], sinkArguments: ["--delay", "30"])
    try impatient.enroll("alice")
    let before = monotonicSeconds()
    let gaveUp = try impatient.login(answers: [""])
    let waited = monotonicSeconds() - before
    #expect(gaveUp.lines.contains("error Could not send a code; use a backup code or try again later."))
    #expect(waited < 5, "the login took \(waited) s with send_timeout=2")
    #expect(
      impatient.sandbox.logLines().contains { $0.contains("the agent did not answer in time; no code sent") },
      "\(impatient.sandbox.logLines())")

    let down = try SentCodeWorld(sinkRunning: false)
    try down.enroll("alice")
    let refused = try down.login(answers: [""])
    #expect(refused.lines.contains("error Could not send a code; use a backup code or try again later."))
    // Asked again, so that a backup code can still be typed.
    #expect(refused.prompts.count == 2)
  }

  @Test func sendAtOnceSendsBeforeTheFirstPrompt() throws {
    let world = try SentCodeWorld(arguments: ["send_at_once"])
    try world.enroll("alice")
    let login = try world.login(answers: [world.code(1)])
    #expect(login.result == "PAM_SUCCESS", "\(login.lines)")
    #expect(login.lines.first == Self.sent, "\(login.lines)")
    #expect(login.prompts.count == 1)
  }

  @Test func aUserWithAnAppCanAlsoHaveACodeSent() throws {
    let world = try SentCodeWorld(arguments: ["send_at_once"])
    try world.enroll("alice", alone: false)
    // send_at_once is for users without an app: this one is asked first.
    let login = try world.login(answers: ["", world.code(1)])
    #expect(login.result == "PAM_SUCCESS", "\(login.lines)")
    #expect(login.lines.contains(Self.sent))
    // And the app's codes still work.
    let step = UInt64(Self.t / 30) + 20
    let appCode = try #require(
      OneTimePassword.text(
        secret: Base32.decode(Sandbox.secret)!, counter: step, algorithm: .sha1, digits: 6, crypto: LibCrypto()))
    #expect(
      try world.login(answers: [String(decoding: appCode, as: UTF8.self)], at: Int64(step) * 30).result == "PAM_SUCCESS"
    )
  }

  @Test func enrollConfirmsTheAddressWithACodeSentToIt() throws {
    let world = try SentCodeWorld()
    func enroll(_ user: String, typing answer: String) throws -> CommandResult {
      let command =
        "\(Paths.cli) enroll \(user) --email \(user)@example.com --config \(world.agent.configPath) --allow-unknown-user"
      return try runCommand("/bin/sh", ["-c", "\(answer) | \(command)"])
    }
    let bob = try enroll("bob", typing: world.code(1))
    #expect(bob.status == 0, "\(bob.error) \(world.agentLog)")
    #expect(bob.error.contains("A code was sent by email to b•••@example.com."), "\(bob.error)")
    #expect(bob.output.contains("codes are sent by email to b•••@example.com"))
    let record = try #require(try world.sandbox.record("bob"))
    #expect(record.contact == .email("bob@example.com") && record.parameters.kind == .delivered)
    #expect(record.backupCodes.hashes.count == 10)
    #expect(try world.messages().contains { $0.contains("To: bob@example.com") })

    // A wrong code saves nothing.
    let dave = try enroll("dave", typing: "echo 000000")
    #expect(dave.status != 0)
    #expect(dave.error.contains("that is not the code sent"), "\(dave.error)")
    #expect(try world.sandbox.record("dave") == nil)

    // The confirmed address gets bob's login codes.
    let login = try world.login("bob", answers: ["", world.code(3)])
    #expect(login.result == "PAM_SUCCESS", "\(login.lines)")
  }

  @Test func aUserWithAnAppHasACodeSentBySMSThroughTwilio() throws {
    let twilio = try DeliveryTests.World()
    let standIn = try twilio.twilio()
    let world = try SentCodeWorld(lines: try twilio.twilioLines(standIn))
    try world.enroll("alice", contact: .sms("+447700900123"), alone: false)
    let code = "\(StandIn.python) \(StandIn.directory)/latest-code.py \(twilio.directory)/sms"
    // At the real time: the stand-in's certificate is valid from now on, and the agent checks it.
    let login = try world.login(answers: ["", code], at: SystemClock.now())
    #expect(login.result == "PAM_SUCCESS", "\(login.lines) \(world.agentLog) \(standIn.output)")
    #expect(login.prompts.first?.text == "Verification code (press Enter to have one sent by SMS to ••0123): ")
    #expect(login.lines.contains("info Code sent by SMS to ••0123; it expires in 5 minutes."))
    // Twilio was asked for a message that lives as long as the code.
    let request = try #require(try twilio.received("sms").first)
    #expect(request.contains("\"ValidityPeriod\": \"300\""), "\(request)")
    #expect(request.contains("+447700900123"))
    #expect(
      world.agentLog.contains("sent a code by SMS to +44 •••• ••0123 (provider twilio, message SM"), "\(world.agentLog)"
    )
  }
}
