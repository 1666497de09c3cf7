/// Base32 as defined by RFC 4648 section 6, the alphabet that otpauth URIs and every
/// authenticator app use for secrets.
///
/// Decoding is forgiving in the ways people type secrets: upper or lower case, with or without
/// `=` padding, with spaces or hyphens between groups. It is strict about everything else: a
/// character outside the alphabet, padding before the end, or a length that no whole number of
/// bytes encodes make the input invalid. Leftover bits after the last whole byte are dropped,
/// as authenticator apps do, so that secrets generated with a careless encoder still work.
public enum Base32 {
  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

  /// Encodes `bytes` without padding, in upper case.
  public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var output: [UInt8] = []
    encode(bytes, appendingTo: &output)
    defer { wipe(&output) }
    return String(decoding: output, as: UTF8.self)
  }

  /// Appends the encoding of `bytes` to `output`, so that a caller holding a secret can keep
  /// its text in storage it wipes (a `String` cannot be wiped).
  public static func encode<C: Collection>(_ bytes: C, appendingTo output: inout [UInt8]) where C.Element == UInt8 {
    output.reserveCapacity(output.count + (bytes.count * 8 + 4) / 5)
    var buffer: UInt32 = 0
    var bits = 0
    for byte in bytes {
      buffer = (buffer << 8) | UInt32(byte)
      bits += 8
      while bits >= 5 {
        bits -= 5
        output.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
      }
      buffer &= (1 << UInt32(bits)) - 1
    }
    if bits > 0 {
      output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)])
    }
    buffer = 0
  }

  /// Decodes base32 text; `nil` when it is not valid base32 or decodes to nothing.
  public static func decode(_ text: UnsafeRawBufferPointer) -> SecretBytes? {
    var symbols = 0
    var padding = 0
    for byte in text {
      if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "\t") {
        continue
      }
      if byte == UInt8(ascii: "=") {
        padding += 1
        continue
      }
      guard padding == 0, value(of: byte) != nil else { return nil }
      symbols += 1
    }
    // A final group of 1, 3 or 6 symbols cannot come from whole bytes.
    guard symbols > 0, ![1, 3, 6].contains(symbols % 8), padding < 8 else { return nil }
    let result = SecretBytes(count: symbols * 5 / 8)
    var buffer: UInt32 = 0
    var bits = 0
    var index = 0
    let complete = result.withUnsafeMutableBytes { out -> Bool in
      for byte in text {
        guard let v = value(of: byte) else { continue }
        buffer = (buffer << 5) | UInt32(v)
        bits += 5
        if bits >= 8 {
          bits -= 8
          guard index < out.count else { return false }
          out[index] = UInt8(truncatingIfNeeded: buffer >> UInt32(bits))
          index += 1
        }
        buffer &= (1 << UInt32(bits)) - 1
      }
      return index == out.count
    }
    buffer = 0
    return complete ? result : nil
  }

  /// Decodes base32 given as a string.
  public static func decode(_ text: String) -> SecretBytes? {
    var copy = Array(text.utf8)
    defer { wipe(&copy) }
    return copy.withUnsafeBytes { decode($0) }
  }

  private static func value(of byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a")
    case UInt8(ascii: "2")...UInt8(ascii: "7"): return byte - UInt8(ascii: "2") + 26
    default: return nil
    }
  }
}
