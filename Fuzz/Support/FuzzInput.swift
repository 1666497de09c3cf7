/// The fuzzer's bytes read front to back as the values a structured target needs. Reading past
/// the end gives zeros, so every input, however short, is some valid case.
struct FuzzInput {
  private let bytes: UnsafeRawBufferPointer
  private var position = 0

  init(_ bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  /// The next byte.
  mutating func byte() -> UInt8 {
    guard position < bytes.count else { return 0 }
    defer { position += 1 }
    return bytes[position]
  }

  /// The next `MemoryLayout<T>.size` bytes as a little-endian integer.
  mutating func integer<T: FixedWidthInteger>(_ type: T.Type) -> T {
    var value = T.zero
    for index in 0..<MemoryLayout<T>.size {
      value |= T(truncatingIfNeeded: byte()) << (8 * index)
    }
    return value
  }

  /// The next `count` bytes (fewer at the end).
  mutating func take(_ count: Int) -> [UInt8] {
    let end = min(bytes.count, position + max(0, count))
    defer { position = max(position, end) }
    return position < end ? Array(bytes[position..<end]) : []
  }

  /// A length byte, then that many bytes (at most `limit`).
  mutating func chunk(limit: Int = 255) -> [UInt8] {
    take(min(Int(byte()), limit))
  }

  /// Everything not read yet.
  mutating func rest() -> [UInt8] {
    take(bytes.count - position)
  }
}
