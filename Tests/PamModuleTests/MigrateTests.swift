import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// `lockstep migrate` between a host's store and lockstepd on a real PostgreSQL, and
/// `lockstep check --agent` against that agent: records travel whole (secret, parameters,
/// replay watermark, HOTP counter, failures, lockout, backup-code hashes), a second run and a
/// dry run change nothing on either side, and a user enrolled differently on both sides is
/// refused without --force while the others are copied.
@Suite struct MigrateTests {
  /// The CLI under test: `build/lockstep`, or the one `LOCKSTEP_CLI` names (a debug build, say).
  static let cli = ProcessInfo.processInfo.environment["LOCKSTEP_CLI"] ?? Paths.cli

  @Test func bothUsersGoToTheAgentAndBackWhole() throws {
    let world = try MigrationWorld()
    let (alice, bob, codes) = try world.enrollAliceAndBob()
    let copied = try world.migrate(["--to-agent"])
    #expect(copied.status == 0, "\(copied.error)")
    #expect(copied.lines.contains("alice: copied") && copied.lines.contains("bob: copied"), "\(copied.output)")
    #expect(copied.output.contains("2 users: 2 copied."), "\(copied.output)")
    expectSame(try world.agent.record("alice"), alice)
    expectSame(try world.agent.record("bob"), bob)

    let back = try world.migrate(["--from-agent"], store: world.fresh)
    #expect(back.status == 0, "\(back.error)")
    #expect(back.lines.contains("alice: copied") && back.lines.contains("bob: copied"), "\(back.output)")
    expectSame(try world.record("alice", in: world.fresh), alice)
    expectSame(try world.record("bob", in: world.fresh), bob)
    // The hashes that came back check the codes the user holds.
    let hashes = try #require(try world.record("alice", in: world.fresh)).backupCodes
    let hash = try #require(codes[0].withUnsafeBytes { hashes.hash(of: $0, crypto: LibCrypto()) })
    #expect(hashes.hashes.contains(hash))
  }

  @Test func aSecondRunChangesNothingOnEitherSide() throws {
    let world = try MigrationWorld()
    try world.enrollAliceAndBob()
    #expect(try world.migrate(["--to-agent"]).status == 0)
    let fleet = try world.fleetSnapshot()
    let local = try world.storeSnapshot(world.local)

    let again = try world.migrate(["--to-agent"])
    #expect(again.status == 0, "\(again.error)")
    #expect(again.lines.contains("alice: already in the fleet store"), "\(again.output)")
    #expect(again.lines.contains("bob: already in the fleet store"), "\(again.output)")
    #expect(again.output.contains("2 users: 2 already there."), "\(again.output)")
    #expect(try world.fleetSnapshot() == fleet)

    let back = try world.migrate(["--from-agent"])
    #expect(back.status == 0, "\(back.error)")
    #expect(back.lines.contains("alice: already in the local store"), "\(back.output)")
    #expect(back.lines.contains("bob: already in the local store"), "\(back.output)")
    #expect(try world.storeSnapshot(world.local) == local)
    #expect(try world.fleetSnapshot() == fleet)
  }

