public import LockstepCore

#if canImport(Glibc)
  import Glibc
#endif

/// The directory of user records, opened once and trusted only after its checks pass.
///
/// Every file is opened relative to the directory's descriptor with `O_NOFOLLOW`, so nothing
/// in the store can redirect a read or write elsewhere. A record is trusted only if it is a
/// regular file, owned by root, not accessible by group or others, and has no other hard link.
/// Writes go to a temporary file that is synced and renamed over the record, and the directory
/// is synced after, so a crash leaves the old record or the new one, never a torn one.
public final class Store {
  /// The directory's path, for messages.
  public let path: String
  private let directory: FileDescriptor

  /// Opens and checks the store directory: it must be a directory owned by root that no one
  /// else can write to.
  public init(path: String) throws(StoreError) {
    self.path = path
    do {
      directory = try FileDescriptor.open(Array(path.utf8), flags: O_RDONLY | O_DIRECTORY)
    } catch {
      throw .unusableDirectory(path: path, reason: error.description)
    }
    let st: stat
    do { st = try directory.status() } catch { throw .unusableDirectory(path: path, reason: error.description) }
    if st.st_uid != 0 { throw .unusableDirectory(path: path, reason: "it is not owned by root") }
    if st.st_mode & 0o022 != 0 {
      throw .unusableDirectory(path: path, reason: "it is writable by group or others (mode \(octal(st.st_mode)))")
    }
  }

  /// Reads `user`'s record; `nil` when the user has none.
  public func read(_ user: UserName) throws(StoreError) -> UserRecord? {
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
    let st: stat
    do { st = try file.status() } catch { throw .system(path: recordPath, error) }
    try checkOwnership(st, path: recordPath)
    guard st.st_size <= RecordFormat.maximumSize else {
      throw .unsafeRecord(path: recordPath, reason: "it is larger than \(RecordFormat.maximumSize) bytes")
    }
    let text: SecretBytes
    do { text = try file.readAll(count: Int(st.st_size)) } catch { throw .system(path: recordPath, error) }
    do {
      return try text.withUnsafeBytes { bytes throws(LineError) in try RecordFormat.parse(bytes) }
    } catch {
      throw .malformedRecord(path: recordPath, error)
    }
  }

  /// Takes `user`'s exclusive lock, waiting while another process holds it. The lock is an
  /// `flock(2)` on a lock file beside the record, so the kernel releases it when its holder
  /// exits, however it exits: a crash never leaves a lock that blocks later logins.
  public func lock(_ user: UserName) throws(StoreError) -> UserLock {
    let lockPath = path + "/" + String(decoding: user.lockFileName, as: UTF8.self)
    let file: FileDescriptor
    do {
      file = try FileDescriptor.open(
        user.lockFileName, in: directory.raw, flags: O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
    } catch {
      if error.code == ELOOP { throw .unsafeRecord(path: lockPath, reason: "it is a symbolic link") }
      throw .system(path: lockPath, error)
    }
    do {
      try checkOwnership(try file.status(), path: lockPath)
      try file.lockExclusively()
    } catch let error as StoreError {
      throw error
    } catch let error as SystemError {
      throw .system(path: lockPath, error)
    } catch {
      throw .system(path: lockPath, SystemError("flock", code: EIO))
    }
    return UserLock(user: user, file: file)
  }

  /// Replaces `user`'s record with `record`, atomically and durably: write a temporary file,
  /// `fsync` it, `rename` it over the record, `fsync` the directory.
  public func write(_ record: UserRecord, holding lock: UserLock) throws(StoreError) {
    let user = lock.user
    let temporary = user.temporaryFileName
    let temporaryPath = path + "/" + String(decoding: temporary, as: UTF8.self)
    let text = RecordFormat.serialize(record)
    do throws(SystemError) {
      _ = withCString(temporary) { unlinkat(directory.raw, $0, 0) }
      let file = try FileDescriptor.open(temporary, in: directory.raw, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)
      try file.setMode(0o600)
      try file.writeAll(text)
      try file.sync()
      let renamed = withCString(temporary) { from in
        withCString(user.recordFileName) { to in renameat(directory.raw, from, directory.raw, to) }
      }
      guard renamed == 0 else { throw SystemError("renameat") }
      try directory.sync()
    } catch {
      _ = withCString(temporary) { unlinkat(directory.raw, $0, 0) }
      throw .system(path: temporaryPath, error)
    }
  }

  /// Deletes `user`'s record, durably. Deleting a record that does not exist is not an error.
  public func remove(holding lock: UserLock) throws(StoreError) {
    let user = lock.user
    let failure: Int32 = withCString(user.recordFileName) { unlinkat(directory.raw, $0, 0) == 0 ? 0 : errno }
    if failure != 0 && failure != ENOENT {
      throw .system(path: recordPath(user), SystemError("unlinkat", code: failure))
    }
    do { try directory.sync() } catch { throw .system(path: path, error) }
  }

  /// The path of `user`'s record, for messages.
  public func recordPath(_ user: UserName) -> String {
    path + "/" + user.description
  }

  private func checkOwnership(_ st: stat, path: String) throws(StoreError) {
    if st.st_mode & S_IFMT != S_IFREG { throw .unsafeRecord(path: path, reason: "it is not a regular file") }
    if st.st_uid != 0 { throw .unsafeRecord(path: path, reason: "it is not owned by root (uid \(st.st_uid))") }
    if st.st_mode & 0o077 != 0 {
      throw .unsafeRecord(path: path, reason: "it is accessible by group or others (mode \(octal(st.st_mode)))")
    }
    if st.st_nlink != 1 { throw .unsafeRecord(path: path, reason: "it has \(st.st_nlink) hard links") }
  }
}

/// An exclusive hold on one user's record, released when this object dies (or the process does).
public final class UserLock {
  /// Whose record is locked.
  public let user: UserName
  private let file: FileDescriptor

  init(user: UserName, file: FileDescriptor) {
    self.user = user
    self.file = file
  }
}

/// The permission bits of `mode` in octal, as `ls` users read them.
func octal(_ mode: mode_t) -> String {
  "0" + String(mode & 0o7777, radix: 8)
}
