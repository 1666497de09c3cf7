import Foundation
import LockstepCore
import LockstepPlatform
import NIOCore
import PostgresNIO

/// Invitations in the fleet store (`lockstep invite` through the agent): one row each in
/// `lockstep_invitations`, the secret and the QR code sealed like an enrollment's secret. A user
/// with a row there and none in `lockstep_users` is invited, not enrolled; taking the invitation
/// up moves the user to `lockstep_users` in one transaction that holds the invitation's row, so
/// that two hosts given the same first code cannot both enroll the user, and the code, once
/// accepted, is the new enrollment's watermark.
extension FleetBackend {
  /// The lookup of a user who is not enrolled: `invited` when the user has an invitation.
  func invitedLookup(_ user: UserName, on connection: PostgresConnection) async throws -> AgentReply {
    let rows = try await connection.query(
      "SELECT kind, algorithm, digits, period, expires FROM lockstep_invitations WHERE name = \(user.text)",
      logger: logger
    ).collect()
    guard let row = rows.first else { return .enrollment(nil, offer: nil) }
    let (kind, algorithm, digits, period, expires) = try row.decode((String, String, Int, Int, Int64).self)
    return .invited(
      try Self.parameters(of: user, kind: kind, algorithm: algorithm, digits: digits, period: period),
      expires: expires)
  }

  /// What the login shows: the card of the user's invitation while it is open.
  func invitationCard(of user: UserName, until deadline: ContinuousClock.Instant) async throws -> AgentReply {
    try await pool.run(until: deadline) { connection, _ in
      guard let (record, _) = try await self.read(user, on: connection),
        record.invitation?.isOpen(at: SystemClock.now()) ?? false, let card = record.invitationCard(for: user)
      else { return .notEnrolled }
      return .invitation(card)
    }
  }

