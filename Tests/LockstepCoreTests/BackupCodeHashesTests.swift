import LockstepCore
import Testing

/// Salt 00 01 ... 0f, 1000 iterations: PBKDF2-HMAC-SHA-256 of "12345678", computed with
/// Python's hashlib.pbkdf2_hmac.
private let knownSalt = Array(UInt8(0)..<16)
private let knownHashOf12345678 = hexBytes("42b99a197a7d9cafa9fa5b60091da410edb6f3c1cc4e159a5f901b5348abb716")

@Suite("Backup codes")
struct BackupCodeHashesTests {
  /// A TOTP record with `codes` as backup codes, hashed with a low iteration count.
  private func record(withBackupCodes codes: [[UInt8]]) throws -> UserRecord {
    var record = rfcRecord()
    record.backupCodes = try #require(BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: libCrypto))
    return record
  }

  @Test("generated codes are distinct strings of eight digits")
  func generate() throws {
    let codes = try #require(BackupCodeHashes.generateCodes(count: 20, crypto: libCrypto))
    #expect(codes.count == 20)
    #expect(Set(codes).count == 20)
    for code in codes {
      #expect(code.count == 8)
      #expect(code.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
      #expect(code.withUnsafeBytes { BackupCodeHashes.isWellFormed($0) })
    }
    #expect(BackupCodeHashes.generateCodes(count: 0, crypto: libCrypto) == [])
  }

  @Test("issue hashes each code under one new salt")
  func issue() throws {
    let codes = [utf8("12345678"), utf8("87654321")]
    let set = try #require(BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: libCrypto))
    #expect(set.iterations == 1000)
    #expect(set.salt.count == 16)
    #expect(set.hashes.count == 2)
    #expect(set.hashes.allSatisfy { $0.count == 32 })
    #expect(set.hashes[0] != set.hashes[1])
    let other = try #require(BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: libCrypto))
    #expect(other.salt != set.salt)
  }

  @Test("the stored hash is PBKDF2-HMAC-SHA-256 of the code")
  func knownHash() {
    let set = BackupCodeHashes(iterations: 1000, salt: knownSalt, hashes: [])
    #expect(utf8("12345678").withUnsafeBytes { set.hash(of: $0, crypto: libCrypto) } == knownHashOf12345678)
  }

  @Test(
    "the shape of a backup code",
    arguments: [
      ("12345678", true), ("00000000", true), ("1234567", false), ("123456789", false), ("1234567a", false),
      ("1234 678", false), ("１２３４５６７８", false), ("", false), ("+1234567", false),
    ])
  func wellFormed(candidate: String, expected: Bool) {
    #expect(utf8(candidate).withUnsafeBytes { BackupCodeHashes.isWellFormed($0) } == expected)
  }

  @Test("a backup code is accepted once, then refused")
  func singleUse() throws {
    let codes = try #require(BackupCodeHashes.generateCodes(count: 5, crypto: libCrypto))
    let original = try record(withBackupCodes: codes)
    let v = verifier()
    let code = String(decoding: codes[2], as: UTF8.self)

    let (first, afterFirst) = v.verify(typed(code), against: original, now: 157)
    #expect(first == .accepted(.backupCode(remaining: 4)))
    let used = try #require(afterFirst)
    #expect(used.backupCodes.hashes.count == 4)
    #expect(used.backupCodes.salt == original.backupCodes.salt)
    #expect(used.lastStep == nil)
    #expect(used.lastSuccess == 157)

    let (second, afterSecond) = v.verify(typed(code), against: used, now: 158)
    #expect(second == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
    #expect(afterSecond?.backupCodes.hashes.count == 4)

    // The others still work, and the count keeps going down.
    let (third, afterThird) = v.verify(typed(String(decoding: codes[0], as: UTF8.self)), against: used, now: 159)
    #expect(third == .accepted(.backupCode(remaining: 3)))
    #expect(afterThird?.backupCodes.hashes.count == 3)
  }

  @Test("a backup code can be typed with a hyphen or spaces", arguments: ["1234-5678", "1234 5678", " 12345678 "])
  func typedWithSeparators(answer: String) {
    var record = rfcRecord()
    record.backupCodes = BackupCodeHashes(iterations: 1000, salt: knownSalt, hashes: [knownHashOf12345678])
    let (outcome, updated) = verifier().verify(typed(answer), against: record, now: 157)
    #expect(outcome == .accepted(.backupCode(remaining: 0)))
    #expect(updated?.backupCodes.hashes.isEmpty == true)
  }

  @Test("a wrong eight-digit backup code is a failure")
  func wrongBackupCode() throws {
    let codes = [utf8("11111111"), utf8("22222222")]
    let original = try record(withBackupCodes: codes)
    for wrong in ["11111112", "33333333"] {
      let (outcome, updated) = verifier().verify(typed(wrong), against: original, now: 157)
      #expect(outcome == .rejected(.wrongCode, failures: 1, lockedUntil: nil), "\(wrong)")
      #expect(updated?.backupCodes.hashes.count == 2)
    }
    // Seven or nine digits can be neither a code of this record nor a backup code: refused
    // without being counted.
    for wrong in ["1111111", "111111111"] {
      let (outcome, updated) = verifier().verify(typed(wrong), against: original, now: 157)
      #expect(outcome == .rejected(.notACode, failures: 0, lockedUntil: nil), "\(wrong)")
      #expect(updated == nil)
    }
  }

  @Test("a user without backup codes has none to use")
  func noBackupCodes() {
    #expect(BackupCodeHashes.none.hashes.isEmpty)
    #expect(
      verifier().verify(typed("12345678"), against: rfcRecord(), now: 157).outcome
        == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
  }

  @Test("a backup code is not checked during a lockout")
  func lockedOut() {
    var record = rfcRecord()
    record.backupCodes = BackupCodeHashes(iterations: 1000, salt: knownSalt, hashes: [knownHashOf12345678])
    record.lockedUntil = 1000
    let (outcome, updated) = verifier().verify(typed("12345678"), against: record, now: 157)
    #expect(outcome == .lockedOut(until: 1000))
    #expect(updated == nil)
  }
}
