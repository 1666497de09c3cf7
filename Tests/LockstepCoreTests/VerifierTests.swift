import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// An answer typed at the prompt.
func typed(_ answer: String) -> Attempt { utf8(answer).withUnsafeBytes { Attempt.typed($0) } }

/// A password and code typed together (`forward_pass`).
func forwarded(_ answer: String, digits: Int) -> Attempt {
  utf8(answer).withUnsafeBytes { Attempt.forwarded($0, digits: digits) }
}

/// A record for the RFC 4226 secret, whose codes for counters (or time steps) 0 to 9 are
/// `rfc4226Codes`.
func rfcRecord(kind: TokenKind = .totp, counter: UInt64 = 0, lastStep: Int64? = nil, offset: Int64 = 0) -> UserRecord {
  UserRecord(
    parameters: TokenParameters(kind: kind, algorithm: .sha1, digits: 6, period: 30), secret: secretBytes(rfcSeedSHA1),
    counter: counter, lastStep: lastStep, offset: offset)
}

/// A time inside TOTP step `step` of 30 seconds.
func time(inStep step: Int64) -> Int64 { step * 30 + 7 }

func verifier(
  window: Int = 1, lookahead: Int = 10, maxFailures: Int = 5, lockoutSeconds: Int = 900
) -> Verifier<LibCrypto> {
  Verifier(
    policy: VerificationPolicy(
      window: window, lookahead: lookahead, maxFailures: maxFailures, lockoutSeconds: lockoutSeconds),
    crypto: libCrypto)
}

@Suite("Verifier: TOTP")
struct VerifierTOTPTests {
  @Test("the code for the current step is accepted", arguments: 0..<10)
  func currentStep(step: Int) throws {
    let now = time(inStep: Int64(step))
    let (outcome, updated) = verifier(window: 0).verify(typed(rfc4226Codes[step]), against: rfcRecord(), now: now)
    #expect(outcome == .accepted(.code(step: Int64(step))))
    let record = try #require(updated)
    #expect(record.lastStep == Int64(step))
    #expect(record.lastSuccess == now)
    #expect(record.failures == 0)
    #expect(record.lockedUntil == 0)
  }

  @Test("RFC 6238 codes are accepted at their times", arguments: rfc6238Vectors)
  func rfc6238(vector: TOTPVector) {
    let record = UserRecord(
      parameters: TokenParameters(kind: .totp, algorithm: vector.algorithm, digits: 8, period: 30),
      secret: secretBytes(vector.seed))
    let outcome = verifier(window: 0).verify(typed(vector.code), against: record, now: vector.time).outcome
    #expect(outcome == .accepted(.code(step: vector.step)))
  }

  @Test("steps within the window are accepted, the next ones outside are not", arguments: 0...3)
  func window(window: Int) {
    let current: Int64 = 5
    let now = time(inStep: current)
    for delta in -(window + 1)...(window + 1) {
      let step = Int(current) + delta
      let outcome = verifier(window: window).verify(typed(rfc4226Codes[step]), against: rfcRecord(), now: now).outcome
      if abs(delta) <= window {
        #expect(outcome == .accepted(.code(step: Int64(step))), "window \(window), step \(step)")
      } else {
        #expect(outcome == .rejected(.wrongCode, failures: 1, lockedUntil: nil), "window \(window), step \(step)")
      }
    }
  }

