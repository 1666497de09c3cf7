import Foundation
import LockstepCore
import LockstepPlatform
import Testing

/// Enrollment at first login: `lockstep invite` (the built CLI) opens an invitation, and the
/// real module through real libpam, with `invitations`, shows its QR code (decoded by zbarimg)
/// and key URI, takes the first code (computed by oathtool from the URI the user was shown),
/// and enrolls the user with backup codes that then work. The CLI's clock is datefudge's, the
/// module's libfaketime's.
@Suite struct InvitationTests {
  static let t: Int64 = 1_769_800_000

  /// Runs `lockstep ARGUMENTS --store` on the sandbox's store, its clock at `time`.
  func lockstep(_ arguments: [String], _ sandbox: Sandbox, at time: Int64 = InvitationTests.t) throws -> CommandResult {
    try runCommand(
      Paths.cli, arguments + ["--store", sandbox.store], environment: SentCodeWorld.frozen(at: time))
  }

  @Test func anInvitedUserEnrollsAtTheFirstLoginAndThenLogsInWithCodes() throws {
    let sandbox = try Sandbox(arguments: ["invitations"])
    let invited = try lockstep(["invite", "alice", "--allow-unknown-user", "--issuer", "Lockstep Test"], sandbox)
    #expect(invited.status == 0, "\(invited.error)")
    #expect(invited.output.contains("Invited alice until 2026-02-02T19:06:40Z"), "\(invited.output)")
    let listed = try lockstep(["list"], sandbox)
    #expect(listed.output.contains("invited until 2026-02-02 19:06"), "\(listed.output)")
    // Invited is not enrolled: the report does not call alice a user who never logged in.
    let report = try lockstep(["report", "--file", "/dev/null", "--since", "all", "--json"], sandbox)
    #expect(report.status == 0, "\(report.error)")
    let summary = try #require(try JSONSerialization.jsonObject(with: Data(report.output.utf8)) as? [String: Any])
    #expect(summary["neverLoggedIn"] as? [String] == [], "\(report.output)")

    // The first login: the QR code and the URI, then the code the app would show.
    let first = try sandbox.login(LoginRequest(user: "alice", answers: [], time: Self.t + 60))
    let (qr, uri) = first.shownInvitation
    let shownURI = try #require(uri, "\(first.lines)")
    #expect(shownURI.hasPrefix("otpauth://totp/Lockstep%20Test:alice?secret="))
    #expect(try decodedQR(qr) == shownURI)
    let key = try secret(ofKeyURI: shownURI)
    sandbox.noteSecret(key)
    #expect(first.prompts.map(\.text) == ["Verification code from your authenticator app: "])
    // No answer: nothing changes, the invitation is still open.
    #expect(first.result != "PAM_SUCCESS")
    #expect(try sandbox.record("alice")?.invitation != nil)

    let code = try oathtool(secret: key, at: Self.t + 90)
    let taken = try sandbox.login(LoginRequest(user: "alice", answers: [code], time: Self.t + 90))
    #expect(taken.result == "PAM_SUCCESS", "\(taken.lines)")
    let backupCodes = taken.shownBackupCodes
    #expect(backupCodes.count == 10, "\(taken.lines)")
    let record = try #require(try sandbox.record("alice"))
    #expect(record.invitation == nil)
    #expect(record.enrolled == Self.t + 90)
    #expect(record.backupCodes.hashes.count == 10)
    #expect(sandbox.logLines().contains { $0.contains("event=invitation outcome=accepted left=10") })

    // It works once: the next login asks for a code and shows no QR code; the code just used
    // is a replay; a new code and a backup code work.
    let replay = try sandbox.login(LoginRequest(user: "alice", answers: [code], time: Self.t + 95))
    #expect(replay.result == "PAM_AUTH_ERR")
    #expect(replay.shownInvitation.uri == nil)
    #expect(replay.prompts.map(\.text) == ["Verification code: "])
    let next = try oathtool(secret: key, at: Self.t + 150)
    #expect(try sandbox.login("alice", answers: [next], at: Self.t + 150).result == "PAM_SUCCESS")
    let backup = try #require(backupCodes.first)
    #expect(try sandbox.login("alice", answers: [backup], at: Self.t + 200).result == "PAM_SUCCESS")
  }

