/// Whether `text` is safe on one log or terminal line: no C0 or C1 control character, no DEL,
/// no line or paragraph separator and no bidirectional override.
func isOneSafeLine(_ text: String) -> Bool {
  text.unicodeScalars.allSatisfy { scalar in
    switch scalar.value {
    case 0..<0x20, 0x7f...0x9f, 0x2028, 0x2029, 0x202a...0x202e, 0x2066...0x2069: return false
    default: return true
    }
  }
}
