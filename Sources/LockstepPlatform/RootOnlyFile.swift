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

extension RootOnlyFile {
  /// Creates the file at `path` (an absolute path), root's alone and read-only (`0400`, as a
  /// key's file should be), holding
  /// `contents`, and its directory (root's, `0700`) if that is missing; `false`, and nothing
  /// written, when a file is there already. The contents are written to a file of their own,
  /// synced, and linked into place, so that a crash never leaves a short file and two callers
  /// at once never replace each other's (a key made twice would strand what the first sealed).
  public static func create(_ path: String, contents: SecretBytes) throws(StoreError) -> Bool {
    guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/"), path.index(after: slash) != path.endIndex else {
      throw .unsafeRecord(path: path, reason: "it is not an absolute file path")
    }
    let directoryPath = slash == path.startIndex ? "/" : String(path[..<slash])
    let name = Array(path[path.index(after: slash)...].utf8)
    let temporary = Array(".".utf8) + name + Array(".new".utf8)
    do throws(SystemError) {
      _ = try FileDescriptor.makeDirectory(Array(directoryPath.utf8), mode: 0o700)
      let directory = try FileDescriptor.open(Array(directoryPath.utf8), flags: O_RDONLY | O_DIRECTORY)
      _ = try directory.remove(temporary)
      let file = try FileDescriptor.open(temporary, in: directory.raw, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)
      defer { _ = try? directory.remove(temporary) }
      try file.giveToRoot()
      try file.setMode(0o400)
      try file.writeAll(contents)
      try file.sync()
      guard try directory.link(temporary, as: name) else { return false }
      _ = try directory.remove(temporary)
      try directory.sync()
      return true
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
