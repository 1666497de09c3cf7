import LockstepCore

/// One line of a text file: its number (from 1) and its bytes without the line ending.
struct TextLine {
  /// The line number, counted from 1.
  var number: Int
  /// The line's bytes, without `\n` or a `\r\n` ending.
  var bytes: ArraySlice<UInt8>
}

/// Helpers for the line-oriented configuration formats the importers and auditors read.
enum TextLines {
  /// Splits `bytes` at `\n`, dropping a `\r` before it; a final line without a newline is kept,
  /// an empty one after the last newline is not.
  static func split(_ bytes: [UInt8]) -> [TextLine] {
    var lines: [TextLine] = []
    var start = bytes.startIndex
    var number = 1
    var index = bytes.startIndex
    while index < bytes.endIndex {
      if bytes[index] == UInt8(ascii: "\n") {
        lines.append(TextLine(number: number, bytes: trimCarriageReturn(bytes[start..<index])))
        number += 1
        start = index + 1
      }
      index += 1
    }
    if start < bytes.endIndex {
      lines.append(TextLine(number: number, bytes: trimCarriageReturn(bytes[start..<bytes.endIndex])))
    }
    return lines
  }

  /// Whether `byte` is a space, tab, carriage return, vertical tab or form feed.
  static func isBlank(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0b || byte == 0x0c
  }

  /// `bytes` without leading and trailing blanks.
  static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var slice = bytes
    while let first = slice.first, isBlank(first) { slice = slice.dropFirst() }
    while let last = slice.last, isBlank(last) { slice = slice.dropLast() }
    return slice
  }

  /// The blank-separated fields of `bytes`.
  static func fields(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
    bytes.split(whereSeparator: isBlank)
  }

  /// `bytes` as text that is safe to show (escaped and cut by `LogText`).
  static func printable(_ bytes: ArraySlice<UInt8>) -> String {
    LogText.escape(bytes.prefix(64))
  }

  /// Whether `bytes` is non-empty and only ASCII decimal digits.
  static func isDigits(_ bytes: ArraySlice<UInt8>) -> Bool {
    !bytes.isEmpty && bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
  }

  /// Parses a non-negative decimal number of at most 18 digits, so it always fits an `Int64`.
  static func number(_ bytes: ArraySlice<UInt8>) -> Int64? {
    guard isDigits(bytes), bytes.count <= 18 else { return nil }
    var value: Int64 = 0
    for byte in bytes { value = value * 10 + Int64(byte - UInt8(ascii: "0")) }
    return value
  }

  private static func trimCarriageReturn(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    line.last == UInt8(ascii: "\r") ? line.dropLast() : line
  }
}
