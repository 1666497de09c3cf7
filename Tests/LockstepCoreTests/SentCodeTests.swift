import LockstepCore
import Testing

/// Codes sent by email and SMS, in the core: the contact's checks and masking, the limits on
/// sends, the code's digits and keyed hash, the state that carries them (slot version 2 and the
/// record's keys), and the verifier's use of a sent code.
@Suite struct SentCodeTests {
  static let alice = UserName(bytes: Array("alice".utf8)).unsafelyUnwrapped
  static let bob = UserName(bytes: Array("bob".utf8)).unsafelyUnwrapped
  static var hostKey: SecretBytes { SecretBytes(Array(repeating: 7, count: 32)) }
  static let now: Int64 = 1_770_000_000

  static func digest(_ code: String, for user: UserName = alice, key: SecretBytes = hostKey) -> [UInt8] {
    Array(code.utf8).withUnsafeBytes { SentCode.digest(of: $0, for: user, hostKey: key, crypto: libCrypto) }
  }

  /// A delivered-only record of alice's with `code` pending since `now`.
  static func pending(_ code: String, limits: DeliveryLimits = DeliveryLimits()) -> UserRecord {
    var record = UserRecord(
      parameters: TokenParameters(kind: .delivered, algorithm: .sha1, digits: 6, period: 30), secret: SecretBytes([]))
    record.contact = .sms("+447700900123")
    SentCode.recordSend(of: digest(code), in: &record.state, limits: limits, now: now)
    return record
  }

  static func typed(_ answer: String) -> Attempt { Array(answer.utf8).withUnsafeBytes { Attempt.typed($0) } }

  /// Verifies `answer` as the agent does: with its hash under the host key.
  static func verify(
    _ answer: String, _ record: UserRecord, at time: Int64 = now, maxFailures: Int = 5
  )
    -> (outcome: VerificationOutcome, updated: UserRecord?)
  {
    let verifier = Verifier(
      policy: VerificationPolicy(window: 1, lookahead: 10, maxFailures: maxFailures, lockoutSeconds: 900),
      crypto: libCrypto)
    return verifier.verify(typed(answer), against: record, now: time, sentDigest: digest(answer))
  }

  // MARK: Contacts

  @Test func emailAddressesAreCheckedByteByByte() {
    for good in ["alice@example.com", "a.b+tag@sub.example.org", "x@y", "o'brien@example.ie"] {
      #expect(Contact(email: good) == .email(good), "\(good)")
    }
    for bad in [
      "", "alice", "@example.com", "alice@", "a@b@c", "alice @example.com", "alice@example.com\r\nBcc: x@y",
      ".alice@example.com", "alice.@example.com", "al..ice@example.com", "alice@.example.com", "alice@example.com.",
      "alice@-example.com", "älice@example.com", String(repeating: "a", count: 65) + "@example.com",
      "a@" + String(repeating: "b", count: 253),
    ] {
      #expect(Contact(email: bad) == nil, "\(bad)")
    }
  }

  @Test func numbersMustBeE164() {
    #expect(Contact(phone: "+447700900123") == .sms("+447700900123"))
    #expect(Contact(phone: "+15005550006") == .sms("+15005550006"))
    for bad in [
      "447700900123", "+0447700900123", "+44 7700 900123", "+4477009001234567", "+1234567", "+44770090012a", "",
    ] {
      #expect(Contact(phone: bad) == nil, "\(bad)")
    }
  }

  @Test func contactsAreMaskedAsTheIssueShows() {
    #expect(Contact.email("alice@example.com").masked == "a•••@example.com")
    #expect(Contact.sms("+447700900123").masked == "+44 •••• ••0123")
    #expect(Contact.sms("+447700900123").hint == "••0123")
    #expect(Contact.sms("+15005550006").callingCode == "1")
    #expect(Contact.sms("+353861234567").callingCode == "353")
    #expect(Contact.sms("+353861234567").nationalNumber == "861234567")
    #expect(Contact.sms("+4915112345678").callingCode == "49")
    #expect(Contact.email("alice@example.com").hint == "a•••@example.com")
  }

  // MARK: Limits

