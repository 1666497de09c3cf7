public import LockstepCore

#if canImport(Glibc)
  import Glibc
#endif

extension Store {
  /// Creates the store directory at `path` if it does not exist yet: owned by root's user and
  /// group, with mode `0700`. The parent directory must exist. An existing directory
  /// is left as it is; opening it with `Store(path:)` afterwards checks it.
  public static func createDirectory(path: String) throws(StoreError) {
    let made = withCString(Array(path.utf8)) { mkdir($0, 0o700) }
    if made != 0 {
      let failure = errno
      if failure == EEXIST { return }
      throw .unusableDirectory(path: path, reason: SystemError("mkdir", code: failure).description)
    }
    // mkdir(2) applies the umask; set the mode the store needs explicitly.
    let directory: FileDescriptor
    do {
      directory = try FileDescriptor.open(Array(path.utf8), flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
      try directory.giveToRoot()
      try directory.setMode(0o700)
    } catch {
      throw .unusableDirectory(path: path, reason: error.description)
    }
  }

  /// The names of the users that have a record in the store, sorted by their bytes.
  ///
  /// Every entry whose name can be a user name is listed, whatever kind of file it is, so that
  /// a planted directory or symbolic link shows up when its record is read (and refused) rather
  /// than being skipped silently. The store's own files (locks and temporary files) start with
  /// `.` and are never listed.
  public func userNames() throws(StoreError) -> [UserName] {
    try entryNames().compactMap { UserName(bytes: $0) }.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
  }

  /// The users that have a state file but no record, sorted by their bytes: `lockstep revoke`
  /// leaves the state file, since it is the file the user's lock is taken on.
  public func usersWithStateFileOnly() throws(StoreError) -> [UserName] {
    let entries = Set(try entryNames())
    let prefix = UInt8(ascii: "."), suffix = Array(".state".utf8)
    return entries.compactMap { entry -> UserName? in
      guard entry.first == prefix, entry.count > suffix.count + 1, entry.suffix(suffix.count).elementsEqual(suffix),
        let name = UserName(bytes: entry.dropFirst().dropLast(suffix.count)), !entries.contains(name.recordFileName)
      else { return nil }
      return name
    }.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
  }

  /// `user`'s files (the record, then the state file) that exist and whose group is not root's,
  /// each with its path (for messages) and group. The module refuses such a record; a state file
  /// is given to root's group the next time the user's lock is taken.
  public func filesNotInRootGroup(_ user: UserName) -> [(path: String, group: UInt32)] {
    [(user.recordFileName, recordPath(user)), (user.stateFileName, statePath(user))].compactMap { name, path in
      var st = stat()
      let found = withCString(name) { fstatat(directoryDescriptor, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0
      return found && st.st_gid != 0 ? (path, st.st_gid) : nil
    }
  }

  /// Removes the locked user's state file if the user has no record, durably; returns whether
  /// it did. A process already waiting for the lock then holds it on the removed file, which is
  /// harmless for a user without a record: a login does not take the lock for one, and a
  /// command that enrolls the user writes a new record whatever state file it locked.
  public func removeStateFile(holding lock: UserLock) throws(StoreError) -> Bool {
    guard try enrollment(lock.user) == nil else { return false }
    let failure: Int32 = withCString(lock.user.stateFileName) { unlinkat(directoryDescriptor, $0, 0) == 0 ? 0 : errno }
    if failure != 0 && failure != ENOENT {
      throw .system(path: statePath(lock.user), SystemError("unlinkat", code: failure))
    }
    guard retrying({ fsync(directoryDescriptor) }) == 0 else { throw .system(path: path, SystemError("fsync")) }
    return true
  }

  /// Every entry of the store directory but `.` and `..`, as bytes.
  private func entryNames() throws(StoreError) -> [[UInt8]] {
    // A stream on a duplicate of the checked descriptor, not a second open of the path.
    let copy = fcntl(directoryDescriptor, F_DUPFD_CLOEXEC, 0)
    guard copy >= 0 else { throw .system(path: path, SystemError("fcntl")) }
    guard let stream = fdopendir(copy) else {
      let failure = SystemError("fdopendir")
      close(copy)
      throw .system(path: path, failure)
    }
    rewinddir(stream)
    defer { closedir(stream) }
    var names: [[UInt8]] = []
    while true {
      errno = 0
      guard let entry = readdir(stream) else {
        if errno != 0 { throw .system(path: path, SystemError("readdir")) }
        break
      }
      let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        Array(raw.prefix { $0 != 0 })
      }
      if bytes != [UInt8(ascii: ".")] && bytes != [UInt8(ascii: "."), UInt8(ascii: ".")] { names.append(bytes) }
    }
    return names
  }
}
