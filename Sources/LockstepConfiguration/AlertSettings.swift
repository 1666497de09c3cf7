import LockstepCore

/// lockstepd's alerts (`alert-command =`, `alert-email =` and their thresholds): what makes an
/// alert, and how many may go out. Off unless a command or an address is given.
public struct AlertSettings: Equatable, Sendable {
  /// `alert-command =`: a program (an absolute path, then its arguments; no shell) that gets
  /// each alert as one JSON object on its standard input.
  public var command: [String]?
  /// `alert-email =`: an address that gets each alert by mail, through the `sendmail =` command.
  public var email: String?
  /// `alert-timeout =`: seconds an alert's command or sendmail may run before it is killed.
  public var timeoutSeconds = 10
  /// `alert-limit =` alerts at most per `alert-window =` seconds; the rest are counted, logged
  /// and left out, and the next alert that goes says how many were.
  public var limit = 10
  public var windowSeconds = 3600
  /// `alert-spray-users =`: the distinct users one source address must fail for within
  /// `alert-spray-window =` seconds to raise a `spray` alert.
  public var sprayUsers = 3
  public var sprayWindowSeconds = 600
  /// `alert-backup-codes-left =`: a backup code that leaves this many or fewer is `low`.
  public var backupCodesLeft = 2
  /// `alert-sends =`: codes sent within `alert-sends-window =` seconds that raise a
  /// `send-spike` alert.
  public var sends = 30
  public var sendsWindowSeconds = 600

  public init() {}

  /// Whether any alert can go anywhere.
  public var isEnabled: Bool { command != nil || email != nil }

  /// Sets `key` when it is an alert setting, and returns whether it was; `fail` makes the error
  /// for a bad value.
  public mutating func set(
    _ key: String, _ value: String, _ fail: (String) -> ConfigurationError
  ) throws(ConfigurationError) -> Bool {
    func number(_ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
      try AgentConfiguration.number(value, key, range, fail)
    }
    switch key {
    case "alert-command":
      guard let words = DeliverySettings.command(value) else {
        throw fail("'alert-command' needs a command: an absolute path, then its arguments")
      }
      command = words
    case "alert-email":
      guard Contact(email: value) != nil else { throw fail("'alert-email' needs an email address") }
      email = value
    case "alert-timeout": timeoutSeconds = try number(1...60)
    case "alert-limit": limit = try number(1...1000)
    case "alert-window": windowSeconds = try number(60...86400)
    case "alert-spray-users": sprayUsers = try number(2...1000)
    case "alert-spray-window": sprayWindowSeconds = try number(60...86400)
    case "alert-backup-codes-left": backupCodesLeft = try number(0...20)
    case "alert-sends": sends = try number(1...100_000)
    case "alert-sends-window": sendsWindowSeconds = try number(60...86400)
    default: return false
    }
    return true
  }
}
