/// Whether codes follow the clock (TOTP) or a counter (HOTP), or are sent to the user by email
/// or SMS and nothing else (`delivered`: the record holds no secret, only a contact).
public enum TokenKind: String, Sendable {
  case totp
  case hotp
  case delivered
}

/// How a user's codes are computed: the parts of an enrollment that the authenticator app
/// must agree with.
public struct TokenParameters: Equatable, Sendable {
  /// The smallest and largest number of digits accepted (RFC 4226 requires at least six).
  public static let digitRange = 6...8
  /// The shortest and longest time step accepted, in seconds.
  public static let periodRange = 1...86_400

  public var kind: TokenKind
  public var algorithm: OTPAlgorithm
  public var digits: Int
  /// The TOTP time step in seconds; kept for HOTP records too, where it is unused.
  public var period: Int

  /// The parameters every authenticator app understands: TOTP, SHA1, 6 digits, 30 seconds.
  public static let standard = TokenParameters(kind: .totp, algorithm: .sha1, digits: 6, period: 30)

  public init(kind: TokenKind, algorithm: OTPAlgorithm, digits: Int, period: Int) {
    self.kind = kind
    self.algorithm = algorithm
    self.digits = digits
    self.period = period
  }

  /// Whether digits and period are within the supported ranges.
  public var isValid: Bool {
    Self.digitRange.contains(digits) && Self.periodRange.contains(period)
  }

  /// The TOTP time step that `unixTime` falls in (RFC 6238, T0 = 0), floor division so that
  /// times before 1970 do not round towards zero.
  public func timeStep(at unixTime: Int64) -> Int64 {
    let p = Int64(max(period, 1))
    let q = unixTime / p
    return (unixTime % p < 0) ? q - 1 : q
  }
}
