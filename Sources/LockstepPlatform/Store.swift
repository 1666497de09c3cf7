internal import CLockstepSystem
public import LockstepCore

/// The directory of user records, opened once and trusted only after its checks pass.
///
/// Every file is opened relative to the directory's descriptor with `O_NOFOLLOW`, so nothing
/// in the store can redirect a read or write elsewhere, and trusted only if it is a regular
/// file, owned by root (user and group), not accessible by group or others, and has no other
/// hard link. Every file the store creates is given to root's user and group, whoever the
/// caller is: under sudo, a process's group is the user's.
///
/// A user has two files. The record, `USER`, holds the enrollment; it is replaced as a whole,
/// by a temporary file that is synced and renamed over it before the directory is synced, so
/// a crash leaves the old record or the new one. The state file, `.USER.state`, holds what
/// logins change (see `StateSlot` and `StateFile`) in two slots written alternately in place
/// with one `fdatasync`; a crash tears at most the slot being written, and the other one
/// holds the state before. The state file is also the file the user's lock is taken on, and
/// is never removed.
public final class Store {
  /// The directory's path, for messages.
  public let path: String
  /// The store directory, opened and checked once.
  let directory: FileDescriptor

  /// A sticky directory that others can write to (such as `/tmp`) on the way to the store, if
  /// there is one: safe today, since no one else can rename or remove root's entries there,
  /// but whoever gets there first can take a missing store's name (`lockstep check` warns).
  public let writableAncestor: String?

  /// The host key, when this host has one: records are then written with their secrets sealed
  /// under it, and sealed records are opened with it. Without it, records are written in
  /// clear, and a sealed record cannot be read.
  public let hostKey: HostKey?

  /// Opens and checks the store directory (see `StorePath`): every directory on the way must
  /// be root's and writable by no one else unless sticky, every symbolic link on the way
  /// root's, and the store itself a directory owned by root that no one else can write to.
  /// A relative `path` is taken from the working directory.
  public init(path: String, hostKey: HostKey? = nil) throws(StoreError) {
    self.path = path
    self.hostKey = hostKey
    (directory, writableAncestor) = try StorePath.open(path)
  }

  /// Reads `user`'s record with its current state; `nil` when the user has none. Pass the
  /// user's lock when holding it: the state is then the one the lock read.
  public func read(_ user: UserName, holding lock: UserLock? = nil) throws(StoreError) -> UserRecord? {
    guard var record = try enrollment(user) else { return nil }
    let slots: [StateSlot?]
    if let lock, lock.user == user {
      slots = lock.slots
    } else {
      let statePath = self.statePath(user)
      do {
        let (file, st) = try openChecked(user.stateFileName, path: statePath, flags: O_RDONLY)
        slots = try self.slots(in: file, size: st.st_size, path: statePath)
      } catch StoreError.system(_, let error) where error.code == ENOENT {
        return record
      }
    }
    StateFile.current(of: slots, for: record.stateID)?.apply(to: &record)
    return record
  }

  /// Reads `user`'s record file alone, without the state logins have saved since it was
  /// written (so its counters may be behind); `nil` when the user has none. Enough to decide
  /// whether and how to prompt, before taking the lock.
  public func enrollment(_ user: UserName) throws(StoreError) -> UserRecord? {
    guard let text = try recordText(user) else { return nil }
    do {
      return try text.withUnsafeBytes { bytes throws(LineError) in
        try RecordFormat.parse(bytes, opening: hostKey.map { key in { key.open($0, for: user) } })
      }
    } catch {
      throw .malformedRecord(path: recordPath(user), error)
    }
  }

  /// Whether `user`'s record holds its secret sealed; `nil` when the user has none.
  public func isSealed(_ user: UserName) throws(StoreError) -> Bool? {
    try recordText(user)?.withUnsafeBytes { RecordFormat.isSealed($0) }
  }

