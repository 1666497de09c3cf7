/// JSON's string syntax, written by hand where a JSON document is made as text (the CLI's
/// output, the webhook's request): one escaper for all of them.
public enum JSONText {
  /// `text` as a JSON string, quotes included: `"` and `\` escaped, control characters (and
  /// U+2028, U+2029, which some JavaScript readers take for line ends) as `\uXXXX` or their
  /// short forms, everything else as it is (JSON is UTF-8).
  public static func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7f || scalar.value == 0x2028 || scalar.value == 0x2029 {
          let hex = String(scalar.value, radix: 16)
          result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result + "\""
  }
}
