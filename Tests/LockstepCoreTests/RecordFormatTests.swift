import LockstepCore
import Testing

/// Parses record text, turning the typed error into a `Result` for easy checking.
func parse(_ text: [UInt8]) -> Result<UserRecord, LineError> {
  text.withUnsafeBytes { buffer -> Result<UserRecord, LineError> in
    do throws(LineError) {
      return .success(try RecordFormat.parse(buffer))
    } catch {
      return .failure(error)
    }
  }
}

func parse(_ text: String) -> Result<UserRecord, LineError> { parse(utf8(text)) }

/// Every field of two records, compared one by one.
func expectSameRecord(_ a: UserRecord, _ b: UserRecord, sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(a.parameters.kind == b.parameters.kind, sourceLocation: sourceLocation)
  #expect(a.parameters.algorithm == b.parameters.algorithm, sourceLocation: sourceLocation)
  #expect(a.parameters.digits == b.parameters.digits, sourceLocation: sourceLocation)
  #expect(a.parameters.period == b.parameters.period, sourceLocation: sourceLocation)
  #expect(bytes(of: a.secret) == bytes(of: b.secret), sourceLocation: sourceLocation)
  #expect(a.counter == b.counter, sourceLocation: sourceLocation)
  #expect(a.lastStep == b.lastStep, sourceLocation: sourceLocation)
  #expect(a.offset == b.offset, sourceLocation: sourceLocation)
  #expect(a.failures == b.failures, sourceLocation: sourceLocation)
  #expect(a.lockedUntil == b.lockedUntil, sourceLocation: sourceLocation)
  #expect(a.lastSuccess == b.lastSuccess, sourceLocation: sourceLocation)
  #expect(a.enrolled == b.enrolled, sourceLocation: sourceLocation)
  #expect(a.backupCodes.iterations == b.backupCodes.iterations, sourceLocation: sourceLocation)
  #expect(a.backupCodes.salt == b.backupCodes.salt, sourceLocation: sourceLocation)
  #expect(a.backupCodes.hashes == b.backupCodes.hashes, sourceLocation: sourceLocation)
  #expect(a.stateID == b.stateID, sourceLocation: sourceLocation)
  #expect(a.contact == b.contact, sourceLocation: sourceLocation)
  #expect(a.state.sent == b.state.sent, sourceLocation: sourceLocation)
}

/// The lines of a complete, valid record, for the malformed cases to change one at a time.
private let validLines = [
  "lockstep-record 1",
  "kind totp",
  "algorithm SHA1",
  "digits 6",
  "period 30",
  "secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
  "counter 0",
  "last-step 59017393",
  "offset 0",
  "failures 0",
  "locked-until 0",
  "last-success 1770521790",
  "enrolled 1770520000",
  "state-id 5f3a9c0e12d47b86",
]

private let backupLines = [
  "backup-iterations 1000",
  "backup-salt 000102030405060708090a0b0c0d0e0f",
  "backup-code 42b99a197a7d9cafa9fa5b60091da410edb6f3c1cc4e159a5f901b5348abb716",
]

private func record(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }

private func replacing(_ key: String, with line: String?) -> [String] {
  validLines.compactMap { $0.hasPrefix(key + " ") ? line : $0 }
}

@Suite("RecordFormat")
struct RecordFormatTests {
  static let hashA = [UInt8](repeating: 0xa5, count: 32)
  static let hashB = (0..<32).map { UInt8($0) }

