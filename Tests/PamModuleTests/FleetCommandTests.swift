import Foundation
import LockstepCore
import LockstepPlatform
import Testing

/// The CLI's commands against the fleet store, through lockstepd's configuration (`--config`):
/// each works as it does on a store directory, and what one host's command does, the module on
/// the other host sees at the next login. Real PostgreSQL, two agents, the built module and CLI.
@Suite struct FleetCommandTests {
  /// Runs the CLI with host A's configuration.
  static func lockstep(_ fleet: Fleet, _ arguments: [String], input: String? = nil) throws -> CommandResult {
    try runCommand(MigrateTests.cli, arguments + ["--config", fleet.a.configPath], input: input)
  }

  /// The TOTP code of the sandbox's secret `steps` time steps from now, by the real clock.
  static func code(in steps: Int64 = 0) throws -> String {
    try oathtool(secret: Sandbox.secret, at: Int64(Date().timeIntervalSince1970) + 30 * steps)
  }

  /// Enrolls alice into the fleet with the CLI through host A, from a secret file.
  static func enrollAlice(_ fleet: Fleet) throws -> CommandResult {
    let secretFile = fleet.sandbox.root + "/alice.secret"
    guard
      FileManager.default.createFile(
        atPath: secretFile, contents: Data((Sandbox.secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
    else { throw TestFailure("cannot write \(secretFile)") }
    return try lockstep(
      fleet, ["enroll", "alice", "--secret-file", secretFile, "--no-confirm", "--allow-unknown-user"])
  }

  @Test func enrollListStatusAndRevokeWorkOnTheFleetAndLoginsOnTheOtherHostSeeThem() throws {
    let fleet = try Fleet()
    let enrolled = try Self.enrollAlice(fleet)
    #expect(enrolled.status == 0, "\(enrolled.error)")
    #expect(
      enrolled.output.contains("Enrolled alice in the fleet store (agent at \(fleet.a.socket))."), "\(enrolled.output)")
    // Host B's module logs alice in with the enrollment host A's command made.
    #expect(try fleet.login(on: fleet.b, answer: try Self.code()).result == "PAM_SUCCESS")

    let again = try Self.enrollAlice(fleet)
    #expect(again.status == 6, "\(again.error)")
    #expect(again.error == "lockstep: alice is already enrolled; use --force to replace the enrollment.\n")

    let list = try Self.lockstep(fleet, ["list", "--json"])
    #expect(list.status == 0, "\(list.error)")
    let users = try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]]
    #expect(users?.map { $0["user"] as? String } == ["alice"], "\(list.output)")
    #expect(!list.output.contains(Sandbox.secret))

    let status = try Self.lockstep(fleet, ["status", "alice"])
    #expect(status.status == 0, "\(status.error)")
    #expect(status.output.contains("backup codes left: 10"), "\(status.output)")
    #expect(!status.output.contains("last success:      never"), "the login on B is not in: \(status.output)")

    let revoked = try Self.lockstep(fleet, ["revoke", "alice"])
    #expect(revoked.status == 0, "\(revoked.error)")
    #expect(try fleet.login(on: fleet.b, answer: try Self.code(in: 1)).result != "PAM_SUCCESS")
    let gone = try Self.lockstep(fleet, ["status", "alice"])
    #expect(gone.status == 3)
    #expect(gone.error == "lockstep: alice is not enrolled in the fleet store (agent at \(fleet.a.socket)).\n")
  }

  @Test func unlockOnOneHostEndsALockoutCountedOnTheOther() throws {
    let fleet = try Fleet()
    try fleet.enroll()
    for _ in 0..<5 { #expect(try fleet.login(on: fleet.b, answer: "000000").result == "PAM_AUTH_ERR") }
    #expect(try fleet.a.record("alice")?.lockedUntil ?? 0 > 0)
    let unlocked = try Self.lockstep(fleet, ["unlock", "alice"])
    #expect(unlocked.status == 0, "\(unlocked.error)")
    #expect(
      unlocked.output.hasPrefix("Unlocked alice (it had 5 consecutive failures and was locked until"),
      "\(unlocked.output)")
    #expect(try fleet.login(on: fleet.b, answer: try Self.code()).result == "PAM_SUCCESS")
  }