  @Test func theCooldownTheWindowAndALockoutRefuseASend() {
    let limits = DeliveryLimits()
    var state = LoginState()
    #expect(SentCode.refusal(of: state, limits: limits, now: Self.now) == nil)
    SentCode.recordSend(of: Self.digest("111111"), in: &state, limits: limits, now: Self.now)
    #expect(SentCode.refusal(of: state, limits: limits, now: Self.now + 59) == .cooldown(until: Self.now + 60))
    #expect(SentCode.refusal(of: state, limits: limits, now: Self.now + 60) == nil)
    SentCode.recordSend(of: Self.digest("222222"), in: &state, limits: limits, now: Self.now + 60)
    SentCode.recordSend(of: Self.digest("333333"), in: &state, limits: limits, now: Self.now + 120)
    #expect(state.sent.sendsInWindow == 3)
    // The fourth within 10 minutes is refused until the window that began with the first ends.
    #expect(SentCode.refusal(of: state, limits: limits, now: Self.now + 599) == .userLimit(until: Self.now + 600))
    #expect(SentCode.refusal(of: state, limits: limits, now: Self.now + 600) == nil)
    SentCode.recordSend(of: Self.digest("444444"), in: &state, limits: limits, now: Self.now + 600)
    #expect(state.sent.windowStart == Self.now + 600)
    #expect(state.sent.sendsInWindow == 1)
    state.lockedUntil = Self.now + 2000
    #expect(SentCode.refusal(of: state, limits: limits, now: Self.now + 1000) == .lockedOut(until: Self.now + 2000))
  }

  @Test func aResendReplacesThePendingCode() {
    var record = Self.pending("111111")
    SentCode.recordSend(of: Self.digest("222222"), in: &record.state, limits: DeliveryLimits(), now: Self.now + 60)
    #expect(record.state.sent.expires == Self.now + 360)
    #expect(record.state.sent.attemptsLeft == 3)
    if case .accepted = Self.verify("111111", record, at: Self.now + 61).outcome { Issue.record("the old code worked") }
    #expect(Self.verify("222222", record, at: Self.now + 61).outcome == .accepted(.sentCode))
  }

  // MARK: The code and its hash

  @Test func codesHaveTheDigitsAskedForAndEveryDigitTurnsUp() throws {
    var seen = Set<UInt8>()
    for digits in 6...8 {
      for _ in 0..<50 {
        let code = try #require(SentCode.make(digits: digits, crypto: libCrypto))
        let bytes = bytes(of: code)
        #expect(bytes.count == digits)
        #expect(bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        seen.formUnion(bytes)
      }
    }
    #expect(seen.count == 10)
  }

  @Test func theHashIsBoundToTheUserAndTheKey() {
    let reference = Self.digest("123456")
    #expect(reference.count == 32)
    #expect(Self.digest("123456") == reference)
    #expect(Self.digest("123457") != reference)
    #expect(Self.digest("123456", for: Self.bob) != reference)
    #expect(Self.digest("123456", key: SecretBytes(Array(repeating: 8, count: 32))) != reference)
  }

  // MARK: The verifier

  @Test func aSentCodeWorksOnceThenNoMore() {
    let record = Self.pending("123456")
    let (outcome, updated) = Self.verify("123456", record, at: Self.now + 10)
    #expect(outcome == .accepted(.sentCode))
    let used = updated!
    #expect(used.state.sent.digest.isEmpty)
    #expect(used.state.sent.sendsInWindow == 1)
    #expect(used.lastSuccess == Self.now + 10)
    #expect(
      Self.verify("123456", used, at: Self.now + 11).outcome == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
  }

  @Test func aSentCodeExpires() {
    let record = Self.pending("123456")
    #expect(Self.verify("123456", record, at: Self.now + 299).outcome == .accepted(.sentCode))
    let (outcome, updated) = Self.verify("123456", record, at: Self.now + 300)
    #expect(outcome == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
    #expect(updated?.state.sent.digest.isEmpty == true)
  }

  @Test func theThirdWrongAnswerBurnsTheCodeAndEachCountsTowardTheLockout() {
    var record = Self.pending("123456")
    for (index, wrong) in ["000000", "111111"].enumerated() {
      let (outcome, updated) = Self.verify(wrong, record)
      #expect(outcome == .rejected(.wrongCode, failures: index + 1, lockedUntil: nil))
      record = updated!
      #expect(record.state.sent.attemptsLeft == 2 - index)
    }
    #expect(Self.verify("123456", record).outcome == .accepted(.sentCode))
    let (third, burnt) = Self.verify("222222", record)
    #expect(third == .rejected(.wrongCode, failures: 3, lockedUntil: nil))
    #expect(burnt!.state.sent.digest.isEmpty)
    #expect(Self.verify("123456", burnt!).outcome == .rejected(.wrongCode, failures: 4, lockedUntil: nil))
    // The same failures lock the user out, as wrong app codes do.
    let (fifth, _) = Self.verify("333333", record, maxFailures: 3)
    #expect(fifth == .rejected(.wrongCode, failures: 3, lockedUntil: Self.now + 900))
  }

