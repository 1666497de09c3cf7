/// Why a text file could not be read — a user record, or a file from another one-time-password
/// system being imported: the line (counted from 1, 0 for the file as a whole) and one
/// sentence that says what is wrong without quoting any secret.
public struct LineError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The line the problem is on, counted from 1; 0 when it concerns the whole file.
  public var line: Int
  /// One sentence saying what is wrong; it never contains key material.
  public var reason: String

  /// An error at `line` (0 for the whole file) with a one-sentence `reason`.
  public init(line: Int, _ reason: String) {
    self.line = line
    self.reason = reason
  }

  /// The reason, prefixed with the line number when there is one.
  public var description: String {
    line > 0 ? "line \(line): \(reason)" : reason
  }
}
