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

  /// AES-256-GCM encryption (NIST SP 800-38D) of `plaintext` under `key` with the 96-bit
  /// `nonce`, authenticating `associatedData` as well: the ciphertext (as long as the plaintext)
  /// followed by the 16-byte tag. `nil` if `key` does not have 32 bytes, `nonce` does not have
  /// 12, or the library fails.
  ///
  /// A nonce must never be used twice with the same key: `Sealing` draws a fresh random one for
  /// every seal, and is what callers should use rather than this primitive.
  func sealAES256GCM(
    key: SecretBytes, nonce: [UInt8], associatedData: [UInt8], plaintext: SecretBytes
  )
    -> [UInt8]?

  /// AES-256-GCM decryption of `sealed` (ciphertext followed by the 16-byte tag, as
  /// `sealAES256GCM` makes it) under `key` and `nonce`, with `associatedData`. The plaintext,
  /// in secret storage, only once the tag has been recomputed and found equal (compared in
  /// constant time); `nil` if it is not, if `sealed` is shorter than a tag, if `key` does not
  /// have 32 bytes or `nonce` 12, or if the library fails. No byte of an unauthenticated
  /// plaintext is ever returned.
  func openAES256GCM(key: SecretBytes, nonce: [UInt8], associatedData: [UInt8], sealed: [UInt8]) -> SecretBytes?
}
