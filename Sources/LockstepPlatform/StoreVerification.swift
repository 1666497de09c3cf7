public import LockstepCore

extension Store {
  /// Checks `attempt` against `user`'s record and stores what the check changed, all under the
  /// user's lock (waited for no longer than `lockTimeoutMilliseconds`): the one sequence every
  /// login on a local store runs, in the module and in the agent. `backupDigest` is the
  /// attempt's backup code hashed before the lock (see `BackupCodeHashes.digest`), and
  /// `sentDigest` its code under the host key (`HostKey.digest(ofSentCode:for:)`), compared
  /// with a code sent to the user. Returns the
  /// outcome and the record as it was before the check, or `nil` when the user has no record.
  public func check<Crypto: CryptoProvider>(
    _ attempt: Attempt, for user: UserName, verifier: Verifier<Crypto>, backupDigest: BackupCodeDigest?,
    sentDigest: [UInt8]? = nil, now: Int64, lockTimeoutMilliseconds: Int
  ) throws(StoreError) -> (outcome: VerificationOutcome, record: UserRecord)? {
    let lock = try lock(user, timeoutMilliseconds: lockTimeoutMilliseconds)
    guard let current = try read(user, holding: lock) else { return nil }
    let verdict = verifier.verify(
      attempt, against: current, now: now, backupDigest: backupDigest, sentDigest: sentDigest)
    if let updated = verdict.updated { try save(updated, over: current, holding: lock) }
    return (verdict.outcome, current)
  }
}