  @Test func aDryRunChangesNothingOnEitherSide() throws {
    let world = try MigrationWorld()
    let (_, bob, _) = try world.enrollAliceAndBob()
    // dave is enrolled differently here and in the fleet; carol only in the fleet.
    try world.write(MigrationWorld.totp(MigrationWorld.totpSecret, enrolled: 1_700_000_200), for: "dave")
    try world.agent.store(MigrationWorld.totp(MigrationWorld.otherSecret, enrolled: 1_700_000_300), for: "dave")
    try world.agent.store(MigrationWorld.totp(MigrationWorld.otherSecret, enrolled: 1_700_000_400), for: "carol")
    try world.agent.store(bob, for: "bob", mode: .create)
    let fleet = try world.fleetSnapshot()
    let local = try world.storeSnapshot(world.local)

    let toAgent = try world.migrate(["--to-agent", "--dry-run"])
    #expect(toAgent.status == 6, "\(toAgent.error)")
    #expect(toAgent.lines.contains("alice: would copy"), "\(toAgent.output)")
    #expect(toAgent.lines.contains("bob: already in the fleet store"), "\(toAgent.output)")
    #expect(toAgent.lines.contains { $0.hasPrefix("dave: would be refused: ") }, "\(toAgent.output)")
    #expect(toAgent.output.contains("Dry run, nothing was written."), "\(toAgent.output)")
    #expect(toAgent.error == "lockstep: 1 of 3 users would not be copied (see above).\n")

    let forced = try world.migrate(["--to-agent", "--dry-run", "--force"])
    #expect(forced.status == 0, "\(forced.error)")
    #expect(forced.lines.contains("dave: would copy over another enrollment"), "\(forced.output)")

    let fromAgent = try world.migrate(["--from-agent", "--dry-run"])
    #expect(fromAgent.status == 6, "\(fromAgent.error)")
    #expect(fromAgent.lines.contains("carol: would copy"), "\(fromAgent.output)")
    #expect(fromAgent.lines.contains("bob: already in the local store"), "\(fromAgent.output)")
    #expect(fromAgent.lines.contains { $0.hasPrefix("dave: would be refused: ") }, "\(fromAgent.output)")

    let fresh = try world.migrate(["--from-agent", "--dry-run"], store: world.fresh)
    #expect(fresh.status == 0, "\(fresh.error)")
    #expect(fresh.lines.filter { $0.hasSuffix(": would copy") }.count == 3, "\(fresh.output)")
    #expect(!FileManager.default.fileExists(atPath: world.fresh), "a dry run creates no store")

    #expect(try world.fleetSnapshot() == fleet)
    #expect(try world.storeSnapshot(world.local) == local)
  }

  @Test func anotherEnrollmentOnTheOtherSideIsRefusedWithoutForce() throws {
    let world = try MigrationWorld()
    let (alice, _, _) = try world.enrollAliceAndBob()
    let theirs = MigrationWorld.totp(MigrationWorld.otherSecret, enrolled: 1_700_000_500)
    try world.agent.store(theirs, for: "alice")

    let refused = try world.migrate(["--to-agent"])
    #expect(refused.status == 6, "\(refused.error)")
    let line = refused.lines.first { $0.hasPrefix("alice: ") } ?? ""
    #expect(line.hasPrefix("alice: refused: ") && line.contains("another enrollment"), "\(refused.output)")
    #expect(line.hasSuffix("(--force replaces it)"), "\(line)")
    #expect(refused.lines.contains("bob: copied"), "the other users are copied: \(refused.output)")
    #expect(refused.error == "lockstep: 1 of 2 users was not copied (see above).\n")
    expectSame(try world.agent.record("alice"), theirs)

    let back = try world.migrate(["--from-agent"])
    #expect(back.status == 6, "\(back.error)")
    #expect(back.lines.contains { $0.hasPrefix("alice: refused: enrolled in \(world.local) with another enrollment") })
    #expect(back.lines.contains("bob: already in the local store"), "\(back.output)")
    expectSame(try world.record("alice", in: world.local), alice)

    let forced = try world.migrate(["--to-agent", "--force"])
    #expect(forced.status == 0, "\(forced.error)")
    expectSame(try world.agent.record("alice"), alice)

    try world.agent.store(theirs, for: "alice")
    let forcedBack = try world.migrate(["--from-agent", "--force"])
    #expect(forcedBack.status == 0, "\(forcedBack.error)")
    #expect(forcedBack.lines.contains("alice: copied over another enrollment"), "\(forcedBack.output)")
    expectSame(try world.record("alice", in: world.local), theirs)
  }

