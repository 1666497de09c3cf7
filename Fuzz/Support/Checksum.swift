/// CRC-32C computed the table-driven way, independently of the bit-at-a-time code under test,
/// so that a target can both give the fuzzer slots with a correct checksum and cross-check the
/// module's checksum.
enum ReferenceCRC32C {
  private static let table: [UInt32] = (0..<256).map { index in
    (0..<8).reduce(UInt32(index)) { value, _ in value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
  }

  /// The CRC-32C of `bytes`.
  static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
    ~bytes.reduce(UInt32.max) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
  }
}
