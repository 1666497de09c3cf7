/// CRC-32C (Castagnoli), the checksum that tells a whole state slot from one torn by a crash.
/// It detects every error of up to three flipped bits in a slot and every burst of up to
/// 32 bits; it is not a defence against someone who can write the file (only root can).
enum CRC32C {
  /// The checksum of `bytes` (reflected, initial value and final XOR `0xFFFFFFFF`).
  static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 {
        crc = (crc >> 1) ^ (0x82F6_3B78 & (0 &- (crc & 1)))
      }
    }
    return ~crc
  }
}
