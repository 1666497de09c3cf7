import LockstepCore

/// Answers typed at the code prompt through `Attempt`, which splits what the user typed into
/// the candidates the module checks.
///
/// Input: one byte choosing the user's code length (6, 7 or 8 digits) and whether the answer
/// is a password and code typed together (`forward_pass`), then the answer.
///
/// Properties: a typed answer is the answer without blanks and hyphens, as code and as backup
/// code; a forwarded answer is cut into a password and exactly as many characters as a code
/// (or a backup code) has, and nothing is lost or added; an answer longer than the limit gives
/// no candidate; and `couldBeCode` holds exactly when a candidate has the shape of a code.
func fuzz(_ input: UnsafeRawBufferPointer) {
  var reader = FuzzInput(input)
  let choice = reader.byte()
  let digits = 6 + Int(choice % 3)
  let forwarded = choice & 0x80 != 0
  let answer = reader.rest()
  let attempt = answer.withUnsafeBytes { forwarded ? Attempt.forwarded($0, digits: digits) : Attempt.typed($0) }
  let code = attempt.code.map(bytes(of:))
  let backup = attempt.backupCode.map(bytes(of:))

  if answer.count > Attempt.maximumLength {
    require(code == nil && backup == nil, "an over-long answer gave a candidate")
    require(attempt.passwordBeforeCode == nil && attempt.passwordBeforeBackupCode == nil, "an over-long password")
  } else if forwarded {
    let password = attempt.passwordBeforeCode.map(bytes(of:))
    let backupPassword = attempt.passwordBeforeBackupCode.map(bytes(of:))
    require((code == nil) == (answer.count < digits), "a code was cut from too short an answer, or not cut")
    if let code {
      require(code.count == digits, "a code of \(code.count) digits for a user with \(digits)")
      require((password ?? []) + code == answer, "password and code do not make up the answer")
    }
    require((backup == nil) == (answer.count < 8), "a backup code was cut from too short an answer, or not cut")
    if let backup {
      require(backup.count == BackupCodeHashes.codeLength, "a backup code of \(backup.count) characters")
      require((backupPassword ?? []) + backup == answer, "password and backup code do not make up the answer")
    }
  } else {
    let kept = answer.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "-") }
    require(code == kept && backup == kept, "a typed answer was not read as itself without blanks and hyphens")
  }

  let isDigits = { (bytes: [UInt8]) in bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }
  let shaped = code.map { $0.count == digits && isDigits($0) } ?? false
  let backupShaped = backup.map { $0.count == 8 && isDigits($0) } ?? false
  require(attempt.couldBeCode(digits: digits) == (shaped || backupShaped), "couldBeCode disagrees with the candidates")
}
