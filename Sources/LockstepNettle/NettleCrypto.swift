internal import CNettle
public import LockstepCore
internal import LockstepPlatform

/// The core's cryptographic primitives, implemented with nettle (Debian's `libnettle8`, the
/// crypto library of GnuTLS): what the module links, since loading it costs a fraction of
/// OpenSSL 3's initialisation in every fresh sshd or sudo process. Randomness is the kernel's
/// (`getrandom(2)`, see `SystemRandom`). The CLI uses `LibCrypto` instead, so that each
/// record it writes and the module verifies is checked by two implementations.
public struct NettleCrypto: CryptoProvider {
  public init() {}

  /// `hmac_sha1_*`, `hmac_sha256_*` or `hmac_sha512_*`.
  public func hmac(
    _ algorithm: OTPAlgorithm, key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer
  )
    -> [UInt8]
  {
    var digest = [UInt8](repeating: 0, count: algorithm.digestLength)
    digest.withUnsafeMutableBufferPointer { out in
      switch algorithm {
      case .sha1:
        Self.hmac(
          hmac_sha1_ctx(), key, message, out, nettle_hmac_sha1_set_key, nettle_hmac_sha1_update,
          nettle_hmac_sha1_digest)
      case .sha256:
        Self.hmac(
          hmac_sha256_ctx(), key, message, out, nettle_hmac_sha256_set_key, nettle_hmac_sha256_update,
          nettle_hmac_sha256_digest)
      case .sha512:
        Self.hmac(
          hmac_sha512_ctx(), key, message, out, nettle_hmac_sha512_set_key, nettle_hmac_sha512_update,
          nettle_hmac_sha512_digest)
      }
    }
    return digest
  }

  /// One HMAC through nettle's three calls for a digest: set the key, update with the message,
  /// take the digest into `out`. The context, which holds key-derived state, is wiped afterwards.
  private static func hmac<Context>(
    _ context: Context, _ key: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer,
    _ out: UnsafeMutableBufferPointer<UInt8>,
    _ setKey: (UnsafeMutablePointer<Context>?, Int, UnsafePointer<UInt8>?) -> Void,
    _ update: (UnsafeMutablePointer<Context>?, Int, UnsafePointer<UInt8>?) -> Void,
    _ digest: (UnsafeMutablePointer<Context>?, Int, UnsafeMutablePointer<UInt8>?) -> Void
  ) {
    var context = context
    setKey(&context, key.count, key.baseAddress?.assumingMemoryBound(to: UInt8.self))
    update(&context, message.count, message.baseAddress?.assumingMemoryBound(to: UInt8.self))
    digest(&context, out.count, out.baseAddress)
    withUnsafeMutableBytes(of: &context) { wipeMemory($0) }
  }

  /// `pbkdf2_hmac_sha256`.
  public func pbkdf2SHA256(
    password: UnsafeRawBufferPointer, salt: [UInt8], iterations: Int, length: Int
  )
    -> [UInt8]?
  {
    guard iterations > 0, iterations <= Int(UInt32.max), length > 0 else { return nil }
    var out = [UInt8](repeating: 0, count: length)
    let passwordBytes = password.baseAddress?.assumingMemoryBound(to: UInt8.self)
    out.withUnsafeMutableBufferPointer { result in
      salt.withUnsafeBufferPointer { saltBytes in
        nettle_pbkdf2_hmac_sha256(
          password.count, passwordBytes, UInt32(iterations), saltBytes.count, saltBytes.baseAddress,
          result.count, result.baseAddress)
      }
    }
    return out
  }

  /// `getrandom(2)`.
  public func randomBytes(count: Int) -> [UInt8]? {
    SystemRandom.bytes(count: count)
  }

  /// `memeql_sec`, after comparing the (public) lengths.
  public func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard let first = a.baseAddress, let second = b.baseAddress else { return true }
    return nettle_memeql_sec(first, second, a.count) != 0
  }

  /// The length of a GCM tag, `GCM_DIGEST_SIZE`.
  private static let gcmTagLength = 16

  /// `gcm_aes256_set_key`, `gcm_aes256_set_iv`, `gcm_aes256_update` with the associated data,
  /// `gcm_aes256_encrypt` and `gcm_aes256_digest`; the context (which holds the expanded key)
  /// is wiped afterwards.
  public func sealAES256GCM(
    key: SecretBytes, nonce: [UInt8], associatedData: [UInt8], plaintext: SecretBytes
  )
    -> [UInt8]?
  {
    guard key.count == 32, nonce.count == 12 else { return nil }
    var context = gcm_aes256_ctx()
    defer { withUnsafeMutableBytes(of: &context) { wipeMemory($0) } }
    Self.start(&context, key: key, nonce: nonce, associatedData: associatedData)
    var sealed = [UInt8](repeating: 0, count: plaintext.count + Self.gcmTagLength)
    sealed.withUnsafeMutableBufferPointer { out in
      guard let base = out.baseAddress else { return }
      plaintext.withUnsafeBytes { input in
        nettle_gcm_aes256_encrypt(&context, input.count, base, input.baseAddress?.assumingMemoryBound(to: UInt8.self))
      }
      nettle_gcm_aes256_digest(&context, Self.gcmTagLength, base + plaintext.count)
    }
    return sealed
  }

  /// As `sealAES256GCM`, with `gcm_aes256_decrypt` straight into the secret storage that is
  /// returned; the tag it computes is compared with the one given by `memeql_sec`, and the
  /// storage is wiped before `nil` is returned when they differ.
  public func openAES256GCM(
    key: SecretBytes, nonce: [UInt8], associatedData: [UInt8], sealed: [UInt8]
  )
    -> SecretBytes?
  {
    guard key.count == 32, nonce.count == 12, sealed.count >= Self.gcmTagLength else { return nil }
    let length = sealed.count - Self.gcmTagLength
    var context = gcm_aes256_ctx()
    defer { withUnsafeMutableBytes(of: &context) { wipeMemory($0) } }
    Self.start(&context, key: key, nonce: nonce, associatedData: associatedData)
    let plaintext = SecretBytes(count: length)
    var tag = [UInt8](repeating: 0, count: Self.gcmTagLength)
    let verified = sealed.withUnsafeBufferPointer { input -> Bool in
      guard let ciphertext = input.baseAddress else { return false }
      plaintext.withUnsafeMutableBytes { out in
        nettle_gcm_aes256_decrypt(&context, length, out.baseAddress?.assumingMemoryBound(to: UInt8.self), ciphertext)
      }
      return tag.withUnsafeMutableBufferPointer { computed -> Bool in
        guard let computedBase = computed.baseAddress else { return false }
        nettle_gcm_aes256_digest(&context, computed.count, computedBase)
        return nettle_memeql_sec(computedBase, ciphertext + length, computed.count) != 0
      }
    }
    wipe(&tag)
    guard verified else {
      plaintext.withUnsafeMutableBytes { wipeMemory($0) }
      return nil
    }
    return plaintext
  }

  /// The steps that sealing and opening share: the key, the nonce, the associated data.
  private static func start(
    _ context: inout gcm_aes256_ctx, key: SecretBytes, nonce: [UInt8], associatedData: [UInt8]
  ) {
    key.withUnsafeBytes { nettle_gcm_aes256_set_key(&context, $0.baseAddress?.assumingMemoryBound(to: UInt8.self)) }
    nonce.withUnsafeBufferPointer { nettle_gcm_aes256_set_iv(&context, $0.count, $0.baseAddress) }
    associatedData.withUnsafeBufferPointer { nettle_gcm_aes256_update(&context, $0.count, $0.baseAddress) }
  }
}
