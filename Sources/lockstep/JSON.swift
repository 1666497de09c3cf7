/// The JSON the commands print with `--json`: dictionaries (`[String: Any]`), arrays,
/// strings, integers, booleans and `JSON.null`, written with two-space indentation, keys
/// sorted, `"key" : value` pairs, and `/` and non-ASCII characters as they are.
enum JSON {
  /// JSON's `null`.
  struct Null {}
  /// The value written as `null`.
  static let null = Null()

  /// `value` as JSON text. A value of any other type is written as `null`.
  static func text(_ value: Any) -> String {
    var out = ""
    write(value, indent: "", to: &out)
    return out
  }

  private static func write(_ value: Any, indent: String, to out: inout String) {
    let inner = indent + "  "
    switch value {
    case let text as String:
      out += quoted(text)
    case let flag as Bool:
      out += flag ? "true" : "false"
    case let number as any BinaryInteger:
      out += String(describing: number)
    case let object as [String: Any]:
      guard !object.isEmpty else {
        out += "{}"
        return
      }
      out += "{\n"
      for (index, key) in object.keys.sorted().enumerated() {
        out += inner + quoted(key) + " : "
        write(object[key] ?? null, indent: inner, to: &out)
        out += index == object.count - 1 ? "\n" : ",\n"
      }
      out += indent + "}"
    case let array as [Any]:
      guard !array.isEmpty else {
        out += "[]"
        return
      }
      out += "[\n"
      for (index, element) in array.enumerated() {
        out += inner
        write(element, indent: inner, to: &out)
        out += index == array.count - 1 ? "\n" : ",\n"
      }
      out += indent + "]"
    default:
      out += "null"
    }
  }

  /// `text` as a JSON string: quotes, backslashes and control characters escaped.
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7f:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