  @Test func aCodeAcceptedFromTheAppDropsAPendingSentCode() throws {
    let secret = SecretBytes(Array("12345678901234567890".utf8))
    var record = UserRecord(parameters: .standard, secret: secret)
    record.contact = .email("alice@example.com")
    SentCode.recordSend(of: Self.digest("999999"), in: &record.state, limits: DeliveryLimits(), now: Self.now)
    let appCode = try #require(
      OneTimePassword.text(
        secret: secret, counter: UInt64(Self.now / 30), algorithm: .sha1, digits: 6, crypto: libCrypto))
    let (outcome, updated) = Self.verify(String(decoding: appCode, as: UTF8.self), record)
    guard case .accepted(.code) = outcome else {
      Issue.record("the app's code was refused: \(outcome)")
      return
    }
    #expect(updated!.state.sent.digest.isEmpty)
  }

  @Test func withoutTheHashASentCodeNeverMatches() {
    let record = Self.pending("123456")
    let verifier = Verifier(policy: VerificationPolicy(), crypto: libCrypto)
    #expect(
      verifier.verify(Self.typed("123456"), against: record, now: Self.now).outcome
        == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
  }

  // MARK: The state slot and the record

  @Test func aSlotWithASentCodeIsVersion2AndReadsBack() throws {
    let record = Self.pending("123456")
    let slot = StateSlot(of: record, sequence: 4)
    let bytes = slot.encoded()
    #expect(bytes.count == StateSlot.sizeWithSentCode)
    #expect(bytes[4] == 2)
    #expect(Array(bytes[68..<100]) == Self.digest("123456"))
    let decoded = try #require(bytes.withUnsafeBytes { StateSlot(decoding: $0) })
    #expect(decoded == slot)
    // Every flipped bit of it is caught.
    for bit in stride(from: 0, to: bytes.count * 8, by: 7) {
      var flipped = bytes
      flipped[bit / 8] ^= 1 << (bit % 8)
      #expect(flipped.withUnsafeBytes { StateSlot(decoding: $0) } == nil, "bit \(bit)")
    }
    // Cut short, it is not a slot.
    #expect(Array(bytes[..<131]).withUnsafeBytes { StateSlot(decoding: $0) } == nil)
  }

  @Test func aSlotWithoutASentCodeStaysVersion1EvenOverAVersion2Slot() throws {
    var record = Self.pending("123456")
    let newer = StateSlot(of: record, sequence: 5).encoded()
    record.state.sent = SentCodeState()
    let plain = StateSlot(of: record, sequence: 6).encoded()
    #expect(plain.count == StateSlot.size)
    #expect(plain[4] == 1)
    // A version-1 slot written where a version-2 one was leaves the old bytes behind it.
    var overwritten = newer
    overwritten.replaceSubrange(0..<plain.count, with: plain)
    let decoded = try #require(overwritten.withUnsafeBytes { StateSlot(decoding: $0) })
    #expect(decoded.sequence == 6)
    #expect(decoded.state.sent.isEmpty)
  }

  @Test func theRecordCarriesTheContactAndTheSentState() throws {
    let record = Self.pending("123456")
    let text = RecordFormat.serialize(record)
    let written = String(decoding: bytes(of: text), as: UTF8.self)
    #expect(written.contains("\nkind delivered\n"))
    #expect(written.contains("\nsms +447700900123\n"))
    #expect(!written.contains("secret"))
    #expect(written.contains("\nsent-code-attempts 3\n"))
    #expect(!written.contains("123456"))
    let read = try parse(written).get()
    expectSameRecord(read, record)
  }

  @Test func deliveredRecordsAreCheckedAsAWhole() {
    let base = [
      "lockstep-record 1", "kind delivered", "algorithm SHA1", "digits 6", "email alice@example.com",
    ]
    func text(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }
    #expect((try? parse(text(base)).get())?.contact == .email("alice@example.com"))
    let cases: [([String], String)] = [
      (base.filter { !$0.hasPrefix("email") }, "a 'delivered' record needs 'email' or 'sms'"),
      (base + ["secret JBSWY3DPEHPK3PXP"], "a 'delivered' record holds no secret"),
      (base + ["sms +447700900123"], "a record holds one 'email' or 'sms'"),
      (base.map { $0.hasPrefix("email") ? "email alice@example.com\r" : $0 }, "invalid email address"),
      (base + ["sent-code abcd"], "invalid value for 'sent-code'"),
      (base + ["sends-in-window 10001"], "invalid value for 'sends-in-window'"),
    ]
    for (lines, reason) in cases {
      guard case .failure(let error) = parse(text(lines)) else {
        Issue.record("accepted: \(lines)")
        continue
      }
      #expect(error.reason == reason, "\(lines)")
    }
  }
}
