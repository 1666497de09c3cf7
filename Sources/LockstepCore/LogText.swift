/// Makes untrusted bytes (user names, module arguments, remote host names) safe to put in a
/// log line.
///
/// - Input longer than `maximumLength` bytes is cut (at a character boundary) and marked with
///   `\...`. A backslash in the input is always written `\x5c`, so a backslash followed by
///   anything but `x` is never the input's own: a cut cannot be forged.
/// - Control characters (C0, DEL, C1), backslashes, line and paragraph separators,
///   bidirectional controls, and invisible format characters (zero-width spaces and joiners,
///   the byte-order mark, soft hyphens, fillers, variation selectors, tags) are escaped as
///   `\xNN` per byte, so that nothing in a line is hidden from a reader.
/// - If the text is not valid UTF-8, every byte above 0x7f is escaped too.
///
/// `field(_:)` also escapes what delimits the `key=value` fields of a log line, for values that
/// come from outside (see `escape(_:)` for text inside a message).
public enum LogText {
  /// The most bytes of input shown before the text is cut: enough for any user name the store
  /// accepts (`UserName.maximumLength`) and any DNS host name.
  public static let maximumLength = 256

  /// The escaped form of `bytes`, for text inside a message.
  public static func escape<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    escaped(bytes, delimiters: false)
  }

  /// The escaped form of `bytes` as the value of a `key=value` field: spaces, `=`, `;`, `"`
  /// and `'` are escaped as well, so that a value can never end its field early or add one
  /// (`user=root rhost=203.0.113.66` as a user name becomes one field,
  /// `user=root\x20rhost\x3d203.0.113.66`).
  public static func field<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    escaped(bytes, delimiters: true)
  }

  private static func escaped<C: Collection>(_ bytes: C, delimiters: Bool) -> String where C.Element == UInt8 {
    var shown = Array(bytes.prefix(maximumLength))
    let cut = bytes.count > maximumLength
    // Do not let the cut split a multi-byte character and make valid text look invalid.
    if cut, String(validating: shown, as: UTF8.self) == nil {
      for trim in 1...3 where shown.count > trim {
        if String(validating: shown.dropLast(trim), as: UTF8.self) != nil {
          shown.removeLast(trim)
          break
        }
      }
    }
    var out: [UInt8] = []
    out.reserveCapacity(shown.count + 8)
    if let text = String(validating: shown, as: UTF8.self) {
      for scalar in text.unicodeScalars {
        let encoded = Array(String(scalar).utf8)
        if isUnsafe(scalar) || (delimiters && isDelimiter(scalar.value)) {
          encoded.forEach { appendEscaped($0, to: &out) }
        } else {
          out += encoded
        }
      }
    } else {
      for byte in shown {
        if byte < 0x20 || byte >= 0x7f || byte == UInt8(ascii: "\\") || (delimiters && isDelimiter(UInt32(byte))) {
          appendEscaped(byte, to: &out)
        } else {
          out.append(byte)
        }
      }
    }
    if cut { out += Array("\\...".utf8) }
    return String(decoding: out, as: UTF8.self)
  }

  /// Characters that could forge or hide log content on a terminal or in a log viewer.
  private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0..<0x20, 0x7f...0x9f, 0x5c: return true  // C0, DEL, C1, backslash
    case 0xad, 0x34f, 0x61c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180b...0x180f: return true  // soft hyphen, fillers, …
    case 0x200b...0x200f: return true  // zero-width space, joiners, direction marks
    case 0x2028...0x202e: return true  // line and paragraph separators, bidirectional embeddings
    case 0x2060...0x206f: return true  // word joiner, invisible operators, isolates
    case 0x3164, 0xfe00...0xfe0f, 0xfeff, 0xffa0, 0xfff0...0xfffb: return true  // fillers, selectors, BOM
    case 0x1bca0...0x1bca3, 0x1d173...0x1d17a, 0xe0000...0xe0fff: return true  // format controls, tags
    default: return false
    }
  }

  /// The characters that delimit fields: space, `"`, `'`, `;` and `=`.
  private static func isDelimiter(_ value: UInt32) -> Bool {
    value == 0x20 || value == 0x22 || value == 0x27 || value == 0x3b || value == 0x3d
  }

  private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
  }
}
