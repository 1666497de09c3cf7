/// Everything the store keeps about one enrolled user.
///
/// The secret never changes after enrollment; the other fields change at logins (the replay
/// watermark or HOTP counter, failure counters, lockout) or by the administrator.
public struct UserRecord {
  /// The latest Unix time a record holds (about the year 36812); later times are pinned to it.
  public static let latestTime: Int64 = 1 << 40
  /// The largest HOTP counter a record holds, far beyond any real use, so that counting on
  /// from it can never wrap.
  public static let largestCounter: UInt64 = 1 << 62
  /// The clock offsets, in time steps, a record holds.
  public static let offsetRange: ClosedRange<Int64> = -100_000...100_000
  /// The largest count of consecutive failures a record holds; counting stops there.
  public static let largestFailureCount = 1_000_000

  /// How codes are computed.
  public var parameters: TokenParameters
  /// The shared key, as the authenticator app holds it.
  public var secret: SecretBytes
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
  /// Unix time of enrollment.
  public var enrolled: Int64
  /// The single-use backup codes, stored as slow salted hashes.
  public var backupCodes: BackupCodeHashes
  /// A random number the store gives each version of the record it writes, so that the
  /// per-login state saved for one version is never applied to another (see `StateSlot`);
  /// 0 for a record not written by the store yet.
  public var stateID: UInt64

  public init(
    parameters: TokenParameters, secret: SecretBytes, counter: UInt64 = 0, lastStep: Int64? = nil,
    offset: Int64 = 0, failures: Int = 0, lockedUntil: Int64 = 0, lastSuccess: Int64 = 0,
    enrolled: Int64 = 0, backupCodes: BackupCodeHashes = .none, stateID: UInt64 = 0
  ) {
    self.parameters = parameters
    self.secret = secret
    self.counter = counter
    self.lastStep = lastStep
    self.offset = offset
    self.failures = failures
    self.lockedUntil = lockedUntil
    self.lastSuccess = lastSuccess
    self.enrolled = enrolled
    self.backupCodes = backupCodes
    self.stateID = stateID
  }

  /// Whether the per-login state (what a `StateSlot` holds) is the same.
  public func hasSameLoginState(as other: UserRecord) -> Bool {
    counter == other.counter && lastStep == other.lastStep && offset == other.offset
      && failures == other.failures && lockedUntil == other.lockedUntil && lastSuccess == other.lastSuccess
  }

  /// Raises this record's replay watermark and HOTP counter to `previous`'s when both have the
  /// same secret and parameters, so that a new record for the same key (an enrollment forced
  /// with the same secret, an import of the same file) does not make used codes work again.
  /// With another secret or other parameters the codes differ, and nothing is carried.
  public mutating func keepReplayWatermark(of previous: UserRecord) {
    guard parameters == previous.parameters, secret.hasSameBytes(as: previous.secret) else { return }
    if let old = previous.lastStep { lastStep = max(lastStep ?? old, old) }
    counter = max(counter, previous.counter)
  }

  /// Whether everything but the per-login state is the same: the same version of the same
  /// enrollment, with the same backup codes left.
  public func hasSameEnrollment(as other: UserRecord) -> Bool {
    parameters == other.parameters && secret.hasSameBytes(as: other.secret) && enrolled == other.enrolled
      && backupCodes == other.backupCodes && stateID == other.stateID
  }
}
