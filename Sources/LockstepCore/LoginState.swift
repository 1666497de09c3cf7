/// What a login changes in a user's record, declared once: the record holds it (`UserRecord.state`),
/// a state slot carries it whole (`StateSlot.state`), and whether a login changed anything is
/// whether it is equal. A new per-login field is added here, to the slot's binary layout
/// (`StateSlot`) and to the record's text (`RecordFormat`), and nowhere else.
public struct LoginState: Equatable, Sendable {
  /// HOTP: the counter value the next code is expected at. Unused for TOTP.
  public var counter: UInt64
  /// TOTP: the last time step whose code was accepted; a code at or before it is a replay.
  public var lastStep: Int64?
  /// TOTP: how many time steps the user's device is known to run ahead (positive) or behind.
  public var offset: Int64
  /// Consecutive failed attempts since the last success or lockout.
  public var failures: Int
  /// Unix time until which codes are refused unchecked; 0 when not locked out.
  public var lockedUntil: Int64
  /// Unix time of the last accepted code; 0 if none yet.
  public var lastSuccess: Int64
  /// Codes sent by email or SMS: the pending one and the sends of the current window.
  public var sent: SentCodeState

  public init(
    counter: UInt64 = 0, lastStep: Int64? = nil, offset: Int64 = 0, failures: Int = 0, lockedUntil: Int64 = 0,
    lastSuccess: Int64 = 0, sent: SentCodeState = SentCodeState()
  ) {
    self.counter = counter
    self.lastStep = lastStep
    self.offset = offset
    self.failures = failures
    self.lockedUntil = lockedUntil
    self.lastSuccess = lastSuccess
    self.sent = sent
  }
}
