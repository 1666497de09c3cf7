/// The limits on codes sent by email and SMS, from `lockstepd.conf` (lockstepd(8) lists each
/// key, its default and its range): how often a user or a source address may have a code sent,
/// how long a code lives and how many wrong answers burn it.
public struct DeliveryLimits: Equatable, Sendable {
  /// `sends-per-user =`: codes sent to one user within `sendWindowSeconds`.
  public var sendsPerUser = 3
  /// `send-window =`: the window, in seconds, of `sendsPerUser` and `sendsPerSource`.
  public var sendWindowSeconds = 600
  /// `resend-cooldown =`: seconds between two sends to one user.
  public var resendCooldownSeconds = 60
  /// `sends-per-source =`: codes sent on behalf of one source address (`PAM_RHOST`), across
  /// all users, within `sendWindowSeconds`; what stops a sprayer of user names from running up
  /// the SMS bill.
  public var sendsPerSource = 10
  /// `code-lifetime =`: seconds a sent code stays good.
  public var codeLifetimeSeconds = 300
  /// `code-attempts =`: wrong answers that burn a sent code.
  public var attemptsPerCode = 3
  /// `send-timeout =`: seconds one send to a provider may take, connecting included.
  public var sendTimeoutSeconds = 8

  public init() {}
}
