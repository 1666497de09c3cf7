/// How an attempt was accepted.
public enum AcceptedBy: Equatable, Sendable {
  /// A one-time code, at this time step (TOTP) or counter value (HOTP).
  case code(step: Int64)
  /// A backup code, now consumed; `remaining` are left.
  case backupCode(remaining: Int)
  /// The code sent to the user by email or SMS, now consumed.
  case sentCode
}

/// Why an attempt was refused after it was checked.
public enum RejectionReason: Equatable, Sendable {
  /// The answer matched no code in the window and no backup code.
  case wrongCode
  /// The answer is the code of a time step at or before the last accepted one.
  case replayedCode(step: Int64)
  /// The answer is the code that confirmed the enrollment, typed again before any login
  /// succeeded: most likely the user trying the code they just typed, so it is refused without
  /// being counted as a failure (and without a write).
  case replayedEnrollmentCode(step: Int64)
  /// The answer has neither the shape of a code nor of a backup code (a password typed at the
  /// code prompt, an empty line, letters): it cannot match, so it is refused without being
  /// counted as a failure and without a write.
  case notACode
}

/// The result of checking one attempt against a record.
public enum VerificationOutcome: Equatable, Sendable {
  /// The attempt is good; the record now reflects its use.
  case accepted(AcceptedBy)
  /// The attempt is wrong; `failures` is the count of consecutive failures after it, and
  /// `lockedUntil` is set when this failure started a lockout.
  case rejected(RejectionReason, failures: Int, lockedUntil: Int64?)
  /// The user is locked out; the attempt was not checked and nothing changed.
  case lockedOut(until: Int64)
}

/// Checks attempts against records: the policy at the heart of the module, with no I/O.
///
/// The verifier is given the time, so that tests can check every boundary exactly. It returns
/// the record as it must be stored after the attempt; the caller writes it back while still
/// holding the user's lock.
public struct Verifier<Crypto: CryptoProvider> {
  public let policy: VerificationPolicy
  public let crypto: Crypto

  public init(policy: VerificationPolicy, crypto: Crypto) {
    self.policy = policy
    self.crypto = crypto
  }

  /// The outcome of `attempt` at `now`, and the record to store (`nil` when nothing changed).
  /// `backupDigest` is the attempt's backup code hashed before the lock was taken; it is used
  /// when it applies to the record's set, and the hash is computed here otherwise.
  /// `sentDigest` is the attempt's code under the host key (`SentCode.digest`), compared with
  /// the code sent to the user, if one is pending: a match uses it up, and a wrong answer uses
  /// up one of its attempts (the last burns it) besides counting as a failure.
  public func verify(
    _ attempt: Attempt, against original: UserRecord, now: Int64, backupDigest: BackupCodeDigest? = nil,
    sentDigest: [UInt8]? = nil
  )
    -> (outcome: VerificationOutcome, updated: UserRecord?)
  {
    var record = original
    if record.lockedUntil != 0 {
      if now < record.lockedUntil { return (.lockedOut(until: record.lockedUntil), nil) }
      record.lockedUntil = 0
      record.failures = 0
    }
    if !record.state.sent.digest.isEmpty && !record.state.sent.isPending(at: now) {
      // Expired: forgotten with whatever this attempt writes.
      record.state.sent.dropPendingCode()
    }
    guard attempt.couldBeCode(digits: record.parameters.digits) else {
      return (.rejected(.notACode, failures: record.failures, lockedUntil: nil), nil)
    }
    let result = checkCode(attempt.code, in: record, now: now)
    if case .match(let step) = result {
      switch record.parameters.kind {
      case .totp: record.lastStep = step
      case .hotp: record.counter = UInt64(step) &+ 1
      case .delivered: break
      }
      return (succeed(&record, now: now, by: .code(step: step)), record)
    }
    if matchesSentCode(sentDigest, of: record, now: now) {
      return (succeed(&record, now: now, by: .sentCode), record)
    }
    if let index = matchingBackupCode(in: attempt, of: record, digest: backupDigest) {
      record.backupCodes.hashes.remove(at: index)
      return (succeed(&record, now: now, by: .backupCode(remaining: record.backupCodes.hashes.count)), record)
    }
    let reason: RejectionReason
    if case .replay(let step) = result {
      if record.lastSuccess == 0 && step == record.lastStep {
        return (.rejected(.replayedEnrollmentCode(step: step), failures: record.failures, lockedUntil: nil), nil)
      }
      reason = .replayedCode(step: step)
    } else {
      reason = .wrongCode
    }
    if record.state.sent.isPending(at: now) {
      record.state.sent.attemptsLeft -= 1
      if record.state.sent.attemptsLeft == 0 { record.state.sent.dropPendingCode() }
    }
    record.failures = min(max(record.failures, 0) + 1, UserRecord.largestFailureCount)
    var lockedUntil: Int64?
    if policy.lockoutSeconds > 0 && record.failures >= policy.maxFailures {
      record.lockedUntil = min(max(now.saturatingAdd(Int64(policy.lockoutSeconds)), 1), UserRecord.latestTime)
      lockedUntil = record.lockedUntil
    }
    return (.rejected(reason, failures: record.failures, lockedUntil: lockedUntil), record)
  }

