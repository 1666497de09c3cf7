internal import CLockstepSystem
public import LockstepCore

/// Files that only root may have written and only root may read, outside the store: the
/// agent's configuration and the fleet key. One check for them and for the store's records.
public enum RootOnlyFile {
  /// The whole of the file at `path` (an absolute path; its last component must not be a
  /// link), at most `limit` bytes, after checking that root owns it and no one else can read
  /// or change it.
  public static func read(_ path: String, limit: Int) throws(StoreError) -> SecretBytes {
    let file: FileDescriptor
    let st: stat
    do {
      file = try FileDescriptor.open(Array(path.utf8), flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
      st = try file.status()
    } catch {
      if error.code == ELOOP { throw .unsafeRecord(path: path, reason: "it is a symbolic link") }
      throw .system(path: path, error)
    }
    try checkOwnership(st, path: path, group: false)
    guard st.st_size <= limit else {
      throw .unsafeRecord(path: path, reason: "it is \(st.st_size) bytes long, more than \(limit)")
    }
    do {
      return try file.readAll(count: Int(st.st_size))
    } catch {
      throw .system(path: path, error)
    }
  }
}

/// Refuses a file that someone other than root could have planted or changed, or that is not
/// root's alone: not a regular file, not owned by root, accessible by group or others, with
/// another hard link, or (when `group` is set) with a group other than root's.
func checkOwnership(_ st: stat, path: String, group: Bool = true) throws(StoreError) {
  if fileType(st.st_mode) != mode_t(S_IFREG) { throw .unsafeRecord(path: path, reason: "it is not a regular file") }
  if st.st_uid != 0 { throw .unsafeRecord(path: path, reason: "it is not owned by root (uid \(st.st_uid))") }
  if group && st.st_gid != 0 {
    throw .unsafeRecord(path: path, reason: "its group is not root's (gid \(st.st_gid))")
  }
  if st.st_mode & 0o077 != 0 {
    throw .unsafeRecord(path: path, reason: "it is accessible by group or others (mode \(octal(st.st_mode)))")
  }
  if st.st_nlink != 1 { throw .unsafeRecord(path: path, reason: "it has \(st.st_nlink) hard links") }
}
