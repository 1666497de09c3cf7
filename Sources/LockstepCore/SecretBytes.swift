// explicit_bzero(3), the one C function the core calls.
internal import CLockstepSystem

/// Bytes that must not outlive their use: key material, record text that holds a secret,
/// answers typed at the prompt.
///
/// The storage is allocated once, never copied by value semantics, and overwritten with
/// zeros (`explicit_bzero(3)`, which the optimiser may not remove) when the object dies.
public final class SecretBytes {
  /// The number of bytes held.
  public let count: Int
  private let storage: UnsafeMutableRawBufferPointer

  /// Allocates `count` zeroed bytes.
  public init(count: Int) {
    self.count = max(0, count)
    storage = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, self.count), alignment: 16)
    storage.initializeMemory(as: UInt8.self, repeating: 0)
  }

  /// Copies `bytes` into new secret storage.
  public convenience init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    self.init(count: bytes.count)
    UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]).copyBytes(from: bytes)
  }

  deinit {
    wipeMemory(storage)
    storage.deallocate()
  }

  /// Calls `body` with read access to the bytes; the pointer must not escape.
  public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
    try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
  }

  /// Calls `body` with write access to the bytes; the pointer must not escape.
  public func withUnsafeMutableBytes<R, E: Error>(
    _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
  ) throws(E) -> R {
    try body(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
  }

  /// Whether both hold the same bytes. Not constant-time: for tests and non-secret checks.
  public func hasSameBytes(as other: SecretBytes) -> Bool {
    withUnsafeBytes { a in other.withUnsafeBytes { b in a.elementsEqual(b) } }
  }
}

/// Overwrites an array's bytes with zeros in place, for the short-lived copies that the
/// standard library's types cannot avoid (for example a formatted record before it is written).
public func wipe(_ bytes: inout [UInt8]) {
  bytes.withUnsafeMutableBytes { wipeMemory($0) }
}

/// Overwrites `buffer` with zeros using `explicit_bzero(3)`, which the optimiser may not remove.
public func wipeMemory(_ buffer: UnsafeMutableRawBufferPointer) {
  guard let base = buffer.baseAddress, buffer.count > 0 else { return }
  explicit_bzero(base, buffer.count)
}
