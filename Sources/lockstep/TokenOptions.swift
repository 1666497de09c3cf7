import ArgumentParser
import LockstepCore

/// How a new secret's codes are made, and what the app shows beside them: the options that
/// `enroll` and `invite` share.
struct TokenOptions: ParsableArguments {
  @Option(name: .long, help: "The hash function: sha1, sha256 or sha512, in any case.")
  var algorithm: String = "sha1"

  @Option(name: .long, help: "The number of digits in each code, 6 to 8.")
  var digits: Int = 6

  @Option(name: .long, help: "The TOTP time step in seconds.")
  var period: Int = 30

  @Option(name: .long, help: "The issuer shown in the authenticator app (default: this host's name).")
  var issuer: String?

  @Flag(name: .long, help: "Use counter-based codes (HOTP) instead of time-based ones (TOTP).")
  var hotp = false

  func validate() throws {
    guard OTPAlgorithm(name: algorithm) != nil else {
      throw ValidationError("'\(algorithm)' is not an algorithm; use sha1, sha256 or sha512")
    }
    guard TokenParameters.digitRange.contains(digits) else {
      throw ValidationError("--digits must be between 6 and 8")
    }
    guard TokenParameters.periodRange.contains(period) else {
      throw ValidationError("--period must be between 1 and 86400 seconds")
    }
  }

  /// The parameters the options give.
  var parameters: TokenParameters {
    TokenParameters(
      kind: hotp ? .hotp : .totp, algorithm: OTPAlgorithm(name: algorithm) ?? .sha1, digits: digits, period: period)
  }

  /// The issuer given, or this host's name.
  var effectiveIssuer: String { issuer ?? hostName() }

  /// A new random secret of `Secrets.generatedLength` bytes.
  static func newSecret() throws(Failure) -> SecretBytes {
    guard let random = crypto.randomBytes(count: Secrets.generatedLength) else {
      throw Failure("could not generate a secret: the random generator failed", code: Exit.storeUnusable)
    }
    var bytes = random
    defer { wipe(&bytes) }
    return SecretBytes(bytes)
  }
}
