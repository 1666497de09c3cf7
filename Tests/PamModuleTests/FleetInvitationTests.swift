import Foundation
import LockstepCore
import LockstepPlatform
import Testing

/// Invitations held by the agent: in the fleet store (`lockstep invite` through host A's agent,
/// taken up at a login on host B, real PostgreSQL behind both), and in a host's own store
/// behind a `store =` agent. The real module with `agent=` and `invitations` through real
/// libpam; codes from oathtool, the QR code read by zbarimg. An invitation behaves as one in a
/// store the module reads itself (`InvitationTests`), and across hosts it is taken up once, its
/// first code then a replay on every host.
@Suite struct FleetInvitationTests {
  /// `lockstep invite alice ARGUMENTS` through host A's agent.
  static func invite(_ fleet: Fleet, _ arguments: [String] = []) throws -> CommandResult {
    try FleetCommandTests.lockstep(fleet, ["invite", "alice", "--allow-unknown-user"] + arguments)
  }

  /// A login of alice on `agent`'s host, giving `answers`.
  static func login(_ fleet: Fleet, on agent: AgentProcess, answers: [String]) throws -> Login {
    var request = fleet.request(on: agent, answer: "")
    request.answers = answers
    return try fleet.sandbox.login(request)
  }

  /// The Base32 secret of alice's invitation, as host A's agent holds it.
  static func invitedSecret(_ fleet: Fleet) throws -> String {
    let record = try #require(try fleet.a.record("alice"))
    #expect(record.invitation != nil)
    return record.secret.withUnsafeBytes { Base32.encode($0) }
  }

  @Test func anInvitationMadeThroughOneHostIsTakenUpOnAnotherOnce() throws {
    let fleet = try Fleet(moduleArguments: ["invitations"])
    let invited = try Self.invite(fleet, ["--issuer", "Fleet Test"])
    #expect(invited.status == 0, "\(invited.error)")
    #expect(invited.output.hasPrefix("Invited alice until "), "\(invited.output)")
    let listed = try FleetCommandTests.lockstep(fleet, ["list"])
    #expect(listed.output.contains("invited until"), "\(listed.output)")

    // No answer: the QR code and the URI are shown, and the invitation stays open.
    let first = try Self.login(fleet, on: fleet.b, answers: [])
    let (qr, shownURI) = first.shownInvitation
    let uri = try #require(shownURI, "\(first.lines)")
    #expect(uri.hasPrefix("otpauth://totp/Fleet%20Test:alice?secret="))
    #expect(try decodedQR(qr) == uri)
    let key = try secret(ofKeyURI: uri)
    fleet.sandbox.noteSecret(key)
    #expect(first.prompts.map(\.text) == ["Verification code from your authenticator app: "])
    #expect(first.result != "PAM_SUCCESS")
    #expect(try fleet.a.record("alice")?.invitation != nil)

    let code = try Fleet.currentCode(key)
    let taken = try Self.login(fleet, on: fleet.b, answers: [code])
    #expect(taken.result == "PAM_SUCCESS", "\(taken.lines)")
    let backupCodes = taken.shownBackupCodes
    #expect(backupCodes.count == 10, "\(taken.lines)")
    let record = try #require(try fleet.a.record("alice"))
    #expect(record.invitation == nil)
    #expect(record.backupCodes.hashes.count == 10)
    #expect(fleet.b.log.contains("event=invitation outcome=accepted left=10"), "\(fleet.b.log)")
    #expect(fleet.sandbox.logLines().contains { $0.contains("event=invitation outcome=accepted left=10") })
    #expect(try fleet.server.sql("SELECT count(*) FROM lockstep_invitations") == "0")

    // On host A the first code is a replay, and no QR code is shown; a backup code works once
    // across both hosts.
    let replay = try Self.login(fleet, on: fleet.a, answers: [code])
    #expect(replay.result == "PAM_AUTH_ERR")
    #expect(replay.shownInvitation.uri == nil)
    #expect(replay.prompts.map(\.text) == ["Verification code: "])
    let backup = try #require(backupCodes.first)
    #expect(try Self.login(fleet, on: fleet.a, answers: [backup]).result == "PAM_SUCCESS")
    #expect(try Self.login(fleet, on: fleet.b, answers: [backup]).result == "PAM_AUTH_ERR")
  }

