/// The hash function under the HMAC of HOTP and TOTP (RFC 4226, RFC 6238).
public enum OTPAlgorithm: String, CaseIterable, Sendable {
  case sha1 = "SHA1"
  case sha256 = "SHA256"
  case sha512 = "SHA512"

  /// Parses a name in any case, with or without a hyphen (`sha1`, `SHA-256`).
  public init?(name: String) {
    let folded = String(name.uppercased().filter { $0 != "-" })
    self.init(rawValue: folded)
  }

  /// The length of the HMAC output in bytes.
  public var digestLength: Int {
    switch self {
    case .sha1: return 20
    case .sha256: return 32
    case .sha512: return 64
    }
  }
}