  @Test("the window is exact at the edges of a step")
  func stepEdges() {
    // 150 is the first second of step 5 and 179 the last; step 7's code is outside window 1 at both.
    for now: Int64 in [150, 179] {
      #expect(
        verifier().verify(typed(rfc4226Codes[6]), against: rfcRecord(), now: now).outcome == .accepted(.code(step: 6)))
      #expect(
        verifier().verify(typed(rfc4226Codes[7]), against: rfcRecord(), now: now).outcome != .accepted(.code(step: 7)))
    }
    // 180 is step 6: step 7 is now inside the window, step 4 no longer.
    #expect(
      verifier().verify(typed(rfc4226Codes[7]), against: rfcRecord(), now: 180).outcome == .accepted(.code(step: 7)))
    #expect(
      verifier().verify(typed(rfc4226Codes[4]), against: rfcRecord(), now: 180).outcome != .accepted(.code(step: 4)))
  }

  @Test("the same code twice: the second time is a replay")
  func sameCodeTwice() throws {
    let v = verifier()
    let first = v.verify(typed(rfc4226Codes[5]), against: rfcRecord(), now: 157)
    #expect(first.outcome == .accepted(.code(step: 5)))
    let afterFirst = try #require(first.updated)
    let second = v.verify(typed(rfc4226Codes[5]), against: afterFirst, now: 163)
    #expect(second.outcome == .rejected(.replayedCode(step: 5), failures: 1, lockedUntil: nil))
    let afterSecond = try #require(second.updated)
    #expect(afterSecond.lastStep == 5)
    #expect(afterSecond.failures == 1)
    #expect(afterSecond.lastSuccess == 157)
  }

  @Test("a code for an earlier step than the last accepted one is a replay")
  func earlierStepAfterLater() throws {
    let v = verifier()
    let later = v.verify(typed(rfc4226Codes[6]), against: rfcRecord(), now: 157)
    #expect(later.outcome == .accepted(.code(step: 6)))
    let record = try #require(later.updated)
    #expect(
      v.verify(typed(rfc4226Codes[5]), against: record, now: 158).outcome
        == .rejected(.replayedCode(step: 5), failures: 1, lockedUntil: nil))
    #expect(
      v.verify(typed(rfc4226Codes[4]), against: record, now: 158).outcome
        == .rejected(.replayedCode(step: 4), failures: 1, lockedUntil: nil))
  }

  @Test("a later step than the last accepted one is accepted")
  func laterStepAfterEarlier() throws {
    let (outcome, updated) = verifier().verify(typed(rfc4226Codes[5]), against: rfcRecord(lastStep: 4), now: 157)
    #expect(outcome == .accepted(.code(step: 5)))
    #expect(updated?.lastStep == 5)
  }

  @Test("codes at or before the last accepted step are replays even when the clock went back", arguments: 4...6)
  func clockWentBack(step: Int) {
    // Step 7 was accepted; the clock now reads step 5.
    let outcome = verifier().verify(typed(rfc4226Codes[step]), against: rfcRecord(lastStep: 7), now: time(inStep: 5))
      .outcome
    #expect(outcome == .rejected(.replayedCode(step: Int64(step)), failures: 1, lockedUntil: nil))
  }

  @Test("the record's clock offset moves the accepted steps")
  func clockOffset() throws {
    let v = verifier(window: 0)
    let ahead = rfcRecord(offset: 3)
    #expect(v.currentStep(of: ahead, at: time(inStep: 2)) == 5)
    let (outcome, updated) = v.verify(typed(rfc4226Codes[5]), against: ahead, now: time(inStep: 2))
    #expect(outcome == .accepted(.code(step: 5)))
    #expect(updated?.lastStep == 5)
    #expect(
      v.verify(typed(rfc4226Codes[2]), against: ahead, now: time(inStep: 2)).outcome
        == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
    let behind = rfcRecord(offset: -2)
    #expect(
      v.verify(typed(rfc4226Codes[5]), against: behind, now: time(inStep: 7)).outcome == .accepted(.code(step: 5)))
    #expect(
      v.verify(typed(rfc4226Codes[7]), against: behind, now: time(inStep: 7)).outcome
        == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
  }

  @Test(
    "answers that are not exactly the code are refused",
    arguments: [
      "+7081804", "7081804", "007081804", "07081804\n", "０７０８１８０４", "O7081804", "07081804\0", "0708180４",
      "0.708180", "",
    ])
  func wrongShapes(answer: String) {
    // RFC 6238: SHA1, 8 digits, at 1111111109 the code is 07081804.
    let record = UserRecord(
      parameters: TokenParameters(kind: .totp, algorithm: .sha1, digits: 8, period: 30),
      secret: secretBytes(rfcSeedSHA1))
    let v = verifier(window: 0)
    #expect(
      v.verify(typed("07081804"), against: record, now: 1_111_111_109).outcome == .accepted(.code(step: 0x23523EC)))
    let (outcome, updated) = v.verify(typed(answer), against: record, now: 1_111_111_109)
    #expect(outcome == .rejected(.notACode, failures: 0, lockedUntil: nil))
    #expect(updated == nil, "an answer that cannot be a code changes nothing")
  }

  @Test(
    "malformed six-digit answers are refused", arguments: ["+12345", "-12345", "12345", "1234567", "12 45a6", "１２３４５６"])
  func malformedSixDigits(answer: String) {
    var record = rfcRecord()
    record.failures = 2
    let (outcome, updated) = verifier().verify(typed(answer), against: record, now: 157)
    #expect(outcome == .rejected(.notACode, failures: 2, lockedUntil: nil))
    #expect(updated == nil)
  }

  @Test(
    "spaces, tabs and hyphens in a typed code are ignored",
    arguments: ["254 676", "254-676", " 2 5 4 6 7 6\t", "25-46-76"])
  func separators(answer: String) {
    #expect(verifier().verify(typed(answer), against: rfcRecord(), now: 157).outcome == .accepted(.code(step: 5)))
  }

  @Test("a code is refused when HMAC fails, whatever was typed", arguments: [6, 7, 8])
  func hmacFailureFailsClosed(digits: Int) {
    // A crypto provider whose HMAC returns nothing: no answer may be accepted, in particular
    // not the digits of any sentinel value standing in for a missing code.
    let record = UserRecord(
      parameters: TokenParameters(kind: .totp, algorithm: .sha1, digits: digits, period: 30),
      secret: secretBytes(rfcSeedSHA1))
    let v = Verifier(policy: VerificationPolicy(), crypto: NoHMAC())
    for value in [UInt32.max, 0, UInt32(Int32.max)] {
      let answer = String(String(value).suffix(digits)).leftPadded(to: digits)
      let outcome = v.verify(typed(answer), against: record, now: 157).outcome
      #expect(outcome == .rejected(.wrongCode, failures: 1, lockedUntil: nil), "answer \(answer)")
    }
  }
}

