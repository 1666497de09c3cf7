import LockstepCore
import LockstepNettle

/// One login's decision: an answer checked by the module's verifier against any record state
/// the store can hold, under any policy the arguments allow, at any clock reading, with the
/// real HMAC and PBKDF2 of nettle, as the module computes them.
///
/// Input: a byte choosing the token type, algorithm, digits and how the answer is made (as
/// given, the right code for a step near the current one, a backup code, or the code sent to
/// the user); the record's fields and the policy, each brought into its documented range; the
/// clock; a step offset; a sent code (whether one is pending, when it expires, the attempts it
/// has left, its digits); the secret; the answer.
///
/// Properties: a locked-out user is refused unchecked; an answer that is not a code changes
/// nothing; an accepted code is really the code of a step inside the window (or the HOTP
/// look-ahead) and never of a step at or before the replay watermark; the right code of such
/// a step, and an unused backup code, are always accepted; a failure counts one, and locks out
/// at the threshold; a sent code is accepted only while pending and only for its own digits,
/// and used up then, while any wrong answer takes one of its attempts; and every state the verifier asks the store to write survives the state
/// slot and the record format, so that no login can leave a record the next login refuses.
func fuzz(_ input: UnsafeRawBufferPointer) {
  var reader = FuzzInput(input)
  let (parameters, spare) = reader.tokenParameters()
  let kind = parameters.kind
  let answerMode = spare % 4
  let lastStep = reader.integer(Int64.self)
  let times = UInt64(UserRecord.latestTime) + 1
  var record = UserRecord(
    parameters: parameters, secret: SecretBytes([0]),
    counter: reader.integer(UInt64.self) % (UserRecord.largestCounter + 1),
    lastStep: lastStep < 0 ? nil : lastStep,
    offset: reader.integer(Int64.self) % (UserRecord.offsetRange.upperBound + 1),
    failures: Int(reader.integer(UInt32.self) % UInt32(UserRecord.largestFailureCount + 1)),
    lockedUntil: reader.byte() & 1 == 0 ? 0 : Int64(reader.integer(UInt64.self) % times),
    lastSuccess: Int64(reader.integer(UInt64.self) % times))
  let policy = VerificationPolicy(
    window: Int(reader.byte() % 11), lookahead: Int(reader.byte() % 101),
    maxFailures: 1 + Int(reader.integer(UInt16.self) % 1000),
    lockoutSeconds: Int(reader.integer(UInt32.self) % 31_536_001))
  let now = reader.integer(Int64.self)
  let delta = Int64(Int8(bitPattern: reader.byte()))
  let sentByte = reader.byte()
  let sentCode = (0..<parameters.digits).map { _ in UInt8(ascii: "0") + reader.byte() % 10 }
  let hostKey = SecretBytes(Array(repeating: 0x5a, count: 32))
  guard let user = UserName(bytes: Array("fuzz".utf8)) else { return }
  if sentByte & 1 == 1 || answerMode == 3 {
    let digest = sentCode.withUnsafeBytes {
      SentCode.digest(of: $0, for: user, hostKey: hostKey, crypto: NettleCrypto())
    }
    let expires = min(max(now.saturatingAdd(Int64(Int8(bitPattern: sentByte & 0xf0))), 1), UserRecord.latestTime)
    record.state.sent = SentCodeState(
      digest: digest, expires: expires, attemptsLeft: Int(sentByte >> 1 & 3), sendsInWindow: 1)
  }
  var secret = reader.chunk(limit: 64)
  if secret.isEmpty { secret = [0] }
  record.secret = SecretBytes(secret)
  let crypto = NettleCrypto()

  let verifier = Verifier(policy: policy, crypto: crypto)
  let current = independentStep(now: now, period: Int64(parameters.period)).saturatingAdd(record.offset)
  let target: Int64? =
    switch (answerMode, kind) {
    case (1, .totp): current.saturatingAdd(delta)
    case (1, .hotp): Int64(clamping: record.counter).saturatingAdd(abs(delta))
    default: nil
    }
  var answer = reader.rest()
  if let target, target >= 0 {
    answer = codeText(record, step: target, crypto: crypto)
  } else if answerMode == 2 {
    let codes = BackupCodeHashes.generateCodes(count: 3, crypto: crypto) ?? []
    record.backupCodes = BackupCodeHashes.issue(codes: codes, iterations: 1, crypto: crypto) ?? .none
    answer = codes.last ?? []
  }
  if answerMode == 3 { answer = sentCode }
  let attempt = answer.withUnsafeBytes { Attempt.typed($0) }
  let sentDigest = attempt.code?.withUnsafeBytes {
    SentCode.digest(of: $0, for: user, hostKey: hostKey, crypto: crypto)
  }
  let (outcome, updated) = verifier.verify(attempt, against: record, now: now, sentDigest: sentDigest)
  let pending = record.state.sent.isPending(at: now)

  let locked = record.lockedUntil != 0 && now < record.lockedUntil
  require(locked == (outcome == .lockedOut(until: record.lockedUntil)), "lockout not honoured: \(outcome)")
  let failures = record.lockedUntil != 0 && now >= record.lockedUntil ? 0 : record.failures
  switch outcome {
  case .lockedOut, .rejected(.notACode, _, _):
    require(updated == nil, "\(outcome) changed the record")
  case .rejected(.replayedEnrollmentCode(let step), let count, _):
    // Refused uncounted: only the step that confirmed the enrollment, before any success.
    require(record.lastSuccess == 0 && step == record.lastStep, "an uncounted replay of step \(step)")
    require(updated == nil && count == failures, "\(outcome) changed the record")
  case .accepted(.code(let step)):
    require(
      codeText(record, step: step, crypto: crypto).elementsEqual(attempt.code.map(bytes(of:)) ?? []),
      "accepted a code that is not the code of step \(step)")
    switch kind {
    case .totp:
      require(distance(step, current) <= policy.window, "accepted step \(step) outside the window around \(current)")
      require(record.lastStep.map { step > $0 } ?? true, "accepted a replay of step \(step)")
      require(updated?.lastStep == step, "the watermark did not move to the accepted step")
    case .hotp:
      let first = Int64(clamping: record.counter)
      require(step >= first && step - first <= policy.lookahead, "accepted counter \(step) outside the look-ahead")
      require(updated?.counter == UInt64(step) + 1, "the counter did not move past the accepted one")
    case .delivered: require(false, "an app's code was accepted for a record with no secret")
    }
    require(updated?.failures == 0 && updated?.lockedUntil == 0, "a success did not clear the failures")
  case .accepted(.sentCode):
    require(pending && answer == sentCode, "a sent code was accepted that is not the pending one")
    require(updated?.state.sent.digest.isEmpty == true, "the sent code was not used up")
  case .accepted(.backupCode(let remaining)):
    require(updated?.backupCodes.hashes.count == remaining, "the used backup code was not removed")
    require(remaining == record.backupCodes.hashes.count - 1, "not exactly one backup code was used")
  case .rejected(_, let count, let lockedUntil):
    require(count == min(failures + 1, UserRecord.largestFailureCount), "failure count \(count) after \(failures)")
    require(updated?.failures == count, "the failure was not recorded")
    let expectLockout = policy.lockoutSeconds > 0 && count >= policy.maxFailures
    require((lockedUntil != nil) == expectLockout, "lockout \(String(describing: lockedUntil)) at \(count) failures")
    if pending {
      let left = record.state.sent.attemptsLeft - 1
      require(
        updated?.state.sent.attemptsLeft == left && (left > 0) == (updated?.state.sent.digest.isEmpty == false),
        "a wrong answer did not take exactly one of the sent code's attempts")
    }
  }

  let mustAccept: Bool =
    switch (answerMode, kind, target) {
    case (1, .totp, let step?):
      !locked && step >= 0 && abs(delta) <= policy.window && record.lastStep.map { step > $0 } ?? true
    case (1, .hotp, let step?): !locked && abs(delta) <= policy.lookahead && step < Int64(UserRecord.largestCounter)
    case (2, _, nil): !locked && !record.backupCodes.hashes.isEmpty
    case (3, _, _): !locked && pending
    default: false
    }
  if mustAccept {
    guard case .accepted = outcome else {
      require(false, "the right answer was refused: \(outcome)")
      return
    }
  }

  if let updated {
    let slot = StateSlot(of: updated, sequence: 1)
    require(slot.encoded().withUnsafeBytes { StateSlot(decoding: $0) } == slot, "a written state does not decode")
    require(survivesRecordFormat(updated), "a written state does not fit a record")
  }
}

/// How far apart `a` and `b` are, without overflow.
private func distance(_ a: Int64, _ b: Int64) -> UInt64 {
  a > b ? UInt64(bitPattern: a &- b) : UInt64(bitPattern: b &- a)
}

/// The TOTP time step of `now`, rounded towards minus infinity.
private func independentStep(now: Int64, period: Int64) -> Int64 {
  let (quotient, remainder) = now.quotientAndRemainder(dividingBy: period)
  return remainder < 0 ? quotient - 1 : quotient
}

/// The code of `record` at `step`, as the user's app shows it.
private func codeText(_ record: UserRecord, step: Int64, crypto: NettleCrypto) -> [UInt8] {
  let p = record.parameters
  return OneTimePassword.text(
    secret: record.secret, counter: UInt64(clamping: step), algorithm: p.algorithm, digits: p.digits, crypto: crypto)
    ?? []
}
