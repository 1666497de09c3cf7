#if canImport(Glibc)
  import Glibc
#endif

/// A failed system call: its name and the `errno` it left, captured immediately after the call.
public struct SystemError: Error, Equatable, CustomStringConvertible {
  /// The C function that failed, e.g. `openat`.
  public let call: String
  /// The `errno` value.
  public let code: Int32

  /// Captures the current `errno` for `call`.
  public init(_ call: String, code: Int32 = errno) {
    self.call = call
    self.code = code
  }

  public var description: String {
    "\(call): \(String(cString: strerror(code)))"
  }
}
