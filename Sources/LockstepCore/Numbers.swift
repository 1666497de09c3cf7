extension Int64 {
  /// Parses optional `-` and 1 to 19 ASCII decimal digits; `nil` on anything else or on
  /// overflow. Never traps.
  public init?(ascii text: UnsafeRawBufferPointer) {
    var digits = text[...]
    let negative = digits.first == UInt8(ascii: "-")
    if negative { digits = digits.dropFirst() }
    guard let magnitude = UInt64(ascii: UnsafeRawBufferPointer(rebasing: digits)),
      magnitude <= UInt64(Int64.max)
    else { return nil }
    self = negative ? -Int64(magnitude) : Int64(magnitude)
  }

  /// `self + other`, pinned to the representable range instead of trapping on overflow.
  public func saturatingAdd(_ other: Int64) -> Int64 {
    let (sum, overflow) = addingReportingOverflow(other)
    guard overflow else { return sum }
    return other > 0 ? Int64.max : Int64.min
  }

  /// Parses a number given as a string, such as a module argument's value.
  public init?(asciiString text: String) {
    guard let value = Array(text.utf8).withUnsafeBytes({ Int64(ascii: $0) }) else { return nil }
    self = value
  }
}

extension UInt64 {
  /// Parses 1 to 20 ASCII decimal digits; `nil` on anything else or on overflow.
  public init?(ascii text: UnsafeRawBufferPointer) {
    guard !text.isEmpty, text.count <= 20 else { return nil }
    var value: UInt64 = 0
    for byte in text {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      let (times10, o1) = value.multipliedReportingOverflow(by: 10)
      let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
      guard !o1, !o2 else { return nil }
      value = sum
    }
    self = value
  }
}

/// Lower-case hexadecimal, for salts and hashes in records.
public enum Hex {
  /// Encodes bytes as lower-case hexadecimal.
  public static func encode(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Decodes hexadecimal in either case; `nil` on an odd length or a non-hex character.
  public static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 2)
    var index = 0
    while index < text.count {
      guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
      out.append(high << 4 | low)
      index += 2
    }
    return out
  }

  /// Decodes hexadecimal given as a string.
  public static func decode(_ text: String) -> [UInt8]? {
    Array(text.utf8).withUnsafeBytes { decode($0) }
  }

  private static func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