@Suite("Verifier: lockout")
struct VerifierLockoutTests {
  @Test("lockout starts exactly at max_failures and lasts lockout seconds")
  func lockout() throws {
    let v = verifier(maxFailures: 5, lockoutSeconds: 60)
    var record = rfcRecord()
    let now: Int64 = 157
    for failure in 1...4 {
      let (outcome, updated) = v.verify(typed("000000"), against: record, now: now)
      #expect(outcome == .rejected(.wrongCode, failures: failure, lockedUntil: nil))
      record = try #require(updated)
      #expect(record.failures == failure)
      #expect(record.lockedUntil == 0)
    }
    let (fifth, locked) = v.verify(typed("000000"), against: record, now: now)
    #expect(fifth == .rejected(.wrongCode, failures: 5, lockedUntil: 217))
    record = try #require(locked)
    #expect(record.lockedUntil == 217)

    // While locked out even the right code is not checked, and nothing changes.
    for (step, at) in [(5, Int64(158)), (7, 216)] {
      let (outcome, updated) = v.verify(typed(rfc4226Codes[step]), against: record, now: at)
      #expect(outcome == .lockedOut(until: 217))
      #expect(updated == nil)
    }

    // From the moment it ends, the right code works again and the failures are forgotten.
    let (afterwards, unlocked) = v.verify(typed(rfc4226Codes[7]), against: record, now: 217)
    #expect(afterwards == .accepted(.code(step: 7)))
    let cleared = try #require(unlocked)
    #expect(cleared.failures == 0)
    #expect(cleared.lockedUntil == 0)
    #expect(cleared.lastSuccess == 217)
  }

