#if canImport(Glibc)
  import Glibc
#endif

/// The accounts of the system's user database, for commands that act on every user.
enum Accounts {
  /// One account: its name, user and group ids, and home directory.
  struct Account {
    var name: String
    var uid: uid_t
    var gid: gid_t
    var home: String
  }

  /// Every account `getpwent(3)` lists (local files and whatever else NSS enumerates).
  static func all() -> [Account] {
    var accounts: [Account] = []
    setpwent()
    defer { endpwent() }
    while let entry = getpwent() {
      guard let name = String(validatingCString: entry.pointee.pw_name),
        let home = entry.pointee.pw_dir.flatMap({ String(validatingCString: $0) }), home.hasPrefix("/")
      else { continue }
      accounts.append(Account(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, home: home))
    }
    return accounts
  }

  /// The members of `group`: those `getgrnam(3)` lists, and the accounts whose primary group
  /// it is, in that order, each once; `nil` when there is no such group.
  static func members(of group: String) -> [String]? {
    guard let entry = getgrnam(group) else { return nil }
    let gid = entry.pointee.gr_gid
    var names: [String] = []
    if var member = entry.pointee.gr_mem {
      while let name = member.pointee {
        if let text = String(validatingCString: name) { names.append(text) }
        member += 1
      }
    }
    for account in all() where account.gid == gid && !names.contains(account.name) { names.append(account.name) }
    return names
  }

  /// Whether a file in a user's home can be taken as that user's.
  enum Ownership {
    /// There is no such file.
    case absent
    /// A regular file owned by the user.
    case owned
    /// Something else, which is not taken: why, as the end of a sentence about the file.
    case problem(String)
  }

  /// Whether `path` is a regular file owned by `uid`, not a symbolic link: a user must not be
  /// able to make root import someone else's file as theirs.
  static func ownFile(_ path: String, uid: uid_t) -> Ownership {
    var st = stat()
    guard lstat(path, &st) == 0 else {
      return errno == ENOENT || errno == ENOTDIR
        ? .absent : .problem("cannot be examined: \(String(cString: strerror(errno)))")
    }
    if st.st_mode & S_IFMT == S_IFLNK { return .problem("is a symbolic link") }
    if st.st_mode & S_IFMT != S_IFREG { return .problem("is not a regular file") }
    if st.st_uid != uid { return .problem("is owned by uid \(st.st_uid), not by the account whose home holds it") }
    return .owned
  }
}
