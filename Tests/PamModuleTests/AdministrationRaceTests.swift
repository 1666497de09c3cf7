import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// Logins racing with the administration CLI (`unlock`, `backup-codes`, `revoke`,
/// `enroll --force`) for the same user.
///
/// Each pair runs two ways. Contended: the test holds the user's lock, starts the login and the
/// command, waits until the kernel shows both blocked on that lock (`/proc/locks`), and lets go,
/// so that the kernel picks who goes first; repeated, with the two queued in either order (the
/// kernel tends to hand the lock to the first waiter, so both serial orders occur). Staged: the command runs to completion
/// while the login waits at its prompt, after its first, unlocked read of the record, so the
/// order is known in advance. Either way the outcome must be exactly what one of the two serial
/// orders gives; for each pair the test names both and what a lost or torn update would look
/// like instead.
@Suite struct AdministrationRaceTests {
  static let now = LoginTests.now
  static let step = now / 30
  static let rounds = 8
  /// The secret `enroll --force` replaces alice's with.
  static let newSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

  /// What one race left: the login's result, the command's output and the record afterwards.
  struct Outcome {
    var login: Login
    var command: CommandResult
    var record: UserRecord?
  }

  /// Runs a login answering `answer` and `lockstep command` so that both wait for alice's lock,
  /// held by the test, which then lets go. `commandFirst` says which of the two queues first.
  func contended(_ sandbox: Sandbox, answer: String, command: [String], commandFirst: Bool) throws -> Outcome {
    let request = LoginRequest(answers: [answer], time: Self.now)
    let start = [
      {
        try Child(
          Paths.driver, sandbox.driverArguments(request), environment: request.environment,
          output: sandbox.root + "/login.out")
      },
      { try sandbox.startLockstep(command, output: "cli.out") },
    ]
    var children: [Child] = []
    defer { children.forEach { $0.kill() } }
    try holdingAlicesLock(in: sandbox) {
      for index in commandFirst ? [1, 0] : [0, 1] {
        children.append(try start[index]())
        try waitUntilBlockedOnALock(children)
      }
    }
    if commandFirst { children.reverse() }
    return Outcome(
      login: Login(parsing: children[0].wait()), command: children[1].wait(), record: try sandbox.record("alice"))
  }

