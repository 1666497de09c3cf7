/// Makes untrusted bytes (user names, module arguments, remote host names) safe to put in a
/// log line: control characters and backslashes are escaped as `\xNN`, as is every byte above
/// 0x7f unless the text is valid UTF-8, and input longer than `maximumLength` bytes is cut.
public enum LogText {
  /// The most bytes of input shown before the text is cut with `...`.
  public static let maximumLength = 128

  /// The escaped form of `bytes`.
  public static func escape<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    let shown = Array(bytes.prefix(maximumLength))
    let keepHighBytes = String(validating: shown, as: UTF8.self) != nil
    let hex = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(shown.count + 8)
    for byte in shown {
      if byte < 0x20 || byte == 0x7f || byte == UInt8(ascii: "\\") || (byte >= 0x80 && !keepHighBytes) {
        out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
      } else {
        out.append(byte)
      }
    }
    if bytes.count > maximumLength { out += Array("...".utf8) }
    return String(decoding: out, as: UTF8.self)
  }
}