  @Test func fromAgentTakesTheFleetsNewerStateIntoTheSameEnrollment() throws {
    let world = try MigrationWorld()
    let (alice, _, _) = try world.enrollAliceAndBob()
    #expect(try world.migrate(["--to-agent"]).status == 0)
    // Logins in the fleet since: a later code, a later success, a backup code used.
    var used = try #require(try world.agent.record("alice"))
    let step = try #require(alice.lastStep)
    used.lastStep = step + 3
    used.lastSuccess = alice.lastSuccess + 90
    used.failures = 0
    used.backupCodes.hashes.removeFirst()
    try world.agent.store(used, for: "alice")

    let back = try world.migrate(["--from-agent"])
    #expect(back.status == 0, "\(back.error)")
    #expect(
      back.lines.contains(
        "alice: updated from the fleet (the same enrollment): the fleet's newer login state, "
          + "without the 1 backup code used in the fleet"), "\(back.output)")
    #expect(back.lines.contains("bob: already in the local store"), "\(back.output)")
    let merged = try #require(try world.record("alice", in: world.local))
    #expect(merged.secret.hasSameBytes(as: alice.secret) && merged.enrolled == alice.enrolled)
    #expect(merged.lastStep == step + 3 && merged.lastSuccess == alice.lastSuccess + 90 && merged.failures == 0)
    #expect(Set(merged.backupCodes.hashes) == Set(used.backupCodes.hashes))
    #expect(try world.migrate(["--from-agent"]).lines.contains("alice: already in the local store"))

    // Now logins here: the fleet's watermark is behind; copying again raises it, and says so.
    var ahead = merged
    ahead.lastStep = step + 5
    try world.write(ahead, for: "alice", replacing: false)
    let behind = try world.migrate(["--to-agent"])
    #expect(behind.status == 0, "\(behind.error)")
    #expect(
      behind.lines.contains(
        "alice: already in the fleet store; its replay watermark there was behind this store's and is raised to it"),
      "\(behind.output)")
    #expect(try world.agent.record("alice")?.lastStep == step + 5)
  }

  @Test func aBackupCodeUsedOnEitherSideStaysUsedWhenTheSameEnrollmentIsCopiedAgain() throws {
    let world = try MigrationWorld()
    let (alice, _, _) = try world.enrollAliceAndBob()
    #expect(try world.migrate(["--to-agent"]).status == 0)
    // A backup code used here (logins still read this store) after the first copy.
    var usedHere = alice
    let gone = usedHere.backupCodes.hashes.removeLast()
    try world.write(usedHere, for: "alice", replacing: false)
    let again = try world.migrate(["--to-agent"])
    #expect(again.status == 0, "\(again.error)")
    #expect(
      again.lines.contains("alice: already in the fleet store; the 1 backup code used here stop working there"),
      "\(again.output)")
    let fleet = try #require(try world.agent.record("alice"))
    #expect(!fleet.backupCodes.hashes.contains(gone) && fleet.backupCodes.hashes.count == 2)

    // One used in the fleet, then a forced copy from this (now stale) store: it stays used.
    var usedThere = fleet
    let goneThere = usedThere.backupCodes.hashes.removeLast()
    try world.agent.store(usedThere, for: "alice")
    try world.write(alice, for: "alice")
    let forced = try world.migrate(["--to-agent", "--force"])
    #expect(forced.status == 0, "\(forced.error)")
    let after = try #require(try world.agent.record("alice")).backupCodes.hashes
    #expect(Set(after) == Set(usedThere.backupCodes.hashes), "\(after.count) codes left")
    #expect(!after.contains(goneThere) && !after.contains(gone))
  }

  @Test func checkReportsTheAgentAndMigrateStopsWhenItIsGone() throws {
    let world = try MigrationWorld()
    try world.enrollAliceAndBob()
    let (status, findings) = try world.check()
    #expect(status == 8, "\(findings)")
    func finding(_ rule: String) -> [String: Any]? { findings.first { $0["rule"] as? String == rule } }
    #expect(finding("agent.host-name")?["message"] as? String == "The agent reports host-name: host-a.")
    #expect(finding("agent.database")?["severity"] as? String == "info", "\(findings)")
    #expect(finding("agent.tls")?["severity"] as? String == "info", "\(findings)")
    #expect(finding("agent.replication")?["severity"] as? String == "warning", "no standby: \(findings)")
    #expect(finding("agent.replication")?["file"] as? String == world.agent.socket)

    world.agent.stop()
    let before = try world.storeSnapshot(world.local)
    let gone = try world.migrate(["--to-agent"])
    #expect(gone.status == 4)
    #expect(gone.error.hasPrefix("lockstep: the agent at \(world.agent.socket) cannot be reached"), "\(gone.error)")
    #expect(gone.error.split(separator: "\n").count == 1 && gone.output.isEmpty)
    #expect(try world.storeSnapshot(world.local) == before)
    let (goneStatus, goneFindings) = try world.check()
    #expect(goneStatus == 9)
    #expect(
      goneFindings.contains { $0["rule"] as? String == "agent.unreachable" && $0["severity"] as? String == "error" })
  }

  /// Checks that `found` holds the same enrollment and state as `expected`: the secret, the
  /// parameters, the enrollment time, the replay watermark, HOTP counter, clock offset,
  /// failures, lockout and last success, and the backup codes (in any order).
  func expectSame(_ found: UserRecord?, _ expected: UserRecord, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let found else {
      Issue.record("the record is missing", sourceLocation: sourceLocation)
      return
    }
    #expect(found.parameters == expected.parameters, sourceLocation: sourceLocation)
    #expect(found.secret.hasSameBytes(as: expected.secret), "the secret", sourceLocation: sourceLocation)
    #expect(found.enrolled == expected.enrolled, sourceLocation: sourceLocation)
    #expect(found.state == expected.state, sourceLocation: sourceLocation)
    #expect(found.backupCodes.salt == expected.backupCodes.salt, sourceLocation: sourceLocation)
    #expect(found.backupCodes.iterations == expected.backupCodes.iterations, sourceLocation: sourceLocation)
    #expect(Set(found.backupCodes.hashes) == Set(expected.backupCodes.hashes), sourceLocation: sourceLocation)
    #expect(found.backupCodes.hashes.count == expected.backupCodes.hashes.count, sourceLocation: sourceLocation)
  }
}

