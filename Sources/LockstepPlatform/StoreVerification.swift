public import LockstepCore

extension Store {
  /// Checks `attempt` against `user`'s record and stores what the check changed, all under the
  /// user's lock (waited for no longer than `lockTimeoutMilliseconds`): the one sequence every
  /// login on a local store runs, in the module and in the agent. `backupDigest` is the
  /// attempt's backup code hashed before the lock (see `BackupCodeHashes.digest`), and
  /// `sentDigest` its code under the host key (`HostKey.digest(ofSentCode:for:)`), compared
  /// with a code sent to the user. Returns the outcome and the record as it was before the
  /// check, or `nil` when the user has no record, or only an invitation (see `takeUp`).
  public func check<Crypto: CryptoProvider>(
    _ attempt: Attempt, for user: UserName, verifier: Verifier<Crypto>, backupDigest: BackupCodeDigest?,
    sentDigest: [UInt8]? = nil, now: Int64, lockTimeoutMilliseconds: Int
  ) throws(StoreError) -> (outcome: VerificationOutcome, record: UserRecord)? {
    let lock = try lock(user, timeoutMilliseconds: lockTimeoutMilliseconds)
    guard let current = try read(user, holding: lock), current.invitation == nil else { return nil }
    let verdict = verifier.verify(
      attempt, against: current, now: now, backupDigest: backupDigest, sentDigest: sentDigest)
    if let updated = verdict.updated { try save(updated, over: current, holding: lock) }
    return (verdict.outcome, current)
  }

  /// Takes up `user`'s invitation with the first code from the app, under the user's lock: the
  /// code is checked as any code is (the window, failures and lockout count as usual; no
  /// backup code applies), and a right one makes the record a plain enrollment, enrolled at
  /// `now`, with `backupCodes` (hashed before the lock), its watermark at the code's time step.
  /// Returns the outcome and the record as it was before, or `nil` when the user has no open
  /// invitation (none, taken up by another login, withdrawn, or expired).
  public func takeUp<Crypto: CryptoProvider>(
    _ attempt: Attempt, for user: UserName, verifier: Verifier<Crypto>, backupCodes: BackupCodeHashes, now: Int64,
    lockTimeoutMilliseconds: Int
  ) throws(StoreError) -> (outcome: VerificationOutcome, record: UserRecord)? {
    let lock = try lock(user, timeoutMilliseconds: lockTimeoutMilliseconds)
    guard let current = try read(user, holding: lock), let invitation = current.invitation, invitation.isOpen(at: now)
    else { return nil }
    let codeOnly = Attempt(code: attempt.code, backupCode: nil)
    let verdict = verifier.verify(codeOnly, against: current, now: now, backupDigest: nil)
    guard var updated = verdict.updated else { return (verdict.outcome, current) }
    if case .accepted = verdict.outcome {
      updated.invitation = nil
      updated.enrolled = now
      updated.backupCodes = backupCodes
    }
    try save(updated, over: current, holding: lock)
    return (verdict.outcome, current)
  }
}
