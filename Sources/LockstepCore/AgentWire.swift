/// Why bytes from the agent's socket could not be read as a message.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What was wrong, in a few words.
  public let reason: String

  public init(_ reason: String) { self.reason = reason }

  public var description: String { "malformed agent message: \(reason)" }
}

/// Writes the fields of one agent message (see `AgentProtocol`): numbers big-endian, byte
/// strings as a 16-bit length and the bytes. Secret fields are wiped with the writer's buffer.
public struct WireWriter {
  /// The message so far.
  public private(set) var bytes: [UInt8] = []

  public init() {}

  public mutating func byte(_ value: UInt8) { bytes.append(value) }

  public mutating func integer(_ value: Int64) {
    let bits = UInt64(bitPattern: value)
    for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
  }

  public mutating func raw(_ value: [UInt8]) { bytes.append(contentsOf: value) }

  /// A byte string of at most `AgentProtocol.largestField` bytes; a longer one is cut there
  /// (no caller sends one: names, hosts and answers are all shorter).
  public mutating func field<C: Collection>(_ value: C) where C.Element == UInt8 {
    let count = min(value.count, AgentProtocol.largestField)
    bytes.append(UInt8(truncatingIfNeeded: count >> 8))
    bytes.append(UInt8(truncatingIfNeeded: count))
    bytes.append(contentsOf: value.prefix(count))
  }

  public mutating func text(_ value: String) { field(Array(value.utf8)) }

  public mutating func secret(_ value: SecretBytes) { value.withUnsafeBytes { field($0) } }

  /// An optional secret: a presence byte, then the field.
  public mutating func optionalSecret(_ value: SecretBytes?) {
    guard let value else { return byte(0) }
    byte(1)
    secret(value)
  }

  /// Zeroes the buffer, once a message holding a secret has been sent.
  public mutating func wipe() { LockstepCore.wipe(&bytes) }
}

/// Reads the fields of one agent message, in the order `WireWriter` wrote them. Every read
/// checks the length left; nothing here traps on any input.
public struct WireReader {
  private let bytes: [UInt8]
  private var offset = 0

  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public var isAtEnd: Bool { offset == bytes.count }

  public mutating func byte() throws(WireError) -> UInt8 {
    guard offset < bytes.count else { throw WireError("message too short") }
    defer { offset += 1 }
    return bytes[offset]
  }

  /// A byte that must be 0 (false) or 1 (true).
  public mutating func flag() throws(WireError) -> Bool {
    switch try byte() {
    case 0: return false
    case 1: return true
    default: throw WireError("bad flag")
    }
  }

  public mutating func integer() throws(WireError) -> Int64 {
    var bits: UInt64 = 0
    for _ in 0..<8 { bits = bits << 8 | UInt64(try byte()) }
    return Int64(bitPattern: bits)
  }

  /// An integer that must lie in `range`.
  public mutating func integer(in range: ClosedRange<Int64>, _ what: String) throws(WireError) -> Int64 {
    let value = try integer()
    guard range.contains(value) else { throw WireError("\(what) out of range") }
    return value
  }

  public mutating func raw(count: Int) throws(WireError) -> [UInt8] {
    guard count >= 0, bytes.count - offset >= count else { throw WireError("message too short") }
    defer { offset += count }
    return Array(bytes[offset..<offset + count])
  }

  public mutating func field() throws(WireError) -> [UInt8] {
    let count = Int(try byte()) << 8 | Int(try byte())
    return try raw(count: count)
  }

  public mutating func text() throws(WireError) -> String {
    let value = try field()
    guard let text = String(validating: value, as: UTF8.self) else { throw WireError("text is not UTF-8") }
    return text
  }

  public mutating func userName() throws(WireError) -> UserName {
    guard let name = UserName(bytes: try field()) else { throw WireError("unusable user name") }
    return name
  }

  /// A secret field, copied straight into secret storage.
  public mutating func secret() throws(WireError) -> SecretBytes {
    let count = Int(try byte()) << 8 | Int(try byte())
    guard bytes.count - offset >= count else { throw WireError("message too short") }
    defer { offset += count }
    return SecretBytes(bytes[offset..<offset + count])
  }

  public mutating func optionalSecret() throws(WireError) -> SecretBytes? {
    try flag() ? try secret() : nil
  }

  /// Checks that nothing follows the last field.
  public func finish() throws(WireError) {
    guard isAtEnd else { throw WireError("trailing bytes") }
  }
}