  @Test func anExpiredInvitationIsRefusedAndShowsNothing() throws {
    let sandbox = try Sandbox(arguments: ["invitations"])
    #expect(try lockstep(["invite", "alice", "--allow-unknown-user", "--expires", "10m"], sandbox).status == 0)
    let late = try sandbox.login(LoginRequest(user: "alice", answers: ["123456"], time: Self.t + 601))
    #expect(late.result == "PAM_AUTH_ERR")
    #expect(late.shownInvitation.uri == nil)
    #expect(sandbox.logLines().contains { $0.contains("event=invitation outcome=expired until=\(Self.t + 600)") })
    #expect(try lockstep(["list"], sandbox, at: Self.t + 601).output.contains("invitation expired"))
  }

  @Test func withoutTheArgumentAnInvitedUserIsNotEnrolled() throws {
    let sandbox = try Sandbox(arguments: ["nullok"])
    #expect(try lockstep(["invite", "alice", "--allow-unknown-user"], sandbox).status == 0)
    let login = try sandbox.login(LoginRequest(user: "alice", answers: [], time: Self.t + 60))
    // Ignored (libpam says PAM_PERM_DENIED when the only module ignores the user), no prompt.
    #expect(login.result == "PAM_PERM_DENIED")
    #expect(login.prompts.isEmpty)
    #expect(login.shownInvitation.uri == nil)
    try sandbox.configure(arguments: [])
    let refused = try sandbox.login(LoginRequest(user: "alice", answers: ["123456"], time: Self.t + 60))
    #expect(refused.result == "PAM_AUTH_ERR")
    #expect(refused.shownInvitation.uri == nil)
    #expect(try sandbox.record("alice")?.invitation != nil)
  }

  @Test func aWrongFirstCodeCountsAsAFailureAndLeavesTheInvitationOpen() throws {
    let sandbox = try Sandbox(arguments: ["invitations"])
    #expect(try lockstep(["invite", "alice", "--allow-unknown-user"], sandbox).status == 0)
    let login = try sandbox.login(LoginRequest(user: "alice", answers: ["000000"], time: Self.t + 60))
    #expect(login.result == "PAM_AUTH_ERR")
    let record = try #require(try sandbox.record("alice"))
    #expect(record.invitation != nil)
    #expect(record.failures == 1)
    #expect(record.backupCodes.hashes.isEmpty)
  }

  @Test func aSealedStoreKeepsTheInvitationSealedAndRevokeWithdrawsIt() throws {
    let sandbox = try Sandbox()
    let key = sandbox.root + "/host.key"
    guard let bytes = SystemRandom.bytes(count: 32),
      FileManager.default.createFile(atPath: key, contents: Data(bytes), attributes: [.posixPermissions: 0o400])
    else { throw TestFailure("cannot write \(key)") }
    try sandbox.configure(arguments: ["invitations", "host_key=\(key)"])
    #expect(try lockstep(["invite", "alice", "--allow-unknown-user", "--host-key", key], sandbox).status == 0)
    let text = String(decoding: try #require(sandbox.storeFile("alice")), as: UTF8.self)
    #expect(text.contains("sealed-invite-qr "))
    #expect(!text.contains("\ninvite-qr ") && !text.contains("\nsecret "))
    let first = try sandbox.login(LoginRequest(user: "alice", answers: [], time: Self.t + 60))
    let uri = try #require(first.shownInvitation.uri, "\(first.lines)")
    sandbox.noteSecret(try secret(ofKeyURI: uri))
    #expect(try lockstep(["revoke", "alice", "--host-key", key], sandbox).status == 0)
    let after = try sandbox.login(LoginRequest(user: "alice", answers: ["123456"], time: Self.t + 90))
    #expect(after.result == "PAM_AUTH_ERR")
    #expect(after.shownInvitation.uri == nil)
  }
}
