/// Makes untrusted bytes (user names, module arguments, remote host names) safe to put in a
/// log line: input longer than `maximumLength` bytes is cut (at a character boundary) and
/// marked with `...`; control characters (C0, DEL, C1), line and paragraph separators,
/// bidirectional overrides and backslashes are escaped as `\xNN` per byte; and if the text is
/// not valid UTF-8, every byte above 0x7f is escaped too.
public enum LogText {
  /// The most bytes of input shown before the text is cut with `...`.
  public static let maximumLength = 128

  /// The escaped form of `bytes`.
  public static func escape<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
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
        if isUnsafe(scalar) { encoded.forEach { appendEscaped($0, to: &out) } } else { out += encoded }
      }
    } else {
      for byte in shown {
        if byte < 0x20 || byte >= 0x7f || byte == UInt8(ascii: "\\") {
          appendEscaped(byte, to: &out)
        } else {
          out.append(byte)
        }
      }
    }
    if cut { out += Array("...".utf8) }
    return String(decoding: out, as: UTF8.self)
  }

  /// Characters that could forge or hide log content on a terminal or in a log viewer.
  private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0..<0x20, 0x7f...0x9f, 0x5c: return true  // C0, DEL, C1, backslash
    case 0x2028, 0x2029: return true  // line and paragraph separators
    case 0x202a...0x202e, 0x2066...0x2069: return true  // bidirectional embeddings and isolates
    default: return false
    }
  }

  private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
  }
}
