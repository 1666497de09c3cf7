/// The HOTP function of RFC 4226 (TOTP, RFC 6238, is HOTP over the time step).
public enum OneTimePassword {
  /// The code for `counter`, as an integer below 10^`digits`; `nil` if the HMAC failed, so
  /// that a failure can never produce a code that matches.
  ///
  /// `digits` must be between 1 and 9 (six to eight are the values in use); the caller
  /// validates it.
  public static func code(
    secret: SecretBytes, counter: UInt64, algorithm: OTPAlgorithm, digits: Int,
    crypto: some CryptoProvider
  ) -> UInt32? {
    var message = [UInt8](repeating: 0, count: 8)
    for index in 0..<8 {
      message[index] = UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * index))
    }
    var digest = secret.withUnsafeBytes { key in
      message.withUnsafeBytes { crypto.hmac(algorithm, key: key, message: $0) }
    }
    defer { wipe(&digest) }
    guard digest.count == algorithm.digestLength, let last = digest.last else { return nil }
    // Dynamic truncation (RFC 4226 section 5.3).
    let offset = Int(last & 0x0f)
    let binary =
      (UInt32(digest[offset] & 0x7f) << 24) | (UInt32(digest[offset + 1]) << 16)
      | (UInt32(digest[offset + 2]) << 8) | UInt32(digest[offset + 3])
    return binary % modulus(digits: digits)
  }

  /// The code for `counter` as text, zero-padded to `digits` characters; `nil` if the HMAC failed.
  public static func text(
    secret: SecretBytes, counter: UInt64, algorithm: OTPAlgorithm, digits: Int,
    crypto: some CryptoProvider
  ) -> [UInt8]? {
    guard let value = code(secret: secret, counter: counter, algorithm: algorithm, digits: digits, crypto: crypto)
    else { return nil }
    return digitsText(value, width: digits)
  }

  /// `value` as ASCII decimal digits, zero-padded on the left to `width` characters.
  public static func digitsText(_ value: UInt32, width: Int) -> [UInt8] {
    var result = [UInt8](repeating: UInt8(ascii: "0"), count: max(width, 1))
    var rest = value
    var index = result.count - 1
    while index >= 0 {
      result[index] = UInt8(ascii: "0") + UInt8(rest % 10)
      rest /= 10
      index -= 1
    }
    return result
  }

  private static func modulus(digits: Int) -> UInt32 {
    var result: UInt32 = 1
    for _ in 0..<min(max(digits, 1), 9) { result *= 10 }
    return result
  }
}
