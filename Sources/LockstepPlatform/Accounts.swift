internal import CLockstepSystem
public import LockstepCore

/// What the system's user database (NSS: `/etc/passwd`, SSSD, LDAP, winbind…) says of a name.
public enum AccountName: Equatable {
  /// The name is an account's own name (`pw_name`).
  case canonical
  /// The name resolves to an account whose own name is another: a case-insensitive directory
  /// (`ALICE` for `alice`), a `user@domain` form, an alias. The account's name is given.
  case alias(of: UserName)
  /// No account has this name.
  case unknown
  /// The lookup failed (an unreachable directory, a resource limit); nothing can be said.
  case lookupFailed(SystemError)
}

/// Looks names up with `getpwnam_r(3)`, the way sshd, su and login resolve the name they are
/// given.
public enum Accounts {
  /// What the user database says of `name`. An account whose own name the store could not use
  /// (a `/` in it, say) is reported as a failed lookup, never as the name itself.
  public static func resolve(_ name: UserName) -> AccountName {
    var size = 4096
    while true {
      var entry = passwd()
      var found: UnsafeMutablePointer<passwd>?
      var buffer = [CChar](repeating: 0, count: size)
      let failure = withCString(name.bytes) { getpwnam_r($0, &entry, &buffer, buffer.count, &found) }
      if failure == ERANGE && size < 1 << 20 {
        size *= 4
        continue
      }
      // Not found is 0 (or, from some NSS modules, ENOENT, ESRCH, EBADF or EPERM) with no entry.
      if found == nil && [0, ENOENT, ESRCH, EBADF, EPERM].contains(failure) { return .unknown }
      guard failure == 0, let found, let own = found.pointee.pw_name else {
        return .lookupFailed(SystemError("getpwnam_r", code: failure == 0 ? EIO : failure))
      }
      let accountName = bytes(ofCString: own)
      if accountName == name.bytes { return .canonical }
      guard let canonical = UserName(bytes: accountName) else {
        return .lookupFailed(SystemError("getpwnam_r", code: EINVAL))
      }
      return .alias(of: canonical)
    }
  }
}
