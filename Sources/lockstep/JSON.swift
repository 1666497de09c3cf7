import LockstepCore

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
      out += JSONText.quoted(text)
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
        out += inner + JSONText.quoted(key) + " : "
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
}
