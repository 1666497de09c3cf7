/// Everything the store keeps about one enrolled user.
///
/// The secret never changes after enrollment; `state` changes at logins (the replay watermark
/// or HOTP counter, failure counters, lockout), and the rest only by the administrator.
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
  /// What logins change.
  public var state: LoginState
  /// Unix time of enrollment.
  public var enrolled: Int64
  /// The single-use backup codes, stored as slow salted hashes.
  public var backupCodes: BackupCodeHashes
  /// A random number the store gives each version of the record it writes, so that the
  /// per-login state saved for one version is never applied to another (see `StateSlot`);
  /// 0 for a record not written by the store yet.
  public var stateID: UInt64
  /// Where codes are sent to this user, if anywhere.
  public var contact: Contact?
  /// Set while the record is an invitation not taken up yet: the user is then not enrolled.
  public var invitation: Invitation?

  public init(
    parameters: TokenParameters, secret: SecretBytes, counter: UInt64 = 0, lastStep: Int64? = nil,
    offset: Int64 = 0, failures: Int = 0, lockedUntil: Int64 = 0, lastSuccess: Int64 = 0,
    enrolled: Int64 = 0, backupCodes: BackupCodeHashes = .none, stateID: UInt64 = 0
  ) {
    self.parameters = parameters
    self.secret = secret
    state = LoginState(
      counter: counter, lastStep: lastStep, offset: offset, failures: failures, lockedUntil: lockedUntil,
      lastSuccess: lastSuccess)
    self.enrolled = enrolled
    self.backupCodes = backupCodes
    self.stateID = stateID
    contact = nil
    invitation = nil
  }

  // The fields of `state`, by their names: what the verifier, the CLI and the tests read and set.

  /// See `LoginState.counter`.
  public var counter: UInt64 {
    get { state.counter }
    set { state.counter = newValue }
  }
  /// See `LoginState.lastStep`.
  public var lastStep: Int64? {
    get { state.lastStep }
    set { state.lastStep = newValue }
  }
  /// See `LoginState.offset`.
  public var offset: Int64 {
    get { state.offset }
    set { state.offset = newValue }
  }
  /// See `LoginState.failures`.
  public var failures: Int {
    get { state.failures }
    set { state.failures = newValue }
  }
  /// See `LoginState.lockedUntil`.
  public var lockedUntil: Int64 {
    get { state.lockedUntil }
    set { state.lockedUntil = newValue }
  }
  /// See `LoginState.lastSuccess`.
  public var lastSuccess: Int64 {
    get { state.lastSuccess }
    set { state.lastSuccess = newValue }
  }

  /// Whether `other` holds the same token: the same parameters, secret and enrollment time,
  /// whatever the state and backup codes of either (what `StoreMode.create` and `lockstep
  /// migrate` compare).
  public func hasSameToken(as other: UserRecord) -> Bool {
    parameters == other.parameters && secret.hasSameBytes(as: other.secret) && enrolled == other.enrolled
      && contact == other.contact && invitation == other.invitation
  }

  /// Drops the backup codes that `previous` no longer holds when both are the same token with
  /// the same set of backup codes (the same salt and iteration count): a code used there stays
  /// used here. Another set, or another token, is left as it is.
  public mutating func keepUsedBackupCodes(of previous: UserRecord) {
    guard hasSameToken(as: previous), backupCodes.salt == previous.backupCodes.salt,
      backupCodes.iterations == previous.backupCodes.iterations
    else { return }
    backupCodes.hashes = backupCodes.hashes.filter { previous.backupCodes.hashes.contains($0) }
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
    hasSameToken(as: other) && backupCodes == other.backupCodes && stateID == other.stateID
  }
}
