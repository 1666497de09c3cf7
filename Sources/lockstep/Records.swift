import LockstepCore
import LockstepLibCrypto
import LockstepPlatform

#if canImport(Glibc)
  import Glibc
#endif

extension Store {
  /// `user`'s record; fails when the user is not enrolled or the record cannot be trusted.
  func record(of user: UserName, holding lock: UserLock? = nil) throws(Failure) -> UserRecord {
    let record: UserRecord?
    do { record = try read(user, holding: lock) } catch { throw .store(error) }
    guard let record else { throw .notEnrolled(user, in: path) }
    return record
  }

  /// The sequence every command that changes a record ends with: take `user`'s lock, run
  /// `check` again under it (the command ran it once without the lock, so that a command refused
  /// outright leaves no lock file and refuses before any slow work; another command may have
  /// enrolled or revoked the user since), then `act` before the lock is released.
  func whileLocked<R>(
    _ user: UserName, checkingAgain check: () throws(Failure) -> Void = {}, _ act: (UserLock) throws(Failure) -> R
  ) throws(Failure) -> R {
    let held: UserLock
    do { held = try lock(user) } catch { throw .store(error) }
    try check()
    return try act(held)
  }

  /// Takes `user`'s lock, reads the record, lets `change` modify it, and saves it before the
  /// lock is released. Nothing is written if `change` throws or leaves the record as it was.
  /// Returns the record as it was and as it is now.
  @discardableResult
  func update(
    _ user: UserName, _ change: (inout UserRecord) throws(Failure) -> Void
  ) throws(Failure) -> (before: UserRecord, after: UserRecord) {
    // Check first without the lock, so that a user who is not enrolled gets no lock file; the
    // read under the lock is the check again.
    _ = try record(of: user)
    return try whileLocked(user) { held throws(Failure) in
      let before = try record(of: user, holding: held)
      var after = before
      try change(&after)
      do throws(StoreError) { try save(after, over: before, holding: held) } catch { throw .store(error) }
      return (before, after)
    }
  }
}

/// The crypto provider every command uses.
let crypto = LibCrypto()

/// New backup codes and their hashes, or a failure if the random generator failed.
func issueBackupCodes(count: Int) throws(Failure) -> (codes: [[UInt8]], hashes: BackupCodeHashes) {
  guard let codes = BackupCodeHashes.generateCodes(count: count, crypto: crypto),
    let hashes = BackupCodeHashes.issue(codes: codes, crypto: crypto)
  else { throw Failure("could not generate backup codes: the random generator failed", code: Exit.storeUnusable) }
  return (codes, hashes)
}

/// The host's name, the default issuer shown in authenticator apps.
func hostName() -> String {
  var buffer = [CChar](repeating: 0, count: 256)
  guard gethostname(&buffer, buffer.count - 1) == 0 else { return "lockstep" }
  let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  return name.isEmpty ? "lockstep" : name
}