  @Test func verifyRecordsTheCodeForTheWholeFleetAndBackupCodesAreReissued() throws {
    let fleet = try Fleet()
    try fleet.enroll()
    let code = try Self.code()
    let dryRun = try Self.lockstep(fleet, ["verify", "alice", "--dry-run"], input: code + "\n")
    #expect(dryRun.status == 0, "\(dryRun.error)")
    let verified = try Self.lockstep(fleet, ["verify", "alice", "--json"], input: code + "\n")
    #expect(verified.status == 0, "\(verified.error)")
    #expect(verified.output.contains("\"recorded\" : true"), "\(verified.output)")
    // The code host A's command accepted is used for the fleet: host B refuses it.
    #expect(try fleet.login(on: fleet.b, answer: code).result == "PAM_AUTH_ERR")

    let issued = try Self.lockstep(fleet, ["backup-codes", "alice", "--count", "2", "--json"])
    #expect(issued.status == 0, "\(issued.error)")
    let object = try JSONSerialization.jsonObject(with: Data(issued.output.utf8)) as? [String: Any]
    let codes = try #require(object?["backupCodes"] as? [String])
    #expect(codes.count == 2)
    #expect(try fleet.login(on: fleet.b, answer: codes[0]).result == "PAM_SUCCESS")
    #expect(try fleet.login(on: fleet.a, answer: codes[0]).result == "PAM_AUTH_ERR")
    #expect(try fleet.a.record("alice")?.backupCodes.hashes.count == 1)
  }

  @Test func importExportAndResyncWorkOnTheFleet() throws {
    let fleet = try Fleet()
    // pam_oath's format: HOTP/T30 is TOTP with a 30 s step; the secret in hex.
    let oath = fleet.sandbox.root + "/users.oath"
    try "HOTP/T30 bob - 616e6f746865722d7365637265742d6b65792121\n".write(
      toFile: oath, atomically: true, encoding: .utf8)
    let imported = try Self.lockstep(fleet, ["import", "pam-oath", oath])
    #expect(imported.status == 0, "\(imported.error)")
    #expect(try fleet.b.record("bob")?.parameters.kind == .totp, "host B's agent has bob")
    let again = try Self.lockstep(fleet, ["import", "pam-oath", oath])
    #expect(again.status == 6, "\(again.error)")
    #expect(
      again.error.contains("bob is already enrolled; use --force to replace the enrollment (nothing was imported)"))

    let uri = try Self.lockstep(fleet, ["export", "bob", "--uri", "--qr", "none"])
    #expect(uri.status == 0, "\(uri.error)")
    #expect(uri.output.contains("secret=MFXG65DIMVZC243FMNZGK5BNNNSXSIJB"), "\(uri.output)")

