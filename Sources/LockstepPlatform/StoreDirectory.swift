internal import CLockstepSystem
public import LockstepCore

extension Store {
  /// Creates the store directory at `path` if it does not exist yet: owned by root's user and
  /// group, with mode `0700`. The parent directory must exist. An existing directory
  /// is left as it is; opening it with `Store(path:)` afterwards checks it.
  public static func createDirectory(path: String) throws(StoreError) {
    do {
      guard try FileDescriptor.makeDirectory(Array(path.utf8), mode: 0o700) else { return }
    } catch {
      throw .unusableDirectory(path: path, reason: error.description)
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
      guard let st = try? directory.status(of: name) else { return nil }
      return st.st_gid != 0 ? (path, st.st_gid) : nil
    }
  }

  /// Removes the locked user's state file if the user has no record, durably; returns whether
  /// it did. A process already waiting for the lock then holds it on the removed file, which is
  /// harmless for a user without a record: a login does not take the lock for one, and a
  /// command that enrolls the user writes a new record whatever state file it locked.
  public func removeStateFile(holding lock: UserLock) throws(StoreError) -> Bool {
    guard try enrollment(lock.user) == nil else { return false }
    do { try directory.remove(lock.user.stateFileName) } catch {
      throw .system(path: statePath(lock.user), error)
    }
    do { try directory.sync() } catch { throw .system(path: path, error) }
    return true
  }

  /// Every entry of the store directory but `.` and `..`, as bytes.
  private func entryNames() throws(StoreError) -> [[UInt8]] {
    do { return try directory.entryNames() } catch { throw .system(path: path, error) }
  }
}
