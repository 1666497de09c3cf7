import LockstepCore
import Testing

@Suite("Attempt")
struct AttemptTests {
  @Test(
    "a typed answer drops spaces, tabs and hyphens and is tried as both kinds of code",
    arguments: [
      ("123 456", "123456"), ("1234-5678", "12345678"), ("\t12 34\t56 ", "123456"), ("abc", "abc"), ("", ""),
      ("--", ""),
    ])
  func typedAnswer(answer: String, kept: String) {
    let attempt = typed(answer)
    #expect(text(of: attempt.code) == kept)
    #expect(text(of: attempt.backupCode) == kept)
    #expect(attempt.passwordBeforeCode == nil)
    #expect(attempt.passwordBeforeBackupCode == nil)
  }

  @Test("an answer longer than the maximum is not looked at")
  func tooLong() {
    let attempt = typed(String(repeating: "1", count: Attempt.maximumLength + 1))
    #expect(attempt.code == nil)
    #expect(attempt.backupCode == nil)
    let longest = typed(String(repeating: "1", count: Attempt.maximumLength))
    #expect(longest.code?.count == Attempt.maximumLength)
    let forwardedTooLong = forwarded(String(repeating: "1", count: Attempt.maximumLength + 1), digits: 6)
    #expect(forwardedTooLong.code == nil && forwardedTooLong.backupCode == nil)
    #expect(forwardedTooLong.passwordBeforeCode == nil && forwardedTooLong.passwordBeforeBackupCode == nil)
  }

  @Test("a forwarded answer splits the code off the end of the password")
  func forwardedCode() {
    let attempt = forwarded("hunter2254676", digits: 6)
    #expect(text(of: attempt.passwordBeforeCode) == "hunter2")
    #expect(text(of: attempt.code) == "254676")
    #expect(text(of: attempt.passwordBeforeBackupCode) == "hunte")
    #expect(text(of: attempt.backupCode) == "r2254676")
  }

  @Test("a forwarded answer splits a backup code off the end of the password")
  func forwardedBackupCode() {
    let attempt = forwarded("pa ss:word1" + "12345678", digits: 6)
    #expect(text(of: attempt.passwordBeforeBackupCode) == "pa ss:word1")
    #expect(text(of: attempt.backupCode) == "12345678")
    #expect(text(of: attempt.passwordBeforeCode) == "pa ss:word112")
    #expect(text(of: attempt.code) == "345678")
  }

  @Test("a forwarded answer that is only the code has an empty password")
  func forwardedCodeOnly() {
    let attempt = forwarded("254676", digits: 6)
    #expect(text(of: attempt.passwordBeforeCode) == "")
    #expect(text(of: attempt.code) == "254676")
    #expect(attempt.backupCode == nil)
    #expect(attempt.passwordBeforeBackupCode == nil)
    let eight = forwarded("94287082", digits: 8)
    #expect(text(of: eight.code) == "94287082")
    #expect(text(of: eight.backupCode) == "94287082")
  }

  @Test("a forwarded answer shorter than a code has nothing to try")
  func forwardedTooShort() {
    let attempt = forwarded("12345", digits: 6)
    #expect(attempt.code == nil)
    #expect(attempt.backupCode == nil)
    #expect(attempt.passwordBeforeCode == nil)
    #expect(attempt.passwordBeforeBackupCode == nil)
  }

  @Test("forwarded answers are verified like typed ones")
  func forwardedVerified() {
    #expect(
      verifier().verify(forwarded("hunter2254676", digits: 6), against: rfcRecord(), now: 157).outcome
        == .accepted(.code(step: 5)))
    var record = rfcRecord()
    // PBKDF2-HMAC-SHA-256("12345678", 00..0f, 1000), from Python's hashlib.
    record.backupCodes = BackupCodeHashes(
      iterations: 1000, salt: Array(0..<16),
      hashes: [hexBytes("42b99a197a7d9cafa9fa5b60091da410edb6f3c1cc4e159a5f901b5348abb716")])
    #expect(
      verifier().verify(forwarded("hunter2" + "12345678", digits: 6), against: record, now: 157).outcome
        == .accepted(.backupCode(remaining: 0)))
    #expect(
      verifier().verify(forwarded("hunter2" + "000000", digits: 6), against: record, now: 157).outcome
        == .rejected(.wrongCode, failures: 1, lockedUntil: nil))
  }

  @Test(
    "couldBeCode: only answers shaped like a code or a backup code",
    arguments: [
      ("123456", 6, true), ("12345678", 6, true), ("1234567", 7, true), ("12345678", 8, true), ("123 456", 6, true),
      ("1234-5678", 6, true), ("hunter2", 6, false), ("12345", 6, false), ("1234567", 6, false),
      ("１２３４５６", 6, false), ("+12345", 6, false), ("12345a", 6, false), ("", 6, false),
      ("123456789", 8, false),
    ])
  func couldBeCode(answer: String, digits: Int, expected: Bool) {
    #expect(typed(answer).couldBeCode(digits: digits) == expected)
  }

  @Test("an answer too long to look at could not be a code")
  func emptyAttempt() {
    #expect(!typed(String(repeating: "1", count: Attempt.maximumLength + 1)).couldBeCode(digits: 6))
    #expect(!forwarded("12345", digits: 6).couldBeCode(digits: 6))
  }
}
