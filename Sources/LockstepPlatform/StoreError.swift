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

  public var description: String {
    switch self {
    case .unusableDirectory(let path, let reason): return "store \(path) is unusable: \(reason)"
    case .unsafeRecord(let path, let reason): return "refusing \(path): \(reason)"
    case .malformedRecord(let path, let error): return "record \(path) is invalid: \(error)"
    case .system(let path, let error): return "\(path): \(error)"
    }
  }
}