    // alice's device runs two steps ahead: resync through host A records it for the fleet, and
    // host B then takes the device's codes.
    try fleet.enroll()
    let ahead = try Self.code(in: 2)
    let resync = try Self.lockstep(fleet, ["resync", "alice"], input: try Self.code(in: 1) + "\n" + ahead + "\n")
    #expect(resync.status == 0, "\(resync.error)")
    #expect(resync.output.contains("runs 2 time steps ahead"), "\(resync.output)")
    #expect(try fleet.b.record("alice")?.offset == 2)
    #expect(try fleet.login(on: fleet.b, answer: ahead).result == "PAM_AUTH_ERR", "the resync's codes are used")
    #expect(try fleet.login(on: fleet.b, answer: try Self.code(in: 3)).result == "PAM_SUCCESS")
  }

  @Test func aFleetLongerThanOneMessageIsListedWhole() throws {
    let fleet = try Fleet()
    try fleet.enroll()
    // 500 more rows with names of 190 bytes: two pages of names. Copies of alice's row, so
    // their secrets do not open under their own names; list says so for each.
    let long = String(repeating: "x", count: 186)
    _ = try fleet.server.sql(
      """
      INSERT INTO lockstep_users SELECT (jsonb_populate_record(u, jsonb_build_object('name', '\(long)' || lpad(i::text, 4, '0')))).*
      FROM lockstep_users u, generate_series(1, 500) i WHERE u.name = 'alice'
      """)
    let list = try Self.lockstep(fleet, ["list", "--json"])
    #expect(list.status == 4, "\(list.error)")
    #expect(list.error.contains("(and 499 more unreadable records)"), "\(list.error)")
    let users = try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]] ?? []
    let names = users.compactMap { $0["user"] as? String }
    #expect(names.count == 501 && Set(names).count == 501)
    #expect(names.first == "alice" && names.last == long + "0500")
  }

  @Test func anUpdateFromAnOutdatedReadIsRefusedSoALoginsChangeIsNotLost() throws {
    let fleet = try Fleet()
    try fleet.enroll()
    let name = try #require(UserName("alice"))
    guard case .record(let read?) = try fleet.a.exchange(.fetch(name)) else { throw TestFailure("no record") }
    // A wrong code on host B between the command's read and its write.
    #expect(try fleet.login(on: fleet.b, answer: "000000").result == "PAM_AUTH_ERR")
    var changed = try read.withUnsafeBytes { bytes in try RecordFormat.parse(bytes) }
    changed.offset = 3
    let stale = try fleet.a.exchange(.update(name, expected: read, record: RecordFormat.serialize(changed)))
    guard case .outdated = stale else { throw TestFailure("an outdated update was answered \(stale)") }
    #expect(try fleet.a.record("alice")?.failures == 1)
    #expect(try fleet.a.record("alice")?.offset == 0)
    // From a fresh read, the same change is made.
    guard case .record(let current?) = try fleet.a.exchange(.fetch(name)) else { throw TestFailure("no record") }
    changed = try current.withUnsafeBytes { bytes in try RecordFormat.parse(bytes) }
    changed.offset = 3
    let fresh = try fleet.a.exchange(.update(name, expected: current, record: RecordFormat.serialize(changed)))
    guard case .done(changed: true) = fresh else { throw TestFailure("a current update was answered \(fresh)") }
    #expect(try fleet.a.record("alice")?.offset == 3)
    #expect(try fleet.a.record("alice")?.failures == 1)
  }

  @Test func aConfigurationThatCannotBeReadStopsTheCommandAndCheckReportsIt() throws {
    let fleet = try Fleet()
    let broken = fleet.sandbox.root + "/broken.conf"
    guard
      FileManager.default.createFile(
        atPath: broken, contents: Data("socket = /run/x.sock\nstore = /var/lib/lockstep\ncolour = blue\n".utf8),
        attributes: [.posixPermissions: 0o600])
    else { throw TestFailure("cannot write \(broken)") }
    let list = try runCommand(MigrateTests.cli, ["list", "--config", broken])
    #expect(list.status == 4)
    #expect(list.error == "lockstep: the agent's configuration \(broken):3: unknown key 'colour'.\n")
    let both = try runCommand(MigrateTests.cli, ["list", "--config", broken, "--store", fleet.sandbox.store])
    #expect(both.status == 2, "\(both.error)")
    #expect(both.error.hasPrefix("lockstep: --store and --config name two stores; give one."), "\(both.error)")

    let pam = fleet.sandbox.root + "/empty-pam.d"
    try FileManager.default.createDirectory(atPath: pam, withIntermediateDirectories: true)
    let check = try runCommand(
      MigrateTests.cli,
      ["check", "--json", "--config", broken, "--pam-directory", pam, "--sshd-config", pam + "/none"])
    #expect(check.status == 9, "\(check.output) \(check.error)")
    #expect(check.output.contains("\"rule\" : \"agent.configuration\""), "\(check.output)")
  }

  @Test func checkWithAFleetConfigurationAsksTheAgentInsteadOfAStoreDirectory() throws {
    let fleet = try Fleet()
    let pam = fleet.sandbox.root + "/empty-pam.d"
    try FileManager.default.createDirectory(atPath: pam, withIntermediateDirectories: true)
    let check = try Self.lockstep(fleet, ["check", "--json", "--pam-directory", pam, "--sshd-config", pam + "/none"])
    let object = try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any]
    let rules = (object?["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
    #expect(rules.contains("agent.database"), "\(check.output) \(check.error)")
    #expect(!rules.contains { $0.hasPrefix("store.") }, "\(rules)")
  }
}
