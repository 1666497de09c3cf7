import Foundation
import LockstepCore
import LockstepNettle
import LockstepPlatform
import Logging
import NIOCore
import PostgresNIO

/// The fleet store: every host's agent on one PostgreSQL database, so that a code accepted on
/// one host is refused on all, failures add up across hosts, and a backup code works once.
///
/// Each login is decided by one statement whose condition is the state the check was made
/// against: a code is accepted by `UPDATE … WHERE last_step < step AND NOT locked`, a failure
/// counted by `UPDATE … SET failures = failures + 1 WHERE NOT locked`, and the outcome recorded
/// under the request's nonce in the same statement. When two hosts race, the loser's statement
/// matches no row; it reads the row again and checks again, and then finds the code used. A
/// backup code is deleted in a transaction that holds the user's row. Secrets are sealed with
/// the fleet key before they reach the database and opened only here. Invitations have a table
/// of their own (see `FleetSchema`, and FleetInvitations.swift).
final class FleetBackend: Backend, @unchecked Sendable {
  let pool: DatabasePool
  let hostName: String
  private let key: SecretBytes
  let crypto = NettleCrypto()
  private let timeout: Duration
  let logger: Logger
  let events: AgentEvents
  private let schemaReady = SchemaFlag()

  init(pool: DatabasePool, hostName: String, key: SecretBytes, timeoutSeconds: Int, logger: Logger, events: AgentEvents)
  {
    self.pool = pool
    self.hostName = hostName
    self.key = key
    timeout = .seconds(timeoutSeconds)
    self.logger = logger
    self.events = events
  }

  /// The most names one `list` request reads from the database; its page holds as many of
  /// them as fit `AgentProtocol.namesPageBytes`.
  private static let namesPerQuery = 2000

  func answer(_ request: AgentRequest) -> AgentReply {
    waitFor { await self.handle(request) }
  }

  private func handle(_ request: AgentRequest) async -> AgentReply {
    let deadline = ContinuousClock.now + timeout
    do {
      try await prepareSchema(until: deadline)
      switch request {
      case .lookup(let user): return try await lookup(user, until: deadline)
      case .verify(let verify): return try await self.verify(verify, until: deadline)
      case .invitation(let user): return try await invitationCard(of: user, until: deadline)
      case .takeUp(let request): return try await takeUp(request, until: deadline)
      case .fetch(let user):
        let found = try await pool.run(until: deadline) { connection, _ in try await self.read(user, on: connection) }
        return .record(found.map { RecordFormat.serialize($0.record) })
      case .store(let user, let text, let mode): return try await store(user, text: text, mode: mode, until: deadline)
      case .update(let user, let expected, let text):
        return try await update(user, expected: expected, text: text, until: deadline)
      case .remove(let user):
        let removed = try await pool.run(until: deadline) { connection, _ in
          try await connection.query(
            """
            WITH enrolled AS (DELETE FROM lockstep_users WHERE name = \(user.text) RETURNING name),
              invited AS (DELETE FROM lockstep_invitations WHERE name = \(user.text) RETURNING name)
            SELECT name FROM enrolled UNION ALL SELECT name FROM invited
            """, logger: self.logger
          )
          .collect().count
        }
        return .done(changed: removed > 0)
      case .list(let after):
        let names = try await pool.run(until: deadline) { connection, _ in
          try await connection.query(
            """
            SELECT name FROM (SELECT name FROM lockstep_users UNION SELECT name FROM lockstep_invitations) n
            WHERE name COLLATE "C" > \(after?.text ?? "") ORDER BY name COLLATE "C" LIMIT \(Self.namesPerQuery)
            """, logger: self.logger
          ).collect().compactMap { UserName(try $0.decode(String.self)) }
        }
        var page: [UserName] = []
        var bytes = 0
        for name in names {
          bytes += 2 + name.bytes.count
          guard bytes <= AgentProtocol.namesPageBytes else { break }
          page.append(name)
        }
        return .names(page, more: page.count < names.count || names.count == Self.namesPerQuery)
      case .status: return .status(await status(until: deadline))
      case .send, .deliver: return .notSent(.noChannel)
      }
    } catch let failure as RecordFailure {
      return .refused(failure.description)
    } catch {
      let reason =
        error is DeadlinePassed ? "the database did not answer within \(timeout)" : DatabasePool.describe(error)
      events.record(.error, LogLine("database unavailable: \(reason)", event: "database", outcome: "unavailable"))
      return .unavailable(reason)
    }
  }

