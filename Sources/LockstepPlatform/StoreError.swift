public import LockstepCore

/// Why the store could not be used. Every case reads as one sentence for the log and the CLI,
/// and none of them quotes a secret.
public enum StoreError: Error, CustomStringConvertible {
  /// The store directory is missing, not a directory, or not safe to trust.
  case unusableDirectory(path: String, reason: String)
  /// A user's record (or lock file) exists but is not safe to trust.
  case unsafeRecord(path: String, reason: String)
  /// A user's record could not be parsed.
  case malformedRecord(path: String, LineError)
  /// A system call failed while reading or writing.
  case system(path: String, SystemError)
  /// Another process held the user's lock for longer than the wait allowed; `holder` says
  /// which, when `/proc/locks` tells.
  case lockTimedOut(path: String, milliseconds: Int, holder: String?)

  public var description: String {
    switch self {
    case .unusableDirectory(let path, let reason): return "store \(path) is unusable: \(reason)"
    case .unsafeRecord(let path, let reason): return "refusing \(path): \(reason)"
    case .malformedRecord(let path, let error): return "record \(path) is invalid: \(error)"
    case .system(let path, let error): return "\(path): \(error)"
    case .lockTimedOut(let path, let milliseconds, let holder):
      let seconds = milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
      return "\(path) is locked by \(holder ?? "another process") and was not released within \(seconds)"
    }
  }
}
