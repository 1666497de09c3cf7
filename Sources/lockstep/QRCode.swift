import ArgumentParser
internal import CQRencode
import LockstepCore

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

/// A QR code encoded by libqrencode.
struct QRCode {
  let matrix: QRMatrix

  /// Encodes `text` with `QRcode_encodeString` (8-bit mode, error correction level M, the
  /// smallest version that fits); `nil` if libqrencode fails.
  init?(_ text: String) {
    guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { return nil }
    defer { QRcode_free(code) }
    let width = Int(code.pointee.width)
    guard width > 0, let data = code.pointee.data else { return nil }
    // Bit 0 of each byte is the module's colour (1 = dark); the other bits are encoder details.
    guard let matrix = QRMatrix(width: width, modules: (0..<width * width).map { data[$0] & 1 == 1 }) else {
      return nil
    }
    self.matrix = matrix
  }

  /// The code drawn in `style`.
  func rendered(_ style: QRStyle) -> String {
    guard style != .none else { return "" }
    return matrix.rendered(inverted: style == .utf8, colours: style == .ansi)
  }
}

extension QRStyle {
  /// The style asked for, or by default `utf8` when standard output is a terminal, else none.
  static func effective(_ requested: QRStyle?) -> QRStyle {
    requested ?? (isatty(1) != 0 ? .utf8 : .none)
  }
}