  // MARK: Logins

  private func lookup(_ user: UserName, until deadline: ContinuousClock.Instant) async throws -> AgentReply {
    try await pool.run(until: deadline) { connection, _ in
      let rows = try await connection.query(
        "SELECT kind, algorithm, digits, period FROM lockstep_users WHERE name = \(user.text)", logger: self.logger
      ).collect()
      guard let row = rows.first else { return try await self.invitedLookup(user, on: connection) }
      let (kind, algorithm, digits, period) = try row.decode((String, String, Int, Int).self)
      return .enrollment(
        try Self.parameters(of: user, kind: kind, algorithm: algorithm, digits: digits, period: period), offer: nil)
    }
  }

  /// The parameters in a row's columns; fails on a kind or algorithm this agent does not know.
  static func parameters(
    of user: UserName, kind: String, algorithm: String, digits: Int, period: Int
  ) throws -> TokenParameters {
    guard let kind = TokenKind(rawValue: kind), let algorithm = OTPAlgorithm(rawValue: algorithm) else {
      throw RecordFailure("the record of \(user) has an unknown token kind or algorithm")
    }
    return TokenParameters(kind: kind, algorithm: algorithm, digits: digits, period: period)
  }

  private func verify(_ request: VerifyRequest, until deadline: ContinuousClock.Instant) async throws -> AgentReply {
    let attempt = Attempt(code: request.code, backupCode: request.backupCode)
    let verifier = Verifier(policy: request.policy, crypto: crypto)
    let reply = try await pool.run(until: deadline) { connection, retry in
      if retry, let recorded = try await self.recordedReply(request.nonce, on: connection) { return recorded }
      // A lost race (another host used a code, counted a failure or re-enrolled the user between
      // the read and the write) changes the row the statement expects: read it again.
      var digest: BackupCodeDigest?
      for _ in 0..<8 {
        guard let (record, version) = try await self.read(request.user, on: connection), record.invitation == nil else {
          return .notEnrolled
        }
        if !(digest?.applies(to: record.backupCodes) ?? false) {
          digest = await self.backupDigest(of: attempt, under: record.backupCodes)
        }
        let now = SystemClock.now()
        let verdict = verifier.verify(attempt, against: record, now: now, backupDigest: digest)
        let kind = record.parameters.kind
        let decided: AgentReply?
        do {
          switch verdict.outcome {
          case .accepted(.code(let step)):
            let reply = AgentReply.verdict(verdict.outcome, kind: kind)
            let won = try await self.acceptCode(
              step, kind: kind, request, version: version, now: now, reply: reply, on: connection)
            decided = won ? reply : nil
          case .accepted(.backupCode):
            let used = record.backupCodes.hashes.first { !(verdict.updated?.backupCodes.hashes.contains($0) ?? true) }
            guard let used else { throw RecordFailure("the backup code check changed no code") }
            decided = try await self.acceptBackupCode(
              used, kind: kind, request, version: version, now: now, on: connection
            ).map { .verdict(.accepted(.backupCode(remaining: $0)), kind: kind) }
          case .rejected(let reason, _, _) where reason == .wrongCode || Self.isReplay(reason):
            decided = try await self.countFailure(
              reason, kind: kind, request, version: version, now: now, on: connection)
          case .rejected, .lockedOut, .accepted(.sentCode):
            // A sent code cannot match here: the fleet's rows hold none (see `administer`).
            return .verdict(verdict.outcome, kind: kind)
          }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
          // The nonce is recorded already: this request was decided before (a retry, or a
          // client sending it twice). Its recorded outcome is the answer.
          decided = try await self.recordedReply(request.nonce, on: connection)
        }
        if let decided { return decided }
      }
      throw DatabaseUnavailable(description: "the record of \(request.user) kept changing during the check")
    }
    events.verdict(reply, for: request)
    return reply
  }

