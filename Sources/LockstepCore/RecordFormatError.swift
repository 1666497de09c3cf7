/// Why a record's text could not be read: the line (counted from 1, 0 for the record as a
/// whole) and one sentence that says what is wrong without quoting any secret.
public struct RecordFormatError: Error, Equatable, CustomStringConvertible {
  public var line: Int
  public var reason: String

  public init(line: Int, _ reason: String) {
    self.line = line
    self.reason = reason
  }

  public var description: String {
    line > 0 ? "line \(line): \(reason)" : reason
  }
}