  static let roundTripRecords: [String: @Sendable () -> UserRecord] = [
    "TOTP, no backup codes, no last step": {
      UserRecord(parameters: .standard, secret: SecretBytes(utf8("12345678901234567890")))
    },
    "TOTP, every field set": {
      UserRecord(
        parameters: TokenParameters(kind: .totp, algorithm: .sha512, digits: 8, period: 60),
        secret: SecretBytes((0..<64).map { UInt8($0 * 3 & 0xff) }), counter: 7, lastStep: 59_017_393, offset: -42,
        failures: 3, lockedUntil: 1_770_522_690, lastSuccess: 1_770_521_790, enrolled: 1_770_520_000,
        backupCodes: BackupCodeHashes(
          iterations: 1000, salt: Array(0..<16), hashes: [RecordFormatTests.hashA, RecordFormatTests.hashB]),
        stateID: 0x5f3a_9c0e_12d4_7b86)
    },
    "TOTP, last step 0": {
      UserRecord(
        parameters: TokenParameters(kind: .totp, algorithm: .sha256, digits: 7, period: 1),
        secret: SecretBytes([0xff]), lastStep: 0, offset: 100_000)
    },
    "HOTP, backup codes, no last step": {
      UserRecord(
        parameters: TokenParameters(kind: .hotp, algorithm: .sha1, digits: 6, period: 30),
        secret: SecretBytes(utf8("hotp secret 123")), counter: UserRecord.largestCounter, offset: -100_000,
        failures: 1_000_000,
        lockedUntil: Int64(1) << 40, lastSuccess: 1, enrolled: 2,
        backupCodes: BackupCodeHashes(
          iterations: 10_000_000, salt: Array(repeating: 9, count: 64), hashes: [RecordFormatTests.hashB]),
        stateID: UInt64.max)
    },
    "HOTP, last step set, no backup codes": {
      UserRecord(
        parameters: TokenParameters(kind: .hotp, algorithm: .sha256, digits: 8, period: 86_400),
        secret: SecretBytes(Array(repeating: 0, count: 10)), counter: 12_345, lastStep: Int64.max)
    },
  ]

  @Test("serialize then parse preserves every field", arguments: roundTripRecords.keys.sorted())
  func roundTrip(name: String) throws {
    let make = try #require(Self.roundTripRecords[name])
    let original = make()
    let text = bytes(of: RecordFormat.serialize(original))
    let parsed = try parse(text).get()
    expectSameRecord(parsed, original)
    // And serializing again gives the same text.
    #expect(bytes(of: RecordFormat.serialize(parsed)) == text)
  }

  @Test("serialize writes the documented format")
  func serializedText() {
    let original = UserRecord(
      parameters: .standard, secret: SecretBytes(utf8("foobar")), counter: 0, lastStep: 59_017_393,
      lastSuccess: 1_770_521_790, enrolled: 1_770_520_000,
      backupCodes: BackupCodeHashes(iterations: 1000, salt: Array(0..<16), hashes: [Self.hashB]),
      stateID: 0x0102_0304_0506_07b8)
    let expected = """
      lockstep-record 1
      kind totp
      algorithm SHA1
      digits 6
      period 30
      secret MZXW6YTBOI
      counter 0
      last-step 59017393
      offset 0
      failures 0
      locked-until 0
      last-success 1770521790
      enrolled 1770520000
      state-id 01020304050607b8
      backup-iterations 1000
      backup-salt 000102030405060708090a0b0c0d0e0f
      backup-code 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

      """
    #expect(String(decoding: bytes(of: RecordFormat.serialize(original)), as: UTF8.self) == expected)
  }