  /// The hash of the attempt's backup code under `set`'s salt, made on a thread of its own:
  /// PBKDF2 takes tens of milliseconds, which on one of the few threads that run every
  /// request's async code would hold up the other requests.
  private func backupDigest(of attempt: Attempt, under set: BackupCodeHashes) async -> BackupCodeDigest? {
    guard attempt.backupCode != nil, !set.hashes.isEmpty else { return nil }
    return await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: set.digest(of: attempt, crypto: self.crypto)) }
    }
  }

  private static func isReplay(_ reason: RejectionReason) -> Bool {
    if case .replayedCode = reason { return true }
    return false
  }

  /// Raises the watermark (TOTP) or counter (HOTP) past `step`, if no host did yet and the user
  /// is not locked out, and records the outcome under the nonce: one statement.
  private func acceptCode(
    _ step: Int64, kind: TokenKind, _ request: VerifyRequest, version: Int64, now: Int64, reply: AgentReply,
    on connection: PostgresConnection
  ) async throws -> Bool {
    let user = request.user.text
    let nonce = ByteBuffer(bytes: request.nonce)
    let encoded = ByteBuffer(bytes: reply.encoded())
    let query: PostgresQuery
    switch kind {
    case .totp:
      query = """
        WITH accepted AS (
          UPDATE lockstep_users SET last_step = \(step), failures = 0, locked_until = 0, last_success = \(now),
            updated_by = \(hostName), updated_at = now()
          WHERE name = \(user) AND version = \(version) AND (last_step IS NULL OR last_step < \(step))
            AND locked_until <= \(now)
          RETURNING name)
        INSERT INTO lockstep_requests (nonce, name, host, reply) SELECT \(nonce), name, \(hostName), \(encoded) FROM accepted
        RETURNING 1
        """
    case .hotp:
      query = """
        WITH accepted AS (
          UPDATE lockstep_users SET counter = \(step + 1), failures = 0, locked_until = 0, last_success = \(now),
            updated_by = \(hostName), updated_at = now()
          WHERE name = \(user) AND version = \(version) AND counter <= \(step) AND locked_until <= \(now)
          RETURNING name)
        INSERT INTO lockstep_requests (nonce, name, host, reply) SELECT \(nonce), name, \(hostName), \(encoded) FROM accepted
        RETURNING 1
        """
    case .delivered: throw RecordFailure("a fleet record has a secret")
    }
    return try await !connection.query(query, logger: logger).collect().isEmpty
  }

  /// Deletes the used backup code and clears the failures, in one transaction that holds the
  /// user's row, so that two hosts given the same code cannot both succeed. Returns the codes
  /// left, or `nil` when the row or the code changed first.
  private func acceptBackupCode(
    _ hash: [UInt8], kind: TokenKind, _ request: VerifyRequest, version: Int64, now: Int64,
    on connection: PostgresConnection
  ) async throws -> Int? {
    let user = request.user.text
    try await connection.query("BEGIN", logger: logger)
    do {
      let held = try await connection.query(
        """
        UPDATE lockstep_users SET failures = 0, locked_until = 0, last_success = \(now), updated_by = \(hostName),
          updated_at = now()
        WHERE name = \(user) AND version = \(version) AND locked_until <= \(now) RETURNING name
        """, logger: logger
      ).collect()
      let deleted = try await connection.query(
        "DELETE FROM lockstep_backup_codes WHERE name = \(user) AND hash = \(ByteBuffer(bytes: hash)) RETURNING name",
        logger: logger
      ).collect()
      guard !held.isEmpty, !deleted.isEmpty else {
        try await connection.query("ROLLBACK", logger: logger)
        return nil
      }
      let remaining =
        try await connection.query(
          "SELECT count(*)::integer FROM lockstep_backup_codes WHERE name = \(user)", logger: logger
        ).collect().first?.decode(Int.self) ?? 0
      try await record(.verdict(.accepted(.backupCode(remaining: remaining)), kind: kind), for: request, on: connection)
      try await connection.query("COMMIT", logger: logger)
      return remaining
    } catch {
      // A failed statement aborts the transaction; end it so that the connection can go on
      // (to read the outcome recorded under a duplicate nonce), or fail on a broken connection.
      try? await connection.query("ROLLBACK", logger: logger)
      throw error
    }
  }

  /// Counts one failure, and starts a lockout at the threshold, unless the user is locked out
  /// already (another host's failure may have just done it); records it under the nonce.
  private func countFailure(
    _ reason: RejectionReason, kind: TokenKind, _ request: VerifyRequest, version: Int64, now: Int64,
    on connection: PostgresConnection
  ) async throws -> AgentReply? {
    let user = request.user.text
    let policy = request.policy
    let lockout = Int64(policy.lockoutSeconds)
    let lockoutEnd = min(now + lockout, UserRecord.latestTime)
    let template = AgentReply.verdict(.rejected(reason, failures: 0, lockedUntil: nil), kind: kind)
    // A lockout that has ended (locked_until in the past, not yet cleared) starts the count anew.
    let rows = try await connection.query(
      """
      WITH counted AS (
        UPDATE lockstep_users SET
          failures = LEAST(CASE WHEN locked_until <> 0 THEN 0 ELSE failures END + 1, \(UserRecord.largestFailureCount)),
          locked_until = CASE
            WHEN \(lockout) > 0 AND CASE WHEN locked_until <> 0 THEN 0 ELSE failures END + 1 >= \(policy.maxFailures)
            THEN \(lockoutEnd) ELSE 0 END,
          updated_by = \(hostName), updated_at = now()
        WHERE name = \(user) AND version = \(version) AND locked_until <= \(now)
        RETURNING failures, locked_until),
      recorded AS (
        INSERT INTO lockstep_requests (nonce, name, host, reply, failures, locked_until)
        SELECT \(ByteBuffer(bytes: request.nonce)), \(user), \(hostName), \(ByteBuffer(bytes: template.encoded())),
          failures, locked_until FROM counted)
      SELECT failures, locked_until FROM counted
      """, logger: logger
    ).collect()
    guard let row = rows.first else { return nil }
    let (failures, lockedUntil) = try row.decode((Int, Int64).self)
    return .verdict(
      .rejected(reason, failures: failures, lockedUntil: lockedUntil == 0 ? nil : lockedUntil), kind: kind)
  }

  /// Records `reply` as the outcome of `request`, under its nonce (in the caller's transaction).
  func record(_ reply: AgentReply, for request: VerifyRequest, on connection: PostgresConnection) async throws {
    try await connection.query(
      """
      INSERT INTO lockstep_requests (nonce, name, host, reply)
      VALUES (\(ByteBuffer(bytes: request.nonce)), \(request.user.text), \(hostName), \(ByteBuffer(bytes: reply.encoded())))
      """, logger: logger)
  }

  /// The reply recorded for `nonce`, when an earlier run of the same request took effect.
  func recordedReply(_ nonce: [UInt8], on connection: PostgresConnection) async throws -> AgentReply? {
    let rows = try await connection.query(
      "SELECT reply, failures, locked_until FROM lockstep_requests WHERE nonce = \(ByteBuffer(bytes: nonce))",
      logger: logger
    ).collect()
    guard let row = rows.first else { return nil }
    let (buffer, failures, lockedUntil) = try row.decode((ByteBuffer, Int?, Int64?).self)
    let reply = try AgentReply.decode(Array(buffer.readableBytesView))
    if case .verdict(.rejected(let reason, _, _), let kind) = reply, let failures, let lockedUntil {
      return .verdict(
        .rejected(reason, failures: failures, lockedUntil: lockedUntil == 0 ? nil : lockedUntil), kind: kind)
    }
    return reply
  }

  // MARK: Records

  /// The user's record with its secret opened, and the row's version; `nil` when there is none.
  /// An enrollment wins over an invitation the user may still have (made by an agent that knew
  /// no invitations, which leaves their table as it is).
  func read(
    _ user: UserName, on connection: PostgresConnection, forUpdate: Bool = false
  ) async throws -> (record: UserRecord, version: Int64)? {
    let lock: PostgresQuery = forUpdate ? " FOR UPDATE" : ""
    var query: PostgresQuery = """
      SELECT version, sealed, kind, algorithm, digits, period, counter, last_step, time_offset, failures, locked_until,
        last_success, enrolled, backup_salt, backup_iterations,
        coalesce((SELECT string_agg(encode(hash, 'hex'), ',' ORDER BY hash) FROM lockstep_backup_codes b
          WHERE b.name = u.name), '') AS backup_hashes
      FROM lockstep_users u WHERE name = \(user.text)
      """
    query.sql += lock.sql
    guard let row = try await connection.query(query, logger: logger).collect().first else {
      return try await readInvitation(user, on: connection, forUpdate: forUpdate)
    }
    let cells = row.makeRandomAccess()
    let (version, parameters, secret) = try opened(cells, of: user)
    let hashes = try cells["backup_hashes"].decode(String.self).split(separator: ",").map { hex in
      guard let hash = Hex.decode(String(hex)) else { throw RecordFailure("a backup code hash of \(user) is not hex") }
      return hash
    }
    let record = UserRecord(
      parameters: parameters, secret: secret, counter: UInt64(clamping: try cells["counter"].decode(Int64.self)),
      lastStep: try cells["last_step"].decode(Int64?.self), offset: try cells["time_offset"].decode(Int64.self),
      failures: try cells["failures"].decode(Int.self), lockedUntil: try cells["locked_until"].decode(Int64.self),
      lastSuccess: try cells["last_success"].decode(Int64.self), enrolled: try cells["enrolled"].decode(Int64.self),
      backupCodes: BackupCodeHashes(
        iterations: try cells["backup_iterations"].decode(Int.self),
        salt: Array(try cells["backup_salt"].decode(ByteBuffer.self).readableBytesView), hashes: hashes),
      stateID: UInt64(bitPattern: version))
    return (record, version)
  }

  /// The version, parameters and opened secret of a row of either table.
  func opened(
    _ cells: PostgresRandomAccessRow, of user: UserName
  ) throws -> (version: Int64, parameters: TokenParameters, secret: SecretBytes) {
    let version = try cells["version"].decode(Int64.self)
    let parameters = try Self.parameters(
      of: user, kind: try cells["kind"].decode(String.self), algorithm: try cells["algorithm"].decode(String.self),
      digits: try cells["digits"].decode(Int.self), period: try cells["period"].decode(Int.self))
    guard let secret = open(try cells["sealed"].decode(ByteBuffer.self), of: user, version: version) else {
      throw RecordFailure(
        "the secret of \(user) does not open with this host's fleet key (another fleet's key, or a row copied from another user)"
      )
    }
    return (version, parameters, secret)
  }

  /// A sealed column's plaintext, sealed for `user`'s row at `version` (see `Sealing`).
  func open(_ sealed: ByteBuffer, of user: UserName, version: Int64) -> SecretBytes? {
    Sealing.open(
      Array(sealed.readableBytesView), user: user, version: UInt64(bitPattern: version), key: key, crypto: crypto)
  }

  /// `plaintext` sealed for `user`'s row at `version`.
  func seal(_ plaintext: SecretBytes, for user: UserName, version: Int64) throws -> ByteBuffer {
    guard
      let sealed = Sealing.seal(plaintext, user: user, version: UInt64(bitPattern: version), key: key, crypto: crypto)
    else { throw RecordFailure("the secret of \(user) could not be sealed") }
    return ByteBuffer(bytes: sealed)
  }

  /// Writes an administrator's record (see `StoreMode`), sealed under a new version.
  private func store(
    _ user: UserName, text: SecretBytes, mode: StoreMode, until deadline: ContinuousClock.Instant
  ) async throws -> AgentReply {
    try await administer(user, text: text, until: deadline) { connection, parsed, version in
      var record = parsed
      if let (existing, _) = try await self.read(user, on: connection, forUpdate: true) {
        if mode == .create {
          guard existing.hasSameToken(as: record) else {
            throw RecordFailure("\(user) is enrolled in the fleet store already, with another enrollment")
          }
          // The same enrollment: nothing to copy, but a code or backup code used on the
          // record's side since the last copy must not work again here, so its watermark and
          // counter are kept, and the backup codes it no longer has are deleted.
          var raised = existing
          raised.keepReplayWatermark(of: record)
          raised.keepUsedBackupCodes(of: record)
          let raisedWatermark = raised.lastStep != existing.lastStep || raised.counter != existing.counter
          if raisedWatermark {
            try await connection.query(
              """
              UPDATE lockstep_users SET last_step = \(raised.lastStep), counter = \(Int64(clamping: raised.counter)),
                updated_by = \(self.hostName), updated_at = now()
              WHERE name = \(user.text)
              """, logger: self.logger)
          }
          let used = existing.backupCodes.hashes.filter { !raised.backupCodes.hashes.contains($0) }
          for hash in used {
            try await connection.query(
              "DELETE FROM lockstep_backup_codes WHERE name = \(user.text) AND hash = \(ByteBuffer(bytes: hash))",
              logger: self.logger)
          }
          return (.done(changed: raisedWatermark || !used.isEmpty), commit: true)
        }
        // The same token again (a forced copy from a host's store, say) must not make a code
        // or backup code used in the fleet since work again.
        record.keepReplayWatermark(of: existing)
        record.keepUsedBackupCodes(of: existing)
      }
      try await self.write(record, for: user, version: version, on: connection)
      return (.done(changed: true), commit: true)
    }
  }

  /// Replaces the record of `user` with `text` if it is still the record whose text is
  /// `expected`: `outdated` when a login or another command changed it since it was fetched,
  /// `notEnrolled` when it is gone.
  private func update(
    _ user: UserName, expected: SecretBytes, text: SecretBytes, until deadline: ContinuousClock.Instant
  ) async throws -> AgentReply {
    try await administer(user, text: text, until: deadline) { connection, record, version in
      guard let (existing, _) = try await self.read(user, on: connection, forUpdate: true) else {
        return (.notEnrolled, commit: false)
      }
      guard RecordFormat.serialize(existing).hasSameBytes(as: expected) else { return (.outdated, commit: false) }
      try await self.write(record, for: user, version: version, on: connection)
      return (.done(changed: true), commit: true)
    }
  }

  /// Runs an administrator's write of `user`'s record `text`: parses it, draws the version it
  /// will be sealed under (random, so that a row put back from an older copy does not open as
  /// the current one), and runs `body` with both in a transaction on a pooled connection.
  private func administer(
    _ user: UserName, text: SecretBytes, until deadline: ContinuousClock.Instant,
    _ body: @escaping @Sendable (PostgresConnection, UserRecord, Int64) async throws -> (AgentReply, commit: Bool)
  ) async throws -> AgentReply {
    let record: UserRecord
    do {
      record = try text.withUnsafeBytes { bytes throws(LineError) in try RecordFormat.parse(bytes) }
    } catch {
      throw RecordFailure("the record of \(user) is invalid: \(error)")
    }
    guard record.contact == nil, record.parameters.kind != .delivered else {
      throw RecordFailure(
        "the fleet store does not hold contacts for sent codes yet; give \(user) an authenticator app, or use a host's own store"
      )
    }
    let version = try Self.newVersion()
    return try await pool.run(until: deadline) { connection, _ in
      try await self.transaction(on: connection) { try await body(connection, record, version) }
    }
  }

  /// A random version for a row written anew, so that a row put back from an older copy does
  /// not open as the current one.
  static func newVersion() throws -> Int64 {
    guard let random = SystemRandom.bytes(count: 8) else { throw RecordFailure("getrandom failed") }
    return Int64(bitPattern: random.reduce(0) { $0 << 8 | UInt64($1) })
  }

  /// Runs `body` between `BEGIN` and `COMMIT` (`ROLLBACK` when it says not to commit); a
  /// connection whose transaction failed midway is closed rather than pooled again.
  func transaction<T>(
    on connection: PostgresConnection, _ body: () async throws -> (T, commit: Bool)
  ) async throws -> T {
    try await connection.query("BEGIN", logger: logger)
    do {
      let (result, commit) = try await body()
      try await connection.query(commit ? "COMMIT" : "ROLLBACK", logger: logger)
      return result
    } catch {
      connection.abandon()
      throw error
    }
  }

  /// Writes `record` as the user's row at `version`, in the table its kind belongs in (an
  /// enrollment or an invitation), and removes the user's row from the other.
  func write(
    _ record: UserRecord, for user: UserName, version: Int64, on connection: PostgresConnection
  )
    async throws
  {
    let sealed = try seal(record.secret, for: user, version: version)
    let name = user.text
    guard record.invitation == nil else {
      try await connection.query("DELETE FROM lockstep_users WHERE name = \(name)", logger: logger)
      return try await writeInvitation(record, for: user, version: version, sealed: sealed, on: connection)
    }
    try await connection.query("DELETE FROM lockstep_invitations WHERE name = \(name)", logger: logger)
    let p = record.parameters
    try await connection.query("DELETE FROM lockstep_backup_codes WHERE name = \(name)", logger: logger)
    try await connection.query(
      """
      INSERT INTO lockstep_users (name, version, sealed, kind, algorithm, digits, period, counter, last_step, time_offset,
        failures, locked_until, last_success, enrolled, backup_salt, backup_iterations, updated_by)
      VALUES (\(name), \(version), \(sealed), \(p.kind.rawValue), \(p.algorithm.rawValue), \(p.digits),
        \(p.period), \(Int64(clamping: record.counter)), \(record.lastStep), \(record.offset), \(record.failures),
        \(record.lockedUntil), \(record.lastSuccess), \(record.enrolled), \(ByteBuffer(bytes: record.backupCodes.salt)),
        \(record.backupCodes.iterations), \(hostName))
      ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, sealed = EXCLUDED.sealed, kind = EXCLUDED.kind,
        algorithm = EXCLUDED.algorithm, digits = EXCLUDED.digits, period = EXCLUDED.period, counter = EXCLUDED.counter,
        last_step = EXCLUDED.last_step, time_offset = EXCLUDED.time_offset, failures = EXCLUDED.failures,
        locked_until = EXCLUDED.locked_until, last_success = EXCLUDED.last_success, enrolled = EXCLUDED.enrolled,
        backup_salt = EXCLUDED.backup_salt, backup_iterations = EXCLUDED.backup_iterations,
        updated_by = EXCLUDED.updated_by, updated_at = now()
      """, logger: logger)
    for hash in record.backupCodes.hashes {
      try await connection.query(
        "INSERT INTO lockstep_backup_codes (name, hash) VALUES (\(name), \(ByteBuffer(bytes: hash)))", logger: logger)
    }
  }

  // MARK: Schema and status

  /// Removes recorded outcomes older than a day, now and every ten minutes: a retry comes within
  /// seconds, and the table must not grow without bound.
  func startPruning() {
    Task {
      while true {
        let deadline = ContinuousClock.now + timeout
        do {
          try await prepareSchema(until: deadline)
          try await pool.run(until: deadline) { connection, _ in
            try await connection.query(
              "DELETE FROM lockstep_requests WHERE at < now() - interval '1 day'", logger: self.logger)
          }
        } catch {
          logger.warning("removing old request outcomes failed: \(DatabasePool.describe(error))")
        }
        try? await Task.sleep(for: .seconds(600))
      }
    }
  }

  /// Makes the tables once per agent, under an advisory lock so that agents starting together
  /// do not race; refuses a database made by a later version.
  private func prepareSchema(until deadline: ContinuousClock.Instant) async throws {
    guard !schemaReady.isSet else { return }
    try await pool.run(until: deadline) { connection, _ in
      try await connection.query("BEGIN", logger: self.logger)
      try await connection.query("SELECT pg_advisory_xact_lock(7478000001)", logger: self.logger)
      for statement in FleetSchema.statements {
        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
      }
      let found =
        try await connection.query("SELECT max(version) FROM lockstep_schema", logger: self.logger)
        .collect().first?.decode(Int?.self) ?? nil
      try await connection.query("COMMIT", logger: self.logger)
      if let found, found > FleetSchema.version {
        throw RecordFailure(
          "the database's tables are of version \(found), newer than this agent's \(FleetSchema.version)")
      }
    }
    schemaReady.set()
  }

  /// What `lockstep check` reports: the database, TLS, replication and the clock.
  private func status(until deadline: ContinuousClock.Instant) async -> [AgentStatusLine] {
    var lines = [AgentStatusLine(name: "host-name", healthy: true, detail: hostName)]
    do {
      let facts = try await pool.run(until: deadline) { connection, _ in
        let row = try await connection.query(
          """
          SELECT current_setting('server_version'), host(inet_server_addr()), inet_server_port(),
            coalesce((SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl), ''),
            current_setting('synchronous_standby_names'), current_setting('synchronous_commit'),
            extract(epoch FROM clock_timestamp())::float8
          """, logger: self.logger
        ).collect().first
        guard let row else { throw DatabaseUnavailable(description: "the status query returned nothing") }
        return try row.decode((String, String?, Int?, String, String, String, Double).self)
      }
      let (version, address, port, tlsVersion, standbys, synchronousCommit, epoch) = facts
      let skew = Double(SystemClock.now()) - epoch
      lines.append(
        AgentStatusLine(
          name: "database", healthy: true,
          detail: "PostgreSQL \(version) at \(address ?? "?"):\(port.map(String.init) ?? "?")"))
      lines.append(
        AgentStatusLine(
          name: "tls", healthy: !tlsVersion.isEmpty,
          detail: tlsVersion.isEmpty ? "not encrypted" : "\(tlsVersion), certificate verified (sslmode=verify-full)"))
      let synchronous = !standbys.isEmpty && synchronousCommit != "off" && synchronousCommit != "local"
      lines.append(
        AgentStatusLine(
          name: "replication", healthy: synchronous,
          detail: synchronous
            ? "synchronous (synchronous_standby_names = '\(standbys)', synchronous_commit = \(synchronousCommit))"
            : "not synchronous: an accepted code can be lost in a failover (synchronous_standby_names is empty)"))
      lines.append(
        AgentStatusLine(
          name: "clock-skew", healthy: abs(skew) < 5,
          detail: String(format: "%+.1f s between this host and the database", skew)))
    } catch {
      lines.append(AgentStatusLine(name: "database", healthy: false, detail: DatabasePool.describe(error)))
    }
    return lines
  }
}

/// A record the agent will not use or write; the reason goes back to the client.
struct RecordFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Set once the fleet's tables are known to exist.
private final class SchemaFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  var isSet: Bool { lock.withLock { value } }
  func set() { lock.withLock { value = true } }
}

extension UserName {
  /// The name as text, for the database (user names are valid UTF-8: see `UserName`).
  var text: String { String(decoding: bytes, as: UTF8.self) }
}
