public import LockstepCore

/// An enrollment read from a `~/.google_authenticator` file, ready for the CLI to turn into a
/// lockstep record: the token, its state, and what the old configuration said about windows.
public struct ImportedToken {
  /// How codes are computed: TOTP unless the file has a `HOTP_COUNTER`, SHA1, 6 digits, and
  /// the file's `STEP_SIZE` (30 seconds when absent).
  public var parameters: TokenParameters
  /// The shared key, decoded from the file's first line.
  public var secret: SecretBytes
  /// HOTP: the counter value the next code is expected at (google-authenticator's
  /// `HOTP_COUNTER`, which already points past the last code used). 0 for TOTP.
  public var counter: UInt64
  /// `WINDOW_SIZE` as written: the total number of codes google-authenticator accepts
  /// around the current one (TOTP) or from the counter on (HOTP); `nil` when absent, which
  /// google-authenticator treats as 3.
  public var windowSize: Int?
  /// The lockstep `window=` argument closest to the file's window: `(size - 1) / 2`, capped at
  /// the largest value lockstep accepts (10).
  public var suggestedWindow: Int
  /// The lockstep `lookahead=` argument matching an HOTP window: `size - 1`, capped at 100.
  public var suggestedLookahead: Int
  /// Whether `DISALLOW_REUSE` was on, so that each TOTP code worked only once.
  public var disallowReuse: Bool
  /// The highest time step listed after `DISALLOW_REUSE`: seed the record's replay watermark
  /// (`lastStep`) with it so that codes used before the import cannot be used again.
  public var lastUsedStep: Int64?
  /// `TIME_SKEW`: how many time steps google-authenticator had learnt the user's device is
  /// off by; `nil` when absent.
  public var timeSkew: Int64?
  /// The unused scratch (emergency) codes, 8 ASCII digits each, in file order, duplicates
  /// removed. The CLI stores them only as hashes.
  public var scratchCodes: [[UInt8]]
  /// Things that were ignored or that the administrator should know, one sentence each; none
  /// quotes the secret or a scratch code.
  public var warnings: [String]

  /// A token with the given fields; the importer builds these.
  public init(
    parameters: TokenParameters, secret: SecretBytes, counter: UInt64 = 0, windowSize: Int? = nil,
    suggestedWindow: Int = 1, suggestedLookahead: Int = 2, disallowReuse: Bool = false,
    lastUsedStep: Int64? = nil, timeSkew: Int64? = nil, scratchCodes: [[UInt8]] = [], warnings: [String] = []
  ) {
    self.parameters = parameters
    self.secret = secret
    self.counter = counter
    self.windowSize = windowSize
    self.suggestedWindow = suggestedWindow
    self.suggestedLookahead = suggestedLookahead
    self.disallowReuse = disallowReuse
    self.lastUsedStep = lastUsedStep
    self.timeSkew = timeSkew
    self.scratchCodes = scratchCodes
    self.warnings = warnings
  }
}
