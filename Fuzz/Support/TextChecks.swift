/// Whether `text` is safe on one log or terminal line: no C0 or C1 control character, no DEL,
/// no line or paragraph separator and no bidirectional override.
func isOneSafeLine(_ text: String) -> Bool {
  text.unicodeScalars.allSatisfy { scalar in
    switch scalar.value {
    case 0..<0x20, 0x7f...0x9f, 0x2028, 0x2029, 0x202a...0x202e, 0x2066...0x2069: return false
    // Invisible format characters: soft hyphen, fillers, zero-width spaces and joiners, direction
    // marks, word joiners, variation selectors, the byte-order mark, tags.
    case 0xad, 0x34f, 0x61c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180b...0x180f, 0x200b...0x200f: return false
    case 0x2060...0x206f, 0x3164, 0xfe00...0xfe0f, 0xfeff, 0xffa0, 0xfff0...0xfffb: return false
    case 0x1bca0...0x1bca3, 0x1d173...0x1d17a, 0xe0000...0xe0fff: return false
    default: return true
    }
  }
}
