/// A QR code's modules, drawn as text: what `lockstep enroll` prints, and what an invitation
/// carries for the module to show (the module has no QR encoder; libqrencode, in the CLI,
/// makes the matrix).
public struct QRMatrix: Equatable, Sendable {
  /// The modules on each side, without the quiet zone (21 to 177).
  public let width: Int
  /// Row-major, `true` for a dark module.
  public let modules: [Bool]

  /// The quiet zone drawn around the code, in modules.
  public static let quietZone = 2

  /// A matrix of `width` × `width` `modules`; `nil` when the sizes do not agree or the width is
  /// no QR code's.
  public init?(width: Int, modules: [Bool]) {
    guard (21...177).contains(width), (width - 17) % 4 == 0, modules.count == width * width else { return nil }
    self.width = width
    self.modules = modules
  }

  /// The bytes an invitation keeps: the width, then the modules row by row, eight to a byte,
  /// the first in the highest bit, the last byte padded with zeros.
  public var encoded: [UInt8] {
    var bytes = [UInt8(width)]
    bytes.reserveCapacity(1 + (modules.count + 7) / 8)
    var byte: UInt8 = 0
    for (index, dark) in modules.enumerated() {
      if dark { byte |= 0x80 >> UInt8(index % 8) }
      if index % 8 == 7 {
        bytes.append(byte)
        byte = 0
      }
    }
    if modules.count % 8 != 0 { bytes.append(byte) }
    return bytes
  }

  /// The matrix `encoded` wrote; `nil` for anything else (a wrong length, padding that is not zero).
  public init?(encoded bytes: [UInt8]) {
    guard let first = bytes.first else { return nil }
    let width = Int(first)
    let count = width * width
    guard bytes.count == 1 + (count + 7) / 8 else { return nil }
    var modules: [Bool] = []
    modules.reserveCapacity(count)
    for index in 0..<count { modules.append(bytes[1 + index / 8] & (0x80 >> UInt8(index % 8)) != 0) }
    if count % 8 != 0, bytes[bytes.count - 1] & (0xff >> UInt8(count % 8)) != 0 { return nil }
    self.init(width: width, modules: modules)
  }

  /// Whether the module at `row`, `column` is dark; the quiet zone and beyond are light.
  public func isDark(row: Int, column: Int) -> Bool {
    guard row >= 0, row < width, column >= 0, column < width else { return false }
    return modules[row * width + column]
  }

  /// The code drawn with half blocks, two rows of modules per line, with the quiet zone. With
  /// `inverted`, light modules are drawn in the terminal's own colour, for a dark background
  /// (as `qrencode -t UTF8` draws them); with `colours`, black on white in ANSI colours, for
  /// any terminal.
  public func rendered(inverted: Bool, colours: Bool) -> String {
    let margin = Self.quietZone
    let size = width + 2 * margin
    var lines: [String] = []
    var row = 0
    while row < size {
      var line = colours ? "\u{1B}[30;47m" : ""
      for column in 0..<size {
        let top = isDark(row: row - margin, column: column - margin)
        // Below the last row (an odd number of rows) is outside the code.
        let bottomExists = row + 1 < size
        let bottom = bottomExists && isDark(row: row + 1 - margin, column: column - margin)
        let inkTop = inverted ? !top : top
        let inkBottom = bottomExists && (inverted ? !bottom : bottom)
        switch (inkTop, inkBottom) {
        case (true, true): line += "\u{2588}"
        case (true, false): line += "\u{2580}"
        case (false, true): line += "\u{2584}"
        case (false, false): line += " "
        }
      }
      if colours { line += "\u{1B}[0m" }
      lines.append(line)
      row += 2
    }
    var text = ""
    for (index, line) in lines.enumerated() { text += (index == 0 ? "" : "\n") + line }
    return text
  }
}
