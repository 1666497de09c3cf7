/// What a user typed, split into the candidates the verifier tries.
///
/// A typed answer is tried both as a one-time code and as a backup code. With `forward_pass`
/// the answer is a password followed by a code, so the code is split off its end: first as
/// many characters as the user's codes have digits, then as many as a backup code has; the
/// rest is the password that goes on to the next module.
public struct Attempt {
  /// The longest answer looked at, in bytes; anything longer is a wrong answer unread.
  public static let maximumLength = 1024

  /// Tried as a one-time code.
  public var code: SecretBytes?
  /// Tried as a backup code.
  public var backupCode: SecretBytes?
  /// With `forward_pass`: the password in front of `code`.
  public var passwordBeforeCode: SecretBytes?
  /// With `forward_pass`: the password in front of `backupCode`.
  public var passwordBeforeBackupCode: SecretBytes?

  /// An attempt of these candidates (the agent's, from a module's `VerifyRequest`).
  public init(
    code: SecretBytes? = nil, backupCode: SecretBytes? = nil, passwordBeforeCode: SecretBytes? = nil,
    passwordBeforeBackupCode: SecretBytes? = nil
  ) {
    self.code = code
    self.backupCode = backupCode
    self.passwordBeforeCode = passwordBeforeCode
    self.passwordBeforeBackupCode = passwordBeforeBackupCode
  }

  /// An answer typed at the code prompt. Spaces, tabs and hyphens are dropped, so `123 456`
  /// and `1234-5678` work as shown in apps and on printed backup codes.
  public static func typed(_ answer: UnsafeRawBufferPointer) -> Attempt {
    guard answer.count <= maximumLength else { return Attempt() }
    let ignored: [UInt8] = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "-")]
    var kept = answer.filter { !ignored.contains($0) }
    defer { wipe(&kept) }
    return Attempt(code: SecretBytes(kept), backupCode: SecretBytes(kept))
  }

  /// A password and code typed together (`forward_pass`), for a user whose codes have `digits` digits.
  public static func forwarded(_ answer: UnsafeRawBufferPointer, digits: Int) -> Attempt {
    guard answer.count <= maximumLength else { return Attempt() }
    var attempt = Attempt()
    if answer.count >= digits {
      let split = answer.count - digits
      attempt.passwordBeforeCode = SecretBytes(answer[..<split])
      attempt.code = SecretBytes(answer[split...])
    }
    let backupLength = BackupCodeHashes.codeLength
    if answer.count >= backupLength {
      let split = answer.count - backupLength
      attempt.passwordBeforeBackupCode = SecretBytes(answer[..<split])
      attempt.backupCode = SecretBytes(answer[split...])
    }
    return attempt
  }

  /// Whether the answer typed was empty (or only spaces, tabs and hyphens): at a prompt that
  /// offers to send a code, the request for one.
  public var isEmpty: Bool { code?.count == 0 }

  /// Whether a stacked password could be a code at all, for `try_first_pass`: only then is it
  /// tried, so that an ordinary password never counts as a failed code.
  public func couldBeCode(digits: Int) -> Bool {
    let isCode = code?.withUnsafeBytes { $0.count == digits && $0.allSatisfy(isDigit) } ?? false
    let isBackup = backupCode?.withUnsafeBytes { BackupCodeHashes.isWellFormed($0) } ?? false
    return isCode || isBackup
  }
}

/// Whether `byte` is an ASCII decimal digit.
func isDigit(_ byte: UInt8) -> Bool {
  byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}