  /// Takes up the user's invitation with the request's first code: checked as `Store.takeUp`
  /// checks it (the window, failures and lockout count; no backup code applies), the new
  /// backup codes made before the row is locked. The outcome is recorded under the nonce, with
  /// no backup codes, so that a request sent again (by the pool after a lost reply, or by a
  /// client) gets that outcome without the codes, not a check that would find the user enrolled.
  func takeUp(_ request: VerifyRequest, until deadline: ContinuousClock.Instant) async throws -> AgentReply {
    let user = request.user
    let attempt = Attempt(code: request.code, backupCode: nil)
    let verifier = Verifier(policy: request.policy, crypto: crypto)
    let reply = try await pool.run(until: deadline) { connection, _ in
      if let recorded = try await self.recordedReply(request.nonce, on: connection) { return recorded }
      let now = SystemClock.now()
      guard let (seen, _) = try await self.read(user, on: connection), seen.invitation?.isOpen(at: now) ?? false
      else { return AgentReply.notEnrolled }
      let issued = await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
          continuation.resume(returning: verifier.backupCodes(forTakingUp: seen, with: attempt, now: now))
        }
      }
      guard let issued else { throw RecordFailure("getrandom failed") }
      return try await self.transaction(on: connection) {
        guard let (current, version) = try await self.read(user, on: connection, forUpdate: true),
          current.invitation?.isOpen(at: now) ?? false
        else { return (AgentReply.notEnrolled, commit: false) }
        let verdict = verifier.verify(attempt, against: current, now: now, backupDigest: nil)
        guard var updated = verdict.updated else {
          return (.tookUp(verdict.outcome, kind: current.parameters.kind, backupCodes: []), commit: false)
        }
        var codes: [SecretBytes] = []
        var written = version
        if case .accepted = verdict.outcome {
          updated.invitation = nil
          updated.enrolled = now
          updated.backupCodes = issued.hashes
          codes = issued.codes.map { SecretBytes($0) }
          written = try Self.newVersion()
        }
        try await self.write(updated, for: user, version: written, on: connection)
        let kind = current.parameters.kind
        try await self.record(.tookUp(verdict.outcome, kind: kind, backupCodes: []), for: request, on: connection)
        return (.tookUp(verdict.outcome, kind: kind, backupCodes: codes), commit: true)
      }
    }
    events.verdict(reply, for: request)
    return reply
  }

  /// The user's invitation with its secret and QR code opened, and its row's version.
  func readInvitation(
    _ user: UserName, on connection: PostgresConnection, forUpdate: Bool
  ) async throws -> (record: UserRecord, version: Int64)? {
    var query: PostgresQuery = """
      SELECT version, sealed, sealed_qr, kind, algorithm, digits, period, counter, last_step, time_offset, failures,
        locked_until, enrolled, expires, issuer
      FROM lockstep_invitations WHERE name = \(user.text)
      """
    if forUpdate { query.sql += " FOR UPDATE" }
    guard let row = try await connection.query(query, logger: logger).collect().first else { return nil }
    let cells = row.makeRandomAccess()
    let (version, parameters, secret) = try opened(cells, of: user)
    guard let opened = open(try cells["sealed_qr"].decode(ByteBuffer.self), of: user, version: version),
      let qr = opened.withUnsafeBytes({ QRMatrix(encoded: Array($0)) })
    else { throw RecordFailure("the QR code of the invitation of \(user) does not open with this host's fleet key") }
    var record = UserRecord(
      parameters: parameters, secret: secret, counter: UInt64(clamping: try cells["counter"].decode(Int64.self)),
      lastStep: try cells["last_step"].decode(Int64?.self), offset: try cells["time_offset"].decode(Int64.self),
      failures: try cells["failures"].decode(Int.self), lockedUntil: try cells["locked_until"].decode(Int64.self),
      enrolled: try cells["enrolled"].decode(Int64.self), stateID: UInt64(bitPattern: version))
    record.invitation = Invitation(
      expires: try cells["expires"].decode(Int64.self), issuer: try cells["issuer"].decode(String.self), qr: qr)
    return (record, version)
  }

  /// Writes `record`, an invitation, as the user's row at `version`, its secret `sealed`.
  func writeInvitation(
    _ record: UserRecord, for user: UserName, version: Int64, sealed: ByteBuffer, on connection: PostgresConnection
  ) async throws {
    guard let invitation = record.invitation else { return }
    guard record.backupCodes.hashes.isEmpty else {
      throw RecordFailure(
        "an invitation holds no backup codes (the user gets them on taking it up); \(user) was not changed")
    }
    let qr = try seal(SecretBytes(invitation.qr.encoded), for: user, version: version)
    let p = record.parameters
    try await connection.query(
      """
      INSERT INTO lockstep_invitations (name, version, sealed, sealed_qr, kind, algorithm, digits, period, counter,
        last_step, time_offset, failures, locked_until, enrolled, expires, issuer, updated_by)
      VALUES (\(user.text), \(version), \(sealed), \(qr), \(p.kind.rawValue), \(p.algorithm.rawValue), \(p.digits),
        \(p.period), \(Int64(clamping: record.counter)), \(record.lastStep), \(record.offset), \(record.failures),
        \(record.lockedUntil), \(record.enrolled), \(invitation.expires), \(invitation.issuer), \(hostName))
      ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, sealed = EXCLUDED.sealed,
        sealed_qr = EXCLUDED.sealed_qr, kind = EXCLUDED.kind, algorithm = EXCLUDED.algorithm, digits = EXCLUDED.digits,
        period = EXCLUDED.period, counter = EXCLUDED.counter, last_step = EXCLUDED.last_step,
        time_offset = EXCLUDED.time_offset, failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until,
        enrolled = EXCLUDED.enrolled, expires = EXCLUDED.expires, issuer = EXCLUDED.issuer,
        updated_by = EXCLUDED.updated_by, updated_at = now()
      """, logger: logger)
  }
}
