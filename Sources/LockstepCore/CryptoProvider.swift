/// The cryptographic primitives the core needs, supplied by the platform layer (libcrypto in
/// production) so that the core itself stays free of C libraries.
public protocol CryptoProvider: Sendable {
  /// HMAC of `message` under `key`; the digest has `algorithm.digestLength` bytes.
  func hmac(
    _ algorithm: OTPAlgorithm, key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer
  )
    -> [UInt8]

  /// PBKDF2 with HMAC-SHA-256 (RFC 8018): `length` bytes derived from `password` and `salt`.
  func pbkdf2SHA256(
    password: UnsafeRawBufferPointer, salt: [UInt8], iterations: Int, length: Int
  )
    -> [UInt8]?

  /// `count` bytes from a cryptographically secure generator, or `nil` if it failed.
  func randomBytes(count: Int) -> [UInt8]?

  /// Whether `a` and `b` are equal, in time that depends only on their lengths.
  func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool
}
