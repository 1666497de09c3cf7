internal import COpenSSL
public import LockstepCore

/// The core's cryptographic primitives, implemented with libcrypto (OpenSSL 3).
public struct LibCrypto: CryptoProvider {
  public init() {}

  /// `HMAC(3)` with `EVP_sha1`, `EVP_sha256` or `EVP_sha512`.
  public func hmac(
    _ algorithm: OTPAlgorithm, key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer
  )
    -> [UInt8]
  {
    let md: OpaquePointer? =
      switch algorithm {
      case .sha1: EVP_sha1()
      case .sha256: EVP_sha256()
      case .sha512: EVP_sha512()
      }
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let ok = digest.withUnsafeMutableBufferPointer { out in
      HMAC(
        md, key.baseAddress, Int32(clamping: key.count), message.baseAddress?.assumingMemoryBound(to: UInt8.self),
        message.count, out.baseAddress, &length) != nil
    }
    defer { wipe(&digest) }
    guard ok, Int(length) == algorithm.digestLength else { return [] }
    return Array(digest.prefix(Int(length)))
  }

  /// `PKCS5_PBKDF2_HMAC(3)` with SHA-256.
  public func pbkdf2SHA256(
    password: UnsafeRawBufferPointer, salt: [UInt8], iterations: Int, length: Int
  )
    -> [UInt8]?
  {
    guard iterations > 0, length > 0 else { return nil }
    var out = [UInt8](repeating: 0, count: length)
    let ok = out.withUnsafeMutableBufferPointer { result in
      salt.withUnsafeBufferPointer { saltBytes in
        PKCS5_PBKDF2_HMAC(
          password.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(clamping: password.count),
          saltBytes.baseAddress, Int32(clamping: saltBytes.count), Int32(clamping: iterations), EVP_sha256(),
          Int32(clamping: length), result.baseAddress)
      }
    }
    return ok == 1 ? out : nil
  }

  /// `RAND_bytes(3)`.
  public func randomBytes(count: Int) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: count)
    let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(clamping: $0.count)) }
    return ok == 1 ? out : nil
  }

  /// `CRYPTO_memcmp(3)`, after comparing the (public) lengths.
  public func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
  }
}
