public import LockstepCore

#if canImport(Glibc)
  import Glibc
#endif

extension Store {
  /// Creates the store directory at `path` if it does not exist yet: owned by the caller (root,
  /// for a real store) with mode `0700`. The parent directory must exist. An existing directory
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
    var names: [UserName] = []
    while true {
      errno = 0
      guard let entry = readdir(stream) else {
        if errno != 0 { throw .system(path: path, SystemError("readdir")) }
        break
      }
      let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        Array(raw.prefix { $0 != 0 })
      }
      if let name = UserName(bytes: bytes) { names.append(name) }
    }
    return names.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
  }
}