  @Test("a hand-written record parses to the values it states")
  func handWritten() throws {
    let text = """
      # written by hand
      lockstep-record 1

      kind hotp
      algorithm sha-256
      digits 8
      period 60
      secret mzxw 6ytb-oi======
      counter 42
      last-step none
      offset -3
      failures 2
      locked-until 1770522690
      last-success 1770521790
      enrolled 1700000000
      state-id 5F3A9C0E12D47B86
      backup-iterations 1000
      backup-salt 000102030405060708090A0B0C0D0E0F
      backup-code 42b99a197a7d9cafa9fa5b60091da410edb6f3c1cc4e159a5f901b5348abb716
      # another comment
      backup-code a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5
      """
    let parsed = try parse(text).get()
    #expect(parsed.parameters == TokenParameters(kind: .hotp, algorithm: .sha256, digits: 8, period: 60))
    #expect(bytes(of: parsed.secret) == utf8("foobar"))
    #expect(parsed.counter == 42)
    #expect(parsed.lastStep == nil)
    #expect(parsed.offset == -3)
    #expect(parsed.failures == 2)
    #expect(parsed.lockedUntil == 1_770_522_690)
    #expect(parsed.lastSuccess == 1_770_521_790)
    #expect(parsed.enrolled == 1_700_000_000)
    #expect(parsed.stateID == 0x5f3a_9c0e_12d4_7b86)
    #expect(parsed.backupCodes.iterations == 1000)
    #expect(parsed.backupCodes.salt == hexBytes("000102030405060708090a0b0c0d0e0f"))
    #expect(
      parsed.backupCodes.hashes == [
        hexBytes("42b99a197a7d9cafa9fa5b60091da410edb6f3c1cc4e159a5f901b5348abb716"), Self.hashA,
      ])
  }

  @Test("the record documented in RecordFormat.swift parses")
  func documentedExample() throws {
    let parsed = try parse(record(validLines)).get()
    #expect(parsed.parameters == .standard)
    #expect(Base32.encode(bytes(of: parsed.secret)) == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    #expect(bytes(of: parsed.secret) == hexBytes("48656c6c6f21deadbeef48656c6c6f21deadbeef"))
    #expect(parsed.lastStep == 59_017_393)
    #expect(parsed.lastSuccess == 1_770_521_790)
    #expect(parsed.enrolled == 1_770_520_000)
    #expect(parsed.stateID == 0x5f3a_9c0e_12d4_7b86)
    #expect(parsed.backupCodes == .none)
  }

  @Test("only the required keys: the others take their defaults")
  func defaults() throws {
    let parsed = try parse("lockstep-record 1\nsecret GEZDGNBV\nkind totp\nalgorithm SHA512\ndigits 7").get()
    #expect(parsed.parameters == TokenParameters(kind: .totp, algorithm: .sha512, digits: 7, period: 30))
    #expect(bytes(of: parsed.secret) == utf8("12345"))
    #expect(parsed.counter == 0)
    #expect(parsed.lastStep == nil)
    #expect(parsed.offset == 0)
    #expect(parsed.failures == 0)
    #expect(parsed.lockedUntil == 0)
    #expect(parsed.lastSuccess == 0)
    #expect(parsed.enrolled == 0)
    #expect(parsed.stateID == 0)
    #expect(parsed.backupCodes.hashes.isEmpty)
  }

  static let malformed: [(String, String)] = [
    ("wrong magic", record(["lockstep-recrd 1"] + validLines.dropFirst())),
    ("magic not first", record(Array(validLines.dropFirst()) + ["lockstep-record 1"])),
    ("magic twice", record(validLines + ["lockstep-record 1"])),
    ("version 2", record(["lockstep-record 2"] + validLines.dropFirst())),
    ("version 0", record(["lockstep-record 0"] + validLines.dropFirst())),
    ("version missing", record(["lockstep-record "] + validLines.dropFirst())),
    ("header without a value", record(["lockstep-record"] + validLines.dropFirst())),
    ("missing secret", record(replacing("secret", with: nil))),
    ("missing kind", record(replacing("kind", with: nil))),
    ("missing algorithm", record(replacing("algorithm", with: nil))),
    ("missing digits", record(replacing("digits", with: nil))),
    ("duplicate digits", record(validLines + ["digits 6"])),
    ("duplicate kind", record(validLines + ["kind totp"])),
    ("duplicate secret", record(validLines + ["secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"])),
    ("duplicate last-step none", record(replacing("last-step", with: "last-step none") + ["last-step none"])),
    ("duplicate counter", record(validLines + ["counter 0"])),
    ("duplicate backup-salt", record(validLines + backupLines + ["backup-salt 000102030405060708090a0b0c0d0e0f"])),
    ("unknown key", record(validLines + ["colour blue"])),
    ("key in the wrong case", record(replacing("digits", with: "Digits 6"))),
    ("digits 5", record(replacing("digits", with: "digits 5"))),
    ("digits 9", record(replacing("digits", with: "digits 9"))),
    ("digits not a number", record(replacing("digits", with: "digits six"))),
    ("digits with a trailing space", record(replacing("digits", with: "digits 6 "))),
    ("digits with a plus sign", record(replacing("digits", with: "digits +6"))),
    ("period 0", record(replacing("period", with: "period 0"))),
    ("period -30", record(replacing("period", with: "period -30"))),
    ("period 86401", record(replacing("period", with: "period 86401"))),
    ("negative counter", record(replacing("counter", with: "counter -1"))),
    ("counter overflow", record(replacing("counter", with: "counter 18446744073709551616"))),
    ("counter above 2^62", record(replacing("counter", with: "counter 4611686018427387905"))),
    ("20-digit counter", record(replacing("counter", with: "counter 99999999999999999999"))),
    ("20-digit offset", record(replacing("offset", with: "offset 99999999999999999999"))),
    ("20-digit failures", record(replacing("failures", with: "failures 99999999999999999999"))),
    ("20-digit last-step", record(replacing("last-step", with: "last-step 99999999999999999999"))),
    ("negative last-step", record(replacing("last-step", with: "last-step -1"))),
    ("empty last-step", record(replacing("last-step", with: "last-step "))),
    ("offset out of range", record(replacing("offset", with: "offset 100001"))),
    ("failures out of range", record(replacing("failures", with: "failures 1000001"))),
    ("negative locked-until", record(replacing("locked-until", with: "locked-until -1"))),
    ("unknown kind", record(replacing("kind", with: "kind motp"))),
    ("kind in upper case", record(replacing("kind", with: "kind TOTP"))),
    ("unknown algorithm", record(replacing("algorithm", with: "algorithm MD5"))),
    ("secret with a character outside base32", record(replacing("secret", with: "secret JBSWY3DPEHPK3PXP0BSWY3DP"))),
    ("secret of an impossible length", record(replacing("secret", with: "secret JBSWY3DPE"))),
    ("empty secret", record(replacing("secret", with: "secret "))),
    ("backup code without salt", record(validLines + [backupLines[0], backupLines[2]])),
    ("backup code without iterations", record(validLines + [backupLines[1], backupLines[2]])),
    (
      "backup code that is not hex",
      record(validLines + backupLines.prefix(2) + ["backup-code " + String(repeating: "zz", count: 32)])
    ),
    (
      "backup code of the wrong length",
      record(validLines + backupLines.prefix(2) + ["backup-code " + String(repeating: "ab", count: 31)])
    ),
    ("backup salt too short", record(validLines + [backupLines[0], "backup-salt 00010203040506", backupLines[2]])),
    ("backup iterations 0", record(validLines + ["backup-iterations 0"] + backupLines.dropFirst())),
    (
      "101 backup codes",
      record(
        validLines + backupLines.prefix(2)
          + (0...100).map { "backup-code " + String(format2: $0) + String(repeating: "00", count: 31) })
    ),
    ("state-id too short", record(replacing("state-id", with: "state-id 5f3a9c0e12d47b"))),
    ("state-id too long", record(replacing("state-id", with: "state-id 5f3a9c0e12d47b8600"))),
    ("state-id not hex", record(replacing("state-id", with: "state-id 5f3a9c0e12d47bxx"))),
    ("duplicate state-id", record(validLines + ["state-id 5f3a9c0e12d47b86"])),
    ("empty input", ""),
    ("only comments and blank lines", "# nothing here\n\n#\n"),
    ("a line without a space", record(validLines + ["failures"])),
    ("a key and value joined by a tab", record(replacing("digits", with: "digits\t6"))),
  ]

  @Test("malformed records are refused", arguments: malformed)
  func malformedRecords(name: String, text: String) {
    let result = parse(text)
    guard case .failure(let error) = result else {
      Issue.record("\(name): parsed a malformed record")
      return
    }
    #expect(!error.reason.isEmpty)
  }

  @Test("a record larger than 64 KiB is refused, one of exactly 64 KiB is read")
  func sizeLimit() throws {
    let base = record(validLines)
    func padded(to size: Int) -> [UInt8] {
      // Comment lines are otherwise harmless, so only the size can make the record invalid.
      var text = utf8(base)
      while text.count < size {
        let room = size - text.count
        let line = "#" + String(repeating: "x", count: max(0, min(room, 1000) - 2)) + "\n"
        text += utf8(String(line.prefix(room)))
      }
      return text
    }
    let exact = padded(to: 64 * 1024)
    #expect(exact.count == 65_536)
    #expect((try? parse(exact).get()) != nil)
    let over = padded(to: 64 * 1024 + 1)
    #expect(over.count == 65_537)
    guard case .failure(let error) = parse(over) else {
      Issue.record("parsed a record over the size limit")
      return
    }
    #expect(error.line == 0)
  }

  @Test("errors name the line they are on")
  func errorLines() {
    let lines = validLines + ["# comment", "", "colour blue"]
    guard case .failure(let unknown) = parse(record(lines)) else {
      Issue.record("parsed an unknown key")
      return
    }
    #expect(unknown.line == validLines.count + 3)
    #expect(unknown.description.hasPrefix("line \(validLines.count + 3): "))
    guard case .failure(let missing) = parse(record(replacing("secret", with: nil))) else {
      Issue.record("parsed a record without a secret")
      return
    }
    #expect(missing.line == 0)
    #expect(!missing.description.hasPrefix("line"))
  }

  @Test(
    "errors never quote the secret",
    arguments: [
      replacing("secret", with: "secret JBSWY3DPEHPK3PXP1BSWY3DPEHPK3PXP"),
      validLines + ["secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"],
      replacing("secret", with: "secret JBSWY3DPEHPK3PXP=JBSWY3DPEHPK3PXP"),
      validLines + ["colour JBSWY3DPEHPK3PXP"],
      replacing("digits", with: "digits JBSWY3DPEHPK3PXP"),
    ])
  func errorsDoNotQuoteSecret(lines: [String]) {
    guard case .failure(let error) = parse(record(lines)) else {
      Issue.record("parsed a malformed record")
      return
    }
    #expect(!error.description.contains("JBSWY3DP"))
    #expect(!error.description.contains("PK3PXP"))
  }

  @Test(
    "an unknown key is never quoted, so neither a secret nor control characters reach the log",
    arguments: [
      // A line that begins with the secret, split by spaces as base32 allows.
      "JBSWY3DP EHPK3PXP", "jbswy3dp ehpk3pxp",
      // Found by the record-format fuzz target: control characters that garbled the log.
      "\u{1B}]0;owned\u{07}\u{1B}[2J 1",
    ])
  func unknownKeyNotQuoted(line: String) {
    guard case .failure(let error) = parse(record(validLines + [line])) else {
      Issue.record("parsed an unknown key")
      return
    }
    #expect(error.description == "line \(validLines.count + 1): unknown key")
  }

  @Test("a sealed secret is written in place of the secret and opened by the reader's key")
  func sealedSecret() throws {
    let original = UserRecord(parameters: .standard, secret: SecretBytes(Array(repeating: 7, count: 20)), enrolled: 5)
    let blob = Array(repeating: UInt8(0xab), count: Sealing.nonceLength + Sealing.tagLength + 20)
    let text = bytes(of: RecordFormat.serialize(original, sealedSecret: blob))
    let written = String(decoding: text, as: UTF8.self)
    #expect(written.contains("\nsealed-secret " + String(repeating: "ab", count: blob.count) + "\n"))
    #expect(!written.contains("\nsecret "))
    #expect(text.withUnsafeBytes { RecordFormat.isSealed($0) })
    #expect(!bytes(of: RecordFormat.serialize(original)).withUnsafeBytes { RecordFormat.isSealed($0) })

    // The reader's key opens it; without one, or with one that does not open it, it is refused.
    var given: [UInt8] = []
    let opened = try text.withUnsafeBytes { buffer throws(LineError) in
      try RecordFormat.parse(
        buffer,
        opening: {
          given = $0
          return original.secret
        })
    }
    #expect(given == blob)
    expectSameRecord(opened, original)
    #expect(parse(text).failure == LineError(line: 0, "the secret is sealed, and no host key was given"))
    #expect(
      throws: LineError(line: 0, "the sealed secret does not open with the host key (another key, or another user's)")
    ) {
      try text.withUnsafeBytes { buffer throws(LineError) in try RecordFormat.parse(buffer, opening: { _ in nil }) }
    }
    // Both, or a blob too short to be one, are refused.
    let both = written + "secret " + "AAAAAAAA" + "\n"
    #expect(parse(both).failure == LineError(line: 0, "'secret' and 'sealed-secret' exclude each other"))
    let short = written.replacingOccurrences(of: String(repeating: "ab", count: blob.count), with: "abab")
    #expect(parse(short).failure?.description.contains("the sealed secret is not a sealed blob in hex") == true)
  }

  @Test("LineError description")
  func errorDescription() {
    #expect(LineError(line: 3, "bad").description == "line 3: bad")
    #expect(LineError(line: 0, "bad").description == "bad")
  }
}

extension Result {
  /// The error, or `nil` for a success.
  fileprivate var failure: Failure? {
    if case .failure(let error) = self { return error }
    return nil
  }
}

extension String {
  /// Two lower-case hex digits.
  fileprivate init(format2 value: Int) {
    let digits = Array("0123456789abcdef")
    self = String([digits[(value >> 4) & 15], digits[value & 15]])
  }
}