  /// The current TOTP time step for `record` at `now`, including its recorded clock offset.
  public func currentStep(of record: UserRecord, at now: Int64) -> Int64 {
    record.parameters.timeStep(at: now).saturatingAdd(record.offset)
  }

  private func succeed(_ record: inout UserRecord, now: Int64, by method: AcceptedBy) -> VerificationOutcome {
    record.failures = 0
    record.lockedUntil = 0
    record.lastSuccess = min(max(0, now), UserRecord.latestTime)
    // A code sent for this login, or an earlier one, is no use once the user is in.
    record.state.sent.dropPendingCode()
    return .accepted(method)
  }

  /// Whether `digest` is that of the code pending for the record's user, compared in constant
  /// time.
  private func matchesSentCode(_ digest: [UInt8]?, of record: UserRecord, now: Int64) -> Bool {
    let sent = record.state.sent
    guard let digest, sent.isPending(at: now), digest.count == sent.digest.count else { return false }
    return digest.withUnsafeBytes { a in sent.digest.withUnsafeBytes { crypto.constantTimeEqual(a, $0) } }
  }

  private enum CodeResult {
    case match(Int64)
    case replay(Int64)
    case none
  }

  /// Compares `candidate` with the code of every step in the window. All codes in the window
  /// are computed and compared in constant time, whatever matches, so the time taken does not
  /// reveal which step matched.
  private func checkCode(_ candidate: SecretBytes?, in record: UserRecord, now: Int64) -> CodeResult {
    let p = record.parameters
    guard let candidate, p.isValid, p.kind != .delivered,
      candidate.withUnsafeBytes({ $0.count == p.digits && $0.allSatisfy(isDigit) })
    else { return .none }
    let first: Int64
    let last: Int64
    switch p.kind {
    case .totp:
      let current = currentStep(of: record, at: now)
      first = current.saturatingAdd(-Int64(policy.window))
      last = current.saturatingAdd(Int64(policy.window))
    case .hotp:
      first = Int64(clamping: record.counter)
      last = min(first.saturatingAdd(Int64(policy.lookahead)), Int64(UserRecord.largestCounter) - 1)
    case .delivered: return .none
    }
    guard first <= last else { return .none }
    var result = CodeResult.none
    for step in first...last where step >= 0 {
      guard
        var expected = OneTimePassword.text(
          secret: record.secret, counter: UInt64(step), algorithm: p.algorithm, digits: p.digits, crypto: crypto)
      else { continue }
      let equal = candidate.withUnsafeBytes { typed in
        expected.withUnsafeBytes { crypto.constantTimeEqual(typed, $0) }
      }
      wipe(&expected)
      guard equal else { continue }
      if p.kind == .totp, let last = record.lastStep, step <= last {
        if case .none = result { result = .replay(step) }
      } else if case .match = result {
        continue
      } else {
        result = .match(step)
      }
    }
    return result
  }

  /// The index of the backup code the attempt holds, if it is one of the record's.
  private func matchingBackupCode(in attempt: Attempt, of record: UserRecord, digest: BackupCodeDigest?) -> Int? {
    let set = record.backupCodes
    let hash: [UInt8]
    if let digest, digest.applies(to: set) {
      hash = digest.hash
    } else if let computed = set.digest(of: attempt, crypto: crypto) {
      hash = computed.hash
    } else {
      return nil
    }
    var found: Int?
    for (index, stored) in set.hashes.enumerated() {
      let equal = hash.withUnsafeBytes { a in stored.withUnsafeBytes { crypto.constantTimeEqual(a, $0) } }
      if equal && found == nil { found = index }
    }
    return found
  }
}