  /// Runs `body` while this process holds alice's lock, and lets go when it returns.
  func holdingAlicesLock(in sandbox: Sandbox, _ body: () throws -> Void) throws {
    let lock = try Store(path: sandbox.store).lock(try #require(UserName("alice")))
    try withExtendedLifetime(lock, body)
  }

  /// Runs `lockstep command` to completion while a login answering `answer` waits at its prompt,
  /// then lets the login finish: the command goes first, after the login read the record.
  func staged(_ sandbox: Sandbox, answer: String, command: [String]) throws -> Outcome {
    let request = LoginRequest(answers: [answer], time: Self.now)
    let line = try StartLine(in: sandbox.root, name: "prompt")
    let login = try Child(
      Paths.driver, sandbox.driverArguments(request) + line.driverArguments + ["--sync-at", "prompt"],
      environment: request.environment, output: sandbox.root + "/login.out")
    defer { login.kill() }
    try line.waitUntilReady([login])
    let result = try sandbox.lockstep(command)
    line.release()
    return Outcome(login: Login(parsing: login.wait()), command: result, record: try sandbox.record("alice"))
  }

  /// Runs `check` on `rounds` contended races and one staged race, starting each from the
  /// record `prepare` makes, and returns how often each serial order was seen.
  func race(
    command: (Sandbox) throws -> [String], answer: (Sandbox) throws -> String,
    prepare: (Sandbox) throws -> Void, check: (Outcome, Sandbox, _ staged: Bool) throws -> String
  ) throws -> [String: Int] {
    let sandbox = try Sandbox()
    var orders: [String: Int] = [:]
    for round in 0...Self.rounds {
      try prepare(sandbox)
      let isStaged = round == Self.rounds
      let outcome =
        isStaged
        ? try staged(sandbox, answer: answer(sandbox), command: command(sandbox))
        : try contended(sandbox, answer: answer(sandbox), command: command(sandbox), commandFirst: round % 2 == 1)
      #expect(outcome.command.status == 0, "\(outcome.command.output) \(outcome.command.error)")
      orders[try check(outcome, sandbox, isStaged), default: 0] += 1
    }
    return orders
  }

  @Test func unlockAgainstAWrongCode() throws {
    // Alice has 4 failures; the wrong code makes the 5th, which starts a lockout.
    // Login then unlock: unlock sees 5 failures and leaves 0. Unlock then login: unlock sees 4,
    // the login leaves 1. A lost update would show as 0 failures after unlock saw 4, or
    // anything after unlock saw 5 but 0; a login working from its stale first read would
    // leave 5 and a lockout after unlock.
    let orders = try race(
      command: { _ in ["unlock", "alice"] }, answer: { _ in "000000" },
      prepare: { try $0.enroll("alice") { $0.failures = 4 } },
      check: { outcome, _, staged in
        #expect(outcome.login.result == "PAM_AUTH_ERR")
        let seen = try #require(outcome.command.output.firstMatch(of: /it had (\d+) consecutive failures/)?.1)
        let left = (Int(seen), outcome.record?.failures, outcome.record?.lockedUntil)
        #expect(outcome.record?.lastStep == nil)
        if left == (5, 0, 0) && !staged { return "login, then unlock" }
        #expect(left == (4, 1, 0), "unlock saw \(seen) failures; \(String(describing: left.1)) left")
        return "unlock, then login"
      })
    print("unlock against a wrong code: \(orders)")
  }

  @Test func backupCodesAgainstATimeCode() throws {
    // Issuing backup codes and accepting a time code commute: in both orders the login
    // succeeds, the watermark is the code's step and the backup codes are the new ones. A lost
    // update shows as no watermark or the old codes.
    let orders = try race(
      command: { _ in ["backup-codes", "alice", "--count", "3", "--json"] },
      answer: { _ in try oathtool(secret: Sandbox.secret, at: Self.now) },
      prepare: { try $0.enroll("alice") { $0.backupCodes = Self.oldBackupCodes.hashes } },
      check: { outcome, _, _ in
        #expect(outcome.login.result == "PAM_SUCCESS")
        #expect(outcome.record?.lastStep == Self.step)
        try Self.expectNewBackupCodes(outcome)
        return "either order"
      })
    print("backup-codes against a time code: \(orders)")
  }

  @Test func backupCodesAgainstAnOldBackupCode() throws {
    // Login then backup-codes: the old code is accepted, then replaced. backup-codes then
    // login: the old code is gone and counts as a failure. Either way only the new codes are
    // left; the old set minus one code, or a success with a failure counted, is a torn update.
    let orders = try race(
      command: { _ in ["backup-codes", "alice", "--count", "3", "--json"] },
      answer: { _ in String(decoding: Self.oldBackupCodes.codes[0], as: UTF8.self) },
      prepare: { try $0.enroll("alice") { $0.backupCodes = Self.oldBackupCodes.hashes } },
      check: { outcome, _, staged in
        try Self.expectNewBackupCodes(outcome)
        let left = (outcome.login.result, outcome.record?.failures)
        if left == ("PAM_SUCCESS", 0) && !staged { return "login, then backup-codes" }
        #expect(left == ("PAM_AUTH_ERR", 1), "\(left)")
        return "backup-codes, then login"
      })
    print("backup-codes against an old backup code: \(orders)")
  }

  @Test func revokeAgainstATimeCode() throws {
    // Login then revoke: success, then no record. Revoke then login: the login finds the record
    // gone under the lock and refuses. Either way nothing of alice is left: enrolling her again
    // starts clean, and the same code works for the new enrollment (a watermark, failure count
    // or lockout that survived revoke would refuse it).
    let orders = try race(
      command: { _ in ["revoke", "alice"] }, answer: { _ in try oathtool(secret: Sandbox.secret, at: Self.now) },
      prepare: { try $0.enroll("alice") },
      check: { outcome, sandbox, staged in
        #expect(outcome.record == nil)
        let enrolled = try sandbox.lockstep(
          [
            "enroll", "alice", "--allow-unknown-user", "--no-confirm", "--secret-file",
            try sandbox.secretFile(Sandbox.secret),
          ])
        #expect(enrolled.status == 0, "\(enrolled.error)")
        let fresh = try #require(try sandbox.record("alice"))
        #expect(fresh.lastStep == nil && fresh.failures == 0 && fresh.lockedUntil == 0)
        let code = try oathtool(secret: Sandbox.secret, at: Self.now)
        #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
        if outcome.login.result == "PAM_SUCCESS" && !staged { return "login, then revoke" }
        #expect(outcome.login.result == "PAM_AUTH_ERR")
        return "revoke, then login"
      })
    print("revoke against a time code: \(orders)")
  }

  @Test func enrollForceAgainstACodeOfTheOldSecret() throws {
    // Login then enroll --force: the old secret's code is accepted, then the enrollment is
    // replaced by a fresh one (no watermark, no failures). enroll --force then login: the code
    // is wrong for the new secret, one failure. Torn: the old secret surviving, or the new
    // secret with the old enrollment's watermark.
    let orders = try race(
      command: {
        [
          "enroll", "alice", "--allow-unknown-user", "--force", "--no-confirm", "--secret-file",
          try $0.secretFile(Self.newSecret),
        ]
      },
      answer: { _ in try oathtool(secret: Sandbox.secret, at: Self.now) },
      prepare: { try $0.enroll("alice") },
      check: { outcome, _, staged in
        let record = try #require(outcome.record)
        #expect(record.secret.hasSameBytes(as: try #require(Base32.decode(Self.newSecret))))
        #expect(record.lastStep == nil)
        let left = (outcome.login.result, record.failures)
        if left == ("PAM_SUCCESS", 0) && !staged { return "login, then enroll" }
        #expect(left == ("PAM_AUTH_ERR", 1), "\(left)")
        return "enroll, then login"
      })
    print("enroll --force against a code of the old secret: \(orders)")
  }

  /// Backup codes issued once for every test here (hashing is slow on purpose).
  static let oldBackupCodes: (codes: [[UInt8]], hashes: BackupCodeHashes) = {
    let crypto = LibCrypto()
    let codes = BackupCodeHashes.generateCodes(count: 3, crypto: crypto) ?? []
    return (codes, BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto) ?? .none)
  }()

  /// The record holds exactly the backup codes that `lockstep backup-codes --json` printed.
  static func expectNewBackupCodes(_ outcome: Outcome) throws {
    let object = try JSONSerialization.jsonObject(with: Data(outcome.command.output.utf8)) as? [String: Any]
    let printed = try #require(object?["backupCodes"] as? [String])
    let set = try #require(outcome.record?.backupCodes)
    #expect(set.hashes.count == printed.count)
    let hash = try #require(Array(printed[0].utf8).withUnsafeBytes { set.hash(of: $0, crypto: LibCrypto()) })
    #expect(set.hashes.contains(hash), "the stored codes are not the ones printed")
  }
}