/// What the migration tests work on: a PostgreSQL, one fleet agent on it (`host-a`), and, in a
/// directory of their own, this host's store (`local`, created) and a store not created yet
/// (`fresh`).
final class MigrationWorld {
  let server: PostgresServer
  let directory: String
  let agent: AgentProcess
  /// The store the records start in.
  var local: String { directory + "/store" }
  /// A store that does not exist until `--from-agent` creates it.
  var fresh: String { directory + "/fresh" }

  static let totpSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
  static let hotpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
  /// A third secret, for the other enrollments of the same names.
  static let otherSecret = "MFXG65DIMVZC243FMNZGK5BNNNSXSIJB"

  init() throws {
    server = try PostgresServer()
    directory = FileManager.default.temporaryDirectory.path + "/lockstep-migrate-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    try FileManager.default.createDirectory(
      atPath: directory + "/store", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    let key = directory + "/fleet.key"
    try AgentProcess.writeFleetKey(at: key)
    agent = try AgentProcess(fleet: server, in: directory, name: "host-a", fleetKey: key)
  }

  deinit {
    agent.stop()
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// A TOTP record of the base32 `secret`.
  static func totp(_ secret: String, enrolled: Int64) -> UserRecord {
    UserRecord(parameters: .standard, secret: Base32.decode(secret) ?? SecretBytes(count: 0), enrolled: enrolled)
  }

  /// alice, TOTP with her replay watermark two steps ahead of now, a failure, a last success
  /// and three backup codes; bob, HOTP with his counter at 42, three failures and a lockout
  /// for the next hour. Written to the local store; returned as stored, with alice's codes.
  @discardableResult
  func enrollAliceAndBob() throws -> (alice: UserRecord, bob: UserRecord, codes: [[UInt8]]) {
    let now = Int64(Date().timeIntervalSince1970)
    let crypto = LibCrypto()
    guard let codes = BackupCodeHashes.generateCodes(count: 3, crypto: crypto),
      let hashes = BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto)
    else { throw TestFailure("no backup codes") }
    var alice = Self.totp(Self.totpSecret, enrolled: 1_700_000_000)
    alice.lastStep = now / 30 + 2
    alice.failures = 1
    alice.lastSuccess = now - 60
    alice.offset = -1
    alice.backupCodes = hashes
    var bob = UserRecord(
      parameters: TokenParameters(kind: .hotp, algorithm: .sha256, digits: 8, period: 30),
      secret: Base32.decode(Self.hotpSecret) ?? SecretBytes(count: 0), enrolled: 1_700_000_100)
    bob.counter = 42
    bob.failures = 3
    bob.lockedUntil = now + 3600
    return (try write(alice, for: "alice"), try write(bob, for: "bob"), codes)
  }

