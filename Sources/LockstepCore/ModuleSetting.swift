/// A numeric argument of the module: its name, default and range, declared once. The module's
/// parser, the verification policy's defaults and the CLI's options and messages all read them
/// from here.
public struct ModuleSetting: Sendable {
  /// The argument's name, as in `window=2`.
  public let name: String
  /// The value when the argument is not given.
  public let defaultValue: Int
  /// The values the argument accepts.
  public let range: ClosedRange<Int>

  /// `window=N`: time steps accepted before and after the current one (TOTP).
  public static let window = ModuleSetting(name: "window", defaultValue: 1, range: 0...10)
  /// `lookahead=N`: counter values accepted past the expected one (HOTP).
  public static let lookahead = ModuleSetting(name: "lookahead", defaultValue: 10, range: 0...100)
  /// `max_failures=N`: consecutive failures that start a lockout.
  public static let maxFailures = ModuleSetting(name: "max_failures", defaultValue: 5, range: 1...1000)
  /// `lockout=SECONDS`: how long a lockout lasts; 0 turns lockout off.
  public static let lockout = ModuleSetting(name: "lockout", defaultValue: 900, range: 0...31_536_000)
  /// `fail_delay=MS`: the least time from an answer to its refusal.
  public static let failDelay = ModuleSetting(name: "fail_delay", defaultValue: 500, range: 0...10_000)
  /// `lock_timeout=SECONDS`: how long a login waits for the user's lock.
  public static let lockTimeout = ModuleSetting(name: "lock_timeout", defaultValue: 5, range: 1...600)

  /// `agent_timeout=SECONDS`: how long a login waits for the agent's whole answer (`agent=`).
  public static let agentTimeout = ModuleSetting(name: "agent_timeout", defaultValue: 5, range: 1...60)

  /// `send_timeout=SECONDS`: how long a login waits for the agent to send a code by email or
  /// SMS (`agent=`); longer than `agent_timeout`, since the agent waits for the provider.
  public static let sendTimeout = ModuleSetting(name: "send_timeout", defaultValue: 10, range: 1...60)

  /// Every numeric setting, in the order the man page lists them.
  public static let all = [window, lookahead, maxFailures, lockout, failDelay, lockTimeout, agentTimeout, sendTimeout]

  /// "from 0 to 10", for messages.
  public var rangeText: String { "from \(range.lowerBound) to \(range.upperBound)" }
}
