/// The limits verification enforces, taken from the module's arguments.
public struct VerificationPolicy: Equatable, Sendable {
  /// Time steps accepted before and after the current one (TOTP).
  public var window: Int
  /// Counter values accepted past the expected one (HOTP).
  public var lookahead: Int
  /// Consecutive failures that start a lockout.
  public var maxFailures: Int
  /// Length of a lockout in seconds; 0 turns lockout off.
  public var lockoutSeconds: Int

  public init(
    window: Int = ModuleSetting.window.defaultValue, lookahead: Int = ModuleSetting.lookahead.defaultValue,
    maxFailures: Int = ModuleSetting.maxFailures.defaultValue, lockoutSeconds: Int = ModuleSetting.lockout.defaultValue
  ) {
    self.window = window
    self.lookahead = lookahead
    self.maxFailures = maxFailures
    self.lockoutSeconds = lockoutSeconds
  }

  /// The policy set by a module configuration.
  public init(_ options: ModuleOptions) {
    self.init(
      window: options.window, lookahead: options.lookahead, maxFailures: options.maxFailures,
      lockoutSeconds: options.lockoutSeconds)
  }
}