  /// Writes `record` as `user`'s in the local store under the user's lock, as the CLI does,
  /// after removing the record the user had unless `replacing` is off (then the store keeps
  /// the higher watermark of the two); returns it as stored.
  @discardableResult
  func write(_ record: UserRecord, for user: String, replacing: Bool = true) throws -> UserRecord {
    guard let name = UserName(user) else { throw TestFailure("bad user name") }
    let store = try Store(path: local)
    let lock = try store.lock(name)
    if replacing { try store.remove(holding: lock) }
    try store.write(record, holding: lock)
    guard let stored = try store.read(name, holding: lock) else {
      throw TestFailure("the record just written is missing")
    }
    return stored
  }

  /// `user`'s record in the store at `path`, with its state.
  func record(_ user: String, in path: String) throws -> UserRecord? {
    guard let name = UserName(user) else { throw TestFailure("bad user name") }
    return try Store(path: path).read(name)
  }

  /// Runs `lockstep migrate` with `arguments`, the agent's socket and `--store` (the local
  /// store unless `store` says otherwise).
  func migrate(_ arguments: [String], store: String? = nil) throws -> MigrateRun {
    let result = try runCommand(
      MigrateTests.cli, ["migrate"] + arguments + [agent.socket, "--store", store ?? local])
    return MigrateRun(status: result.status, output: result.output, error: result.error)
  }

  /// `lockstep check --agent --json` on the local store (with an empty PAM directory and no
  /// sshd configuration): its status and findings.
  func check() throws -> (Int32, [[String: Any]]) {
    let pam = directory + "/pam.d"
    try FileManager.default.createDirectory(atPath: pam, withIntermediateDirectories: true)
    let result = try runCommand(
      MigrateTests.cli,
      [
        "check", "--agent", agent.socket, "--json", "--store", local, "--pam-directory", pam, "--sshd-config",
        directory + "/no-sshd_config",
      ])
    let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
    guard let findings = object?["findings"] as? [[String: Any]] else {
      throw TestFailure("check printed no findings: \(result.output) \(result.error)")
    }
    return (result.status, findings)
  }

  /// Everything the fleet holds, to show that a command changed nothing: each row's version,
  /// writer and time of writing, every backup code row, and every record as the agent gives it.
  func fleetSnapshot() throws -> [String] {
    var rows = [
      try server.sql("SELECT name, version, updated_by, updated_at FROM lockstep_users ORDER BY name"),
      try server.sql("SELECT name, encode(hash, 'hex') FROM lockstep_backup_codes ORDER BY name, hash"),
    ]
    guard case .names(let names, more: false) = try agent.exchange(.list(after: nil)) else {
      throw TestFailure("the agent did not list")
    }
    for name in names {
      guard case .record(let text?) = try agent.exchange(.fetch(name)) else {
        throw TestFailure("no record of \(name)")
      }
      rows.append(text.withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
    }
    return rows
  }

  /// Every file in the store at `path` with its mode and bytes.
  func storeSnapshot(_ path: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: path) {
      var st = stat()
      _ = lstat(path + "/" + name, &st)
      files[name + " " + String(st.st_mode, radix: 8)] = try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))
    }
    return files
  }
}

/// One run of `lockstep migrate`.
struct MigrateRun {
  var status: Int32
  var output: String
  var error: String
  /// Standard output, line by line.
  var lines: [String] { output.split(separator: "\n").map(String.init) }
}