  @Test("a wrong code after a lockout ended counts from one again")
  func failuresResetAfterLockout() throws {
    let v = verifier(maxFailures: 5, lockoutSeconds: 60)
    var record = rfcRecord()
    record.failures = 5
    record.lockedUntil = 150
    let (outcome, updated) = v.verify(typed("000000"), against: record, now: 157)
    #expect(outcome == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
    #expect(updated?.failures == 1)
    #expect(updated?.lockedUntil == 0)
  }

  @Test("max_failures=1 locks at the first failure")
  func lockAtFirstFailure() {
    let outcome = verifier(maxFailures: 1, lockoutSeconds: 900).verify(typed("000000"), against: rfcRecord(), now: 157)
      .outcome
    #expect(outcome == .rejected(.wrongCode, failures: 1, lockedUntil: 1057))
  }

  @Test("lockout=0 never locks")
  func lockoutOff() throws {
    let v = verifier(maxFailures: 5, lockoutSeconds: 0)
    var record = rfcRecord()
    for failure in 1...20 {
      let (outcome, updated) = v.verify(typed("000000"), against: record, now: 157)
      #expect(outcome == .rejected(.wrongCode, failures: failure, lockedUntil: nil))
      record = try #require(updated)
      #expect(record.lockedUntil == 0)
    }
    #expect(v.verify(typed(rfc4226Codes[5]), against: record, now: 157).outcome == .accepted(.code(step: 5)))
  }

  @Test("a success resets the failure count")
  func successResetsFailures() throws {
    let v = verifier(maxFailures: 5, lockoutSeconds: 60)
    var record = rfcRecord()
    record.failures = 4
    let (outcome, updated) = v.verify(typed(rfc4226Codes[5]), against: record, now: 157)
    #expect(outcome == .accepted(.code(step: 5)))
    let after = try #require(updated)
    #expect(after.failures == 0)
    #expect(
      v.verify(typed("000000"), against: after, now: 158).outcome
        == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
  }

  @Test("a replay counts as a failure towards lockout")
  func replayCountsAsFailure() {
    var record = rfcRecord(lastStep: 5)
    record.failures = 4
    record.lastSuccess = 150
    let outcome = verifier(maxFailures: 5, lockoutSeconds: 60).verify(typed(rfc4226Codes[5]), against: record, now: 157)
      .outcome
    #expect(outcome == .rejected(.replayedCode(step: 5), failures: 5, lockedUntil: 217))
  }

  @Test("the code that confirmed the enrollment, typed again before any login, is refused uncounted")
  func enrollmentCodeReplayIsNotCounted() {
    // Enrollment stores the confirmed step as the watermark and no success.
    var record = rfcRecord(lastStep: 5)
    record.failures = 2
    let v = verifier(maxFailures: 3, lockoutSeconds: 60)
    let (outcome, updated) = v.verify(typed(rfc4226Codes[5]), against: record, now: 157)
    #expect(outcome == .rejected(.replayedEnrollmentCode(step: 5), failures: 2, lockedUntil: nil))
    #expect(updated == nil)
    // An earlier step than the confirmed one is an ordinary replay, and counted.
    #expect(
      v.verify(typed(rfc4226Codes[4]), against: record, now: 157).outcome
        == .rejected(.replayedCode(step: 4), failures: 3, lockedUntil: 217))
  }

  @Test("a backup code hashed before the lock is used when the set is the same, and ignored when it is not")
  func precomputedBackupDigest() throws {
    let crypto = LibCrypto()
    let codes: [[UInt8]] = [Array("12345678".utf8), Array("87654321".utf8)]
    var record = rfcRecord()
    record.backupCodes = try #require(BackupCodeHashes.issue(codes: codes, iterations: 10, crypto: crypto))
    let attempt = typed("87654321")
    let digest = try #require(record.backupCodes.digest(of: attempt, crypto: crypto))
    let v = verifier()
    #expect(
      v.verify(attempt, against: record, now: 157, backupDigest: digest).outcome == .accepted(.backupCode(remaining: 1))
    )
    // The codes were replaced between the prompt and the lock: the digest no longer applies.
    var replaced = record
    replaced.backupCodes = try #require(BackupCodeHashes.issue(codes: codes, iterations: 10, crypto: crypto))
    #expect(!digest.applies(to: replaced.backupCodes))
    #expect(
      v.verify(attempt, against: replaced, now: 157, backupDigest: digest).outcome
        == .accepted(.backupCode(remaining: 1)))
    // A digest of another code never matches.
    let other = try #require(record.backupCodes.digest(of: typed("11111111"), crypto: crypto))
    #expect(
      v.verify(attempt, against: record, now: 157, backupDigest: other).outcome
        == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
  }
}