  /// The text of `user`'s record file, checked as root's alone; `nil` when there is none.
  private func recordText(_ user: UserName) throws(StoreError) -> SecretBytes? {
    let recordPath = self.recordPath(user)
    // A writer that renames a new record over this one between the open and the fstat leaves
    // the opened file with no links: open the name again, which now holds the new record.
    var opened = try openRecord(user)
    var retries = 0
    while let (_, st) = opened, st.st_nlink == 0, retries < 3 {
      opened = try openRecord(user)
      retries += 1
    }
    guard let (file, st) = opened else { return nil }
    try checkOwnership(st, path: recordPath)
    guard st.st_size <= RecordFormat.maximumSize else {
      throw .unsafeRecord(path: recordPath, reason: "it is larger than \(RecordFormat.maximumSize) bytes")
    }
    do { return try file.readAll(count: Int(st.st_size)) } catch { throw .system(path: recordPath, error) }
  }

  /// Opens `user`'s record for reading and returns it with its status; `nil` when there is none.
  private func openRecord(_ user: UserName) throws(StoreError) -> (FileDescriptor, stat)? {
    let recordPath = self.recordPath(user)
    let file: FileDescriptor
    do {
      // O_NONBLOCK: opening a FIFO planted in the store must not hang the login.
      file = try FileDescriptor.open(
        user.recordFileName, in: directory.raw, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
    } catch {
      switch error.code {
      case ENOENT: return nil
      case ELOOP: throw .unsafeRecord(path: recordPath, reason: "it is a symbolic link")
      default: throw .system(path: recordPath, error)
      }
    }
    do { return (file, try file.status()) } catch { throw .system(path: recordPath, error) }
  }

  /// How long `lock` waits for another process to release a user's lock, by default.
  public static let defaultLockTimeout = 10_000

  /// Takes `user`'s exclusive lock, waiting at most `timeoutMilliseconds` while another process
  /// holds it (a login or command holds it for milliseconds; one stopped with `SIGSTOP`, or a
  /// root process's `flock`, could hold it for ever). The lock is an `flock(2)` on the user's
  /// state file, so the kernel releases it when its holder exits, however it exits: a crash
  /// never leaves a lock that blocks later logins. The state file is created here, at its full
  /// size, the first time the user is locked.
  public func lock(_ user: UserName, timeoutMilliseconds: Int = Store.defaultLockTimeout) throws(StoreError) -> UserLock
  {
    let statePath = self.statePath(user)
    let (file, st) = try openChecked(user.stateFileName, path: statePath, flags: O_RDWR | O_CREAT)
    let locked: Bool
    do { locked = try waitForLock(on: file, milliseconds: timeoutMilliseconds) } catch {
      throw .system(path: statePath, error)
    }
    guard locked else {
      throw .lockTimedOut(path: statePath, milliseconds: timeoutMilliseconds, holder: LockHolder.describe(st))
    }
    var size: off_t
    do throws(SystemError) {
      size = try file.status().st_size
      if size < StateFile.size {
        // New (or cut short by a crash while it was being created): allocate its blocks, so
        // that writing a slot never needs a new one (logins keep working on a full disk), and
        // make its directory entry durable before any state is trusted to it. The last byte
        // is added only after the directory sync, so a full size means a durable entry: a
        // creator that crashed before the sync leaves the file short, and the next lock syncs.
        try file.allocate(size: StateFile.size - 1)
        try file.sync()
        try directory.sync()
        try file.allocate(size: StateFile.size)
        size = off_t(StateFile.size)
      }
    } catch {
      throw .system(path: statePath, error)
    }
    return UserLock(user: user, file: file, slots: try slots(in: file, size: size, path: statePath))
  }

  /// Tries `flock(LOCK_EX | LOCK_NB)` until it succeeds or `milliseconds` have passed,
  /// pausing 1 ms after the first refusal and twice as long after each next one, up to 20 ms.
  /// The time is the monotonic clock's, and the pauses are counted too, so that the wait ends
  /// even if that clock stands still. `false` when the time ran out.
  private func waitForLock(on file: FileDescriptor, milliseconds: Int) throws(SystemError) -> Bool {
    let allowed = UInt64(max(0, milliseconds)) &* 1_000_000
    let deadline = MonotonicClock.now() &+ allowed
    var slept: UInt64 = 0
    var pause: UInt64 = 1_000_000
    while true {
      if try file.tryLockExclusively() { return true }
      let now = MonotonicClock.now()
      guard now < deadline, slept < allowed else { return false }
      let step = min(pause, deadline - now, allowed - slept)
      MonotonicClock.sleep(nanoseconds: step)
      slept += step
      pause = min(pause * 2, 20_000_000)
    }
  }

  /// Replaces `user`'s record with `record`, atomically and durably: write a temporary file,
  /// `fsync` it, `rename` it over the record, `fsync` the directory. The record is given a new
  /// `stateID`, so the state saved for the record it replaces no longer applies: `record`'s own
  /// fields are the state from now on. A record that replaces one with the same secret and
  /// parameters (an enrollment forced with the same secret, an import of the same file) keeps
  /// the higher replay watermark and HOTP counter of the two, so that no code used before
  /// works again.
  public func write(_ record: UserRecord, holding lock: UserLock) throws(StoreError) {
    var record = record
    // A record that is missing, malformed or unsafe has no watermark to keep.
    if let current = try? read(lock.user, holding: lock) { record.keepReplayWatermark(of: current) }
    try replace(with: record, holding: lock)
  }

  /// The atomic, durable replacement `write` describes, of a record whose watermark has been
  /// settled already.
  private func replace(with record: UserRecord, holding lock: UserLock) throws(StoreError) {
    let user = lock.user
    let temporary = user.temporaryFileName
    let temporaryPath = path + "/" + LogText.escape(temporary)
    var record = record
    guard let id = SystemRandom.bytes(count: 8) else {
      throw .system(path: temporaryPath, SystemError("getrandom", code: EIO))
    }
    record.stateID = id.reduce(0) { $0 << 8 | UInt64($1) }
    var sealed: [UInt8]?
    var sealedQR: [UInt8]?
    if let hostKey, record.parameters.kind != .delivered {
      sealed = hostKey.seal(record.secret, for: user)
      guard sealed != nil else { throw .system(path: temporaryPath, SystemError("sealing the secret", code: EIO)) }
      if let invitation = record.invitation {
        // The QR code spells the secret: it is sealed as the secret is.
        sealedQR = hostKey.seal(SecretBytes(invitation.qr.encoded), for: user)
        guard sealedQR != nil else {
          throw .system(path: temporaryPath, SystemError("sealing the invitation", code: EIO))
        }
      }
    }
    let text = RecordFormat.serialize(record, sealedSecret: sealed, sealedInviteQR: sealedQR)
    do throws(SystemError) {
      try directory.remove(temporary)
      let file = try FileDescriptor.open(temporary, in: directory.raw, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)
      try file.giveToRoot()
      try file.setMode(0o600)
      try file.writeAll(text)
      try file.sync()
      try directory.rename(temporary, to: user.recordFileName)
      try directory.sync()
    } catch {
      // The first failure is the one to report; a temporary file left behind is removed by the
      // next write.
      _ = try? directory.remove(temporary)
      throw .system(path: temporaryPath, error)
    }
  }

  /// Stores `updated`, which was made from `previous` (read under `lock`), the cheapest safe
  /// way: nothing when nothing changed; only the state file when only the per-login state
  /// changed (one small write and one `fdatasync`); the whole record otherwise (a used backup
  /// code, an administrator's change), and also when the state file's sequence numbers are
  /// used up, after which its slots are cleared.
  /// `previous` is the record on disk, so it is the one whose watermark a new record keeps
  /// (see `write`), without reading it again.
  public func save(_ updated: UserRecord, over previous: UserRecord, holding lock: UserLock) throws(StoreError) {
    guard updated.hasSameEnrollment(as: previous) else {
      var record = updated
      record.keepReplayWatermark(of: previous)
      return try replace(with: record, holding: lock)
    }
    if updated.state == previous.state { return }
    guard let (index, sequence) = StateFile.next(after: lock.slots) else {
      // Only a forged slot gets here (2^62 logins never happen). Carrying on would write slots
      // that are never read, and the state would stop advancing; instead the record takes the
      // state, and the slots, no longer its own, are cleared so that numbering starts again.
      try replace(with: updated, holding: lock)
      return try clearSlots(holding: lock)
    }
    let slot = StateSlot(of: updated, sequence: sequence)
    do throws(SystemError) {
      try lock.file.writeBytes(slot.encoded(), at: StateFile.slotOffsets[index])
      try lock.file.syncData()
    } catch {
      throw .system(path: statePath(lock.user), error)
    }
    lock.slots[index] = slot
  }

  /// Overwrites both slots of the locked user's state file with zeros, durably.
  private func clearSlots(holding lock: UserLock) throws(StoreError) {
    do throws(SystemError) {
      for offset in StateFile.slotOffsets {
        try lock.file.writeBytes([UInt8](repeating: 0, count: StateSlot.sizeWithSentCode), at: offset)
      }
      try lock.file.syncData()
    } catch {
      throw .system(path: statePath(lock.user), error)
    }
    lock.slots = lock.slots.map { _ in nil }
  }

  /// Deletes `user`'s record, durably. Deleting a record that does not exist is not an error.
  public func remove(holding lock: UserLock) throws(StoreError) {
    let user = lock.user
    do { try directory.remove(user.recordFileName) } catch { throw .system(path: recordPath(user), error) }
    do { try directory.sync() } catch { throw .system(path: path, error) }
  }

  /// The path of `user`'s record, for messages.
  public func recordPath(_ user: UserName) -> String {
    path + "/" + user.description
  }

  /// The path of `user`'s state file, for messages.
  public func statePath(_ user: UserName) -> String {
    path + "/" + LogText.escape(user.stateFileName)
  }

  /// Opens a state file, which must pass `checkOwnership` except for its group, and returns it
  /// with its status (a missing file is a `.system` error with `ENOENT`). A state file whose
  /// group is not root's (created through sudo, whose group is the user's, by a version that did
  /// not set it) gives no one access at mode `0600`; opened for writing, it is given to root's
  /// group, and `lockstep check` reports it until then.
  private func openChecked(_ name: [UInt8], path: String, flags: Int32) throws(StoreError) -> (FileDescriptor, stat) {
    let file: FileDescriptor
    var st: stat
    do {
      // O_NONBLOCK: opening a FIFO planted in the store must not hang the login.
      file = try FileDescriptor.open(name, in: directory.raw, flags: flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
      st = try file.status()
    } catch {
      if error.code == ELOOP { throw .unsafeRecord(path: path, reason: "it is a symbolic link") }
      throw .system(path: path, error)
    }
    try checkOwnership(st, path: path, group: false)
    if flags & O_ACCMODE != O_RDONLY && st.st_gid != 0 {
      do { try file.giveToRoot() } catch { throw .system(path: path, error) }
      st.st_gid = 0
    }
    return (file, st)
  }

  /// The two slots of a state file `size` bytes long (`nil` for one that is empty, torn,
  /// invalid, or beyond the end of a file not yet given its full size). A file longer than
  /// `StateFile.size` is not one the store wrote.
  private func slots(in file: FileDescriptor, size: off_t, path: String) throws(StoreError) -> [StateSlot?] {
    guard size <= StateFile.size else {
      throw .unsafeRecord(path: path, reason: "it is \(size) bytes long, more than \(StateFile.size)")
    }
    do throws(SystemError) {
      return try StateFile.slotOffsets.map { offset throws(SystemError) in
        try file.readBytes(count: StateSlot.sizeWithSentCode, at: offset).withUnsafeBytes { StateSlot(decoding: $0) }
      }
    } catch {
      throw .system(path: path, error)
    }
  }
}

/// An exclusive hold on one user's record, released when this object dies (or the process does).
public final class UserLock {
  /// Whose record is locked.
  public let user: UserName
  /// The user's state file, which the lock is held on.
  let file: FileDescriptor
  /// The state file's slots, read when the lock was taken and kept up to date by the store's
  /// writes: while the lock is held, no one else writes them.
  var slots: [StateSlot?]

  init(user: UserName, file: FileDescriptor, slots: [StateSlot?]) {
    self.user = user
    self.file = file
    self.slots = slots
  }
}

/// The permission bits of `mode` in octal, as `ls` users read them.
func octal(_ mode: mode_t) -> String {
  "0" + String(mode & 0o7777, radix: 8)
}
