import ArgumentParser
internal import CQRencode

#if canImport(Glibc)
  import Glibc
#endif

/// How a QR code is drawn in the terminal.
enum QRStyle: String, CaseIterable, ExpressibleByArgument {
  /// Unicode half blocks in the terminal's own colours, light modules drawn: for terminals with
  /// a dark background (as `qrencode -t UTF8` draws them).
  case utf8
  /// Unicode half blocks with explicit black-on-white ANSI colours, for any terminal.
  case ansi
  /// No QR code, only the URI.
  case none
}

/// A QR code's modules, encoded by libqrencode.
struct QRCode {
  /// The modules on each side, without the quiet zone.
  let width: Int
  /// Row-major, `true` for a dark module.
  let modules: [Bool]

  /// The quiet zone drawn around the code, in modules.
  static let quietZone = 2

  /// Encodes `text` with `QRcode_encodeString` (8-bit mode, error correction level M, the
  /// smallest version that fits); `nil` if libqrencode fails.
  init?(_ text: String) {
    guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { return nil }
    defer { QRcode_free(code) }
    let width = Int(code.pointee.width)
    guard width > 0, let data = code.pointee.data else { return nil }
    self.width = width
    // Bit 0 of each byte is the module's colour (1 = dark); the other bits are encoder details.
    modules = (0..<width * width).map { data[$0] & 1 == 1 }
  }

  /// Whether the module at `row`, `column` is dark; the quiet zone and beyond are light.
  func isDark(row: Int, column: Int) -> Bool {
    guard row >= 0, row < width, column >= 0, column < width else { return false }
    return modules[row * width + column]
  }

  /// The code drawn with half blocks, two rows of modules per line of text, with the quiet zone.
  func rendered(_ style: QRStyle) -> String {
    guard style != .none else { return "" }
    let margin = Self.quietZone
    let size = width + 2 * margin
    var lines: [String] = []
    var row = 0
    while row < size {
      var line = style == .ansi ? "\u{1B}[30;47m" : ""
      for column in 0..<size {
        let top = isDark(row: row - margin, column: column - margin)
        // Below the last row (an odd number of rows) is outside the code.
        let bottomExists = row + 1 < size
        let bottom = bottomExists && isDark(row: row + 1 - margin, column: column - margin)
        // utf8 draws light modules in the foreground colour; ansi draws dark ones in black.
        let inkTop = style == .utf8 ? !top : top
        let inkBottom = bottomExists && (style == .utf8 ? !bottom : bottom)
        switch (inkTop, inkBottom) {
        case (true, true): line += "\u{2588}"
        case (true, false): line += "\u{2580}"
        case (false, true): line += "\u{2584}"
        case (false, false): line += " "
        }
      }
      if style == .ansi { line += "\u{1B}[0m" }
      lines.append(line)
      row += 2
    }
    return lines.joined(separator: "\n")
  }
}

extension QRStyle {
  /// The style asked for, or by default `utf8` when standard output is a terminal, else none.
  static func effective(_ requested: QRStyle?) -> QRStyle {
    requested ?? (isatty(1) != 0 ? .utf8 : .none)
  }
}