  @Test func hostsRacingToTakeUpOneInvitationEnrollTheUserOnce() throws {
    let fleet = try Fleet(moduleArguments: ["invitations", "max_failures=1000"])
    #expect(try Self.invite(fleet).status == 0)
    let key = try Self.invitedSecret(fleet)
    fleet.sandbox.noteSecret(key)
    // The database holds the invitation sealed: neither the secret nor its QR code in clear.
    let dump = try fleet.server.dump()
    #expect(dump.contains("lockstep_invitations"), "the dump holds the table")
    let raw = try #require(Base32.decode(key)).withUnsafeBytes { Array($0) }
    for text in [key, key.lowercased(), Hex.encode(raw)] { #expect(!dump.contains(text), "\(text) in the dump") }
    let qr = try #require(try fleet.a.record("alice")?.invitation?.qr.encoded)
    #expect(!dump.contains(Hex.encode(qr)), "the QR code in the dump")

    let code = try Fleet.currentCode(key)
    let requests = (0..<16).map { fleet.request(on: $0 % 2 == 0 ? fleet.a : fleet.b, answer: code) }
    let logins = try fleet.sandbox.raceLogins(requests)
    let results = logins.map(\.result)
    #expect(results.filter { $0 == "PAM_SUCCESS" }.count == 1, "\(results)")
    #expect(results.filter { $0 == "PAM_AUTH_ERR" }.count == 15, "\(results)")
    #expect(logins.filter { !$0.shownBackupCodes.isEmpty }.count == 1, "one set of backup codes, shown once")
    let record = try #require(try fleet.a.record("alice"))
    #expect(record.invitation == nil)
    #expect(record.backupCodes.hashes.count == 10)
  }

  @Test func anExpiredOrWithdrawnInvitationIsRefusedAndAStackWithoutTheArgumentIgnoresIt() throws {
    let fleet = try Fleet(moduleArguments: ["invitations"])
    // An invitation that has expired, written as lockstep invite writes one.
    let now = Int64(Date().timeIntervalSince1970)
    var record = UserRecord(
      parameters: .standard, secret: try #require(Base32.decode(Sandbox.secret)), enrolled: now - 3600)
    record.invitation = Invitation(
      expires: now - 1, issuer: "", qr: try #require(QRMatrix(width: 21, modules: Array(repeating: false, count: 441))))
    try fleet.a.store(record, for: "alice")
    let late = try fleet.login(on: fleet.b, answer: try Fleet.currentCode())
    #expect(late.result == "PAM_AUTH_ERR")
    #expect(late.shownInvitation.uri == nil)
    #expect(fleet.sandbox.logLines().contains { $0.contains("event=invitation outcome=expired until=\(now - 1)") })
    // The agent refuses it as well, whatever a client asks.
    let user = try #require(UserName("alice"))
    guard case .notEnrolled = try fleet.b.exchange(.invitation(user)) else {
      Issue.record("the agent showed an expired invitation")
      return
    }
    let request = VerifyRequest(
      nonce: Array(repeating: 7, count: AgentProtocol.nonceLength), user: user, service: "sshd", remoteHost: "-",
      code: SecretBytes(Array(try Fleet.currentCode().utf8)), backupCode: nil, policy: VerificationPolicy())
    guard case .notEnrolled = try fleet.b.exchange(.takeUp(request)) else {
      Issue.record("the agent took up an expired invitation")
      return
    }
    #expect(try fleet.a.record("alice")?.invitation != nil, "nothing changed")

    // Invited again (replacing the expired one), then withdrawn.
    #expect(try Self.invite(fleet).status == 6, "an invitation is replaced only with --force")
    #expect(try Self.invite(fleet, ["--force"]).status == 0)
    #expect(try FleetCommandTests.lockstep(fleet, ["revoke", "alice"]).status == 0)
    let withdrawn = try Self.login(fleet, on: fleet.b, answers: ["123456"])
    #expect(withdrawn.result == "PAM_AUTH_ERR")
    #expect(withdrawn.shownInvitation.uri == nil)
    #expect(try fleet.server.sql("SELECT count(*) FROM lockstep_invitations") == "0")

    // A stack without 'invitations' treats an invited user as not enrolled: with nullok, ignored.
    #expect(try Self.invite(fleet).status == 0)
    try fleet.sandbox.configure(arguments: ["agent=\(fleet.b.socket)", "nullok"], service: fleet.name(of: fleet.b))
    let ignored = try Self.login(fleet, on: fleet.b, answers: [])
    #expect(ignored.result == "PAM_PERM_DENIED")
    #expect(ignored.prompts.isEmpty)
    #expect(try fleet.a.record("alice")?.invitation != nil)
  }

  @Test func aTakeUpSentTwiceGetsItsRecordedOutcomeWithoutTheBackupCodes() throws {
    let fleet = try Fleet(moduleArguments: ["invitations"])
    #expect(try Self.invite(fleet).status == 0)
    let status = try FleetCommandTests.lockstep(fleet, ["status", "alice", "--json"])
    #expect(status.status == 0 && status.output.contains("\"invitation\""), "\(status.output) \(status.error)")
    let key = try Self.invitedSecret(fleet)
    fleet.sandbox.noteSecret(key)
    let user = try #require(UserName("alice"))
    func takeUp(_ nonce: UInt8, on agent: AgentProcess) throws -> AgentReply {
      try agent.exchange(
        .takeUp(
          VerifyRequest(
            nonce: Array(repeating: nonce, count: AgentProtocol.nonceLength), user: user, service: "sshd",
            remoteHost: "192.0.2.7", code: SecretBytes(Array(try Fleet.currentCode(key).utf8)), backupCode: nil,
            policy: VerificationPolicy())))
    }
    guard case .tookUp(.accepted, .totp, let codes) = try takeUp(1, on: fleet.a) else {
      Issue.record("the first take-up was not accepted")
      return
    }
    #expect(codes.count == 10)
    // The same request again, through the other host: its recorded outcome, and no codes.
    guard case .tookUp(.accepted, .totp, let again) = try takeUp(1, on: fleet.b) else {
      Issue.record("the request sent again did not get its recorded outcome")
      return
    }
    #expect(again.isEmpty)
    // Another request with the same code finds the invitation gone.
    guard case .notEnrolled = try takeUp(2, on: fleet.b) else {
      Issue.record("a second take-up was not refused")
      return
    }
    #expect(try fleet.a.record("alice")?.backupCodes.hashes.count == 10)
  }

  @Test func anEnrollmentReplacesAnInvitation() throws {
    let fleet = try Fleet(moduleArguments: ["invitations"])
    #expect(try Self.invite(fleet).status == 0)
    let secretFile = fleet.sandbox.root + "/alice.secret"
    guard
      FileManager.default.createFile(
        atPath: secretFile, contents: Data((Sandbox.secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
    else { throw TestFailure("cannot write \(secretFile)") }
    let enrolled = try FleetCommandTests.lockstep(
      fleet, ["enroll", "alice", "--secret-file", secretFile, "--no-confirm", "--allow-unknown-user", "--force"])
    #expect(enrolled.status == 0, "\(enrolled.error)")
    #expect(try fleet.server.sql("SELECT count(*) FROM lockstep_invitations") == "0")
    let login = try fleet.login(on: fleet.b, answer: try Fleet.currentCode())
    #expect(login.result == "PAM_SUCCESS", "\(login.lines)")
    #expect(login.shownInvitation.uri == nil)
  }

  @Test func anAgentOnAHostsOwnStoreTakesUpItsInvitationsToo() throws {
    let sandbox = try Sandbox()
    let agent = try AgentProcess(in: sandbox.root, name: "local", lines: ["store = \(sandbox.store)"])
    try sandbox.configure(arguments: ["agent=\(agent.socket)", "invitations"])
    let invited = try runCommand(Paths.cli, ["invite", "alice", "--allow-unknown-user", "--store", sandbox.store])
    #expect(invited.status == 0, "\(invited.error)")
    let first = try sandbox.login(LoginRequest(user: "alice", answers: []))
    let uri = try #require(first.shownInvitation.uri, "\(first.lines)")
    let key = try secret(ofKeyURI: uri)
    sandbox.noteSecret(key)
    let taken = try sandbox.login(LoginRequest(user: "alice", answers: [try Fleet.currentCode(key)]))
    #expect(taken.result == "PAM_SUCCESS", "\(taken.lines)")
    #expect(taken.shownBackupCodes.count == 10, "\(taken.lines)")
    let record = try #require(try sandbox.record("alice"))
    #expect(record.invitation == nil)
    #expect(record.backupCodes.hashes.count == 10)
    #expect(agent.log.contains("event=invitation outcome=accepted left=10"), "\(agent.log)")
  }
}
