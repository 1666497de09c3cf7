internal import CLockstepSystem

/// A failed system call: its name and the `errno` it left, captured immediately after the call.
public struct SystemError: Error, Equatable, CustomStringConvertible {
  /// The C function that failed, e.g. `openat`.
  public let call: String
  /// The `errno` value.
  public let code: Int32

  /// Captures the current `errno` for `call`.
  public init(_ call: String) {
    self.init(call, code: errno)
  }

  /// The failure of `call` with `code`, for calls that return their error (`posix_fallocate`,
  /// `getpwnam_r`) and for failures found without a call.
  public init(_ call: String, code: Int32) {
    self.call = call
    self.code = code
  }

  public var description: String {
    "\(call): \(String(cString: strerror(code)))"
  }
}