@Suite("Verifier: HOTP")
struct VerifierHOTPTests {
  @Test("the expected counter value is accepted and the counter moves past it")
  func expectedCounter() throws {
    let (outcome, updated) = verifier().verify(
      typed(rfc4226Codes[2]), against: rfcRecord(kind: .hotp, counter: 2), now: 1)
    #expect(outcome == .accepted(.code(step: 2)))
    let record = try #require(updated)
    #expect(record.counter == 3)
    #expect(record.lastStep == nil)
  }

  @Test("codes within the look-ahead are accepted, the next one is not", arguments: 0...3)
  func lookAhead(lookahead: Int) {
    for counter in 2...(2 + lookahead + 1) {
      let (outcome, updated) = verifier(lookahead: lookahead).verify(
        typed(rfc4226Codes[counter]), against: rfcRecord(kind: .hotp, counter: 2), now: 1_000_000)
      if counter <= 2 + lookahead {
        #expect(outcome == .accepted(.code(step: Int64(counter))), "look-ahead \(lookahead), counter \(counter)")
        #expect(updated?.counter == UInt64(counter + 1))
      } else {
        #expect(outcome == .rejected(.wrongCode, failures: 1, lockedUntil: nil), "look-ahead \(lookahead)")
        #expect(updated?.counter == 2)
      }
    }
  }

  @Test("an old HOTP code is refused after a later one was used")
  func oldCodeRefused() throws {
    let v = verifier(lookahead: 3)
    let first = v.verify(typed(rfc4226Codes[3]), against: rfcRecord(kind: .hotp, counter: 2), now: 1)
    #expect(first.outcome == .accepted(.code(step: 3)))
    let record = try #require(first.updated)
    for counter in [2, 3] {
      #expect(
        v.verify(typed(rfc4226Codes[counter]), against: record, now: 1).outcome
          == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
    }
    #expect(v.verify(typed(rfc4226Codes[4]), against: record, now: 1).outcome == .accepted(.code(step: 4)))
  }

  @Test("HOTP codes do not depend on the time")
  func timeIgnored() {
    for now: Int64 in [0, 157, 1_770_521_790] {
      #expect(
        verifier(lookahead: 0).verify(typed(rfc4226Codes[0]), against: rfcRecord(kind: .hotp), now: now).outcome
          == .accepted(.code(step: 0)))
    }
  }
}

/// A crypto provider whose HMAC always fails; everything else is libcrypto.
struct NoHMAC: CryptoProvider {
  func hmac(_ algorithm: OTPAlgorithm, key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] { [] }

  func pbkdf2SHA256(password: UnsafeRawBufferPointer, salt: [UInt8], iterations: Int, length: Int) -> [UInt8]? {
    libCrypto.pbkdf2SHA256(password: password, salt: salt, iterations: iterations, length: length)
  }

  func randomBytes(count: Int) -> [UInt8]? { libCrypto.randomBytes(count: count) }

  func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    libCrypto.constantTimeEqual(a, b)
  }
}

extension String {
  /// The string with zeros in front up to `width` characters.
  func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
