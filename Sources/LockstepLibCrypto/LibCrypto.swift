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

  /// The length of a GCM tag.
  private static let gcmTagLength = 16

  /// `EVP_EncryptInit_ex(3)` with `EVP_aes_256_gcm`, the nonce's length set with
  /// `EVP_CTRL_GCM_SET_IVLEN`, the associated data and the plaintext through `EVP_EncryptUpdate`,
  /// `EVP_EncryptFinal_ex`, and the tag from `EVP_CTRL_GCM_GET_TAG`. The context is freed (which
  /// cleanses it) on every path. `nil` also for a plaintext or associated data of 2 GiB or more,
  /// which one `EVP_EncryptUpdate` cannot take.
  public func sealAES256GCM(
    key: SecretBytes, nonce: [UInt8], associatedData: [UInt8], plaintext: SecretBytes
  )
    -> [UInt8]?
  {
    guard key.count == 32, nonce.count == 12, let plaintextLength = Int32(exactly: plaintext.count) else {
      return nil
    }
    guard let context = EVP_CIPHER_CTX_new() else { return nil }
    defer { EVP_CIPHER_CTX_free(context) }
    guard Self.start(context, encrypting: true, key: key, nonce: nonce, associatedData: associatedData) else {
      return nil
    }
    var sealed = [UInt8](repeating: 0, count: plaintext.count + Self.gcmTagLength)
    let ok = sealed.withUnsafeMutableBufferPointer { out -> Bool in
      guard let base = out.baseAddress else { return false }
      var written: Int32 = 0
      let encrypted = plaintext.withUnsafeBytes { input in
        EVP_EncryptUpdate(
          context, base, &written, input.baseAddress?.assumingMemoryBound(to: UInt8.self), plaintextLength)
      }
      guard encrypted == 1, written == plaintextLength else { return false }
      var last: Int32 = 0
      guard EVP_EncryptFinal_ex(context, base + Int(written), &last) == 1, last == 0 else { return false }
      return EVP_CIPHER_CTX_ctrl(
        context, EVP_CTRL_GCM_GET_TAG, Int32(Self.gcmTagLength), base + plaintext.count) == 1
    }
    return ok ? sealed : nil
  }

  /// `EVP_DecryptInit_ex(3)` as for sealing, `EVP_DecryptUpdate` straight into the secret
  /// storage that is returned, the tag given with `EVP_CTRL_GCM_SET_TAG`, and
  /// `EVP_DecryptFinal_ex`, which verifies it (with `CRYPTO_memcmp`, in constant time). The
  /// storage is wiped before `nil` is returned when the tag does not verify; the context is
  /// freed on every path.
  public func openAES256GCM(
    key: SecretBytes, nonce: [UInt8], associatedData: [UInt8], sealed: [UInt8]
  )
    -> SecretBytes?
  {
    guard key.count == 32, nonce.count == 12, sealed.count >= Self.gcmTagLength,
      let length = Int32(exactly: sealed.count - Self.gcmTagLength)
    else { return nil }
    guard let context = EVP_CIPHER_CTX_new() else { return nil }
    defer { EVP_CIPHER_CTX_free(context) }
    guard Self.start(context, encrypting: false, key: key, nonce: nonce, associatedData: associatedData) else {
      return nil
    }
    let plaintext = SecretBytes(count: Int(length))
    var tag = Array(sealed.suffix(Self.gcmTagLength))
    let verified = plaintext.withUnsafeMutableBytes { out -> Bool in
      guard let base = out.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
      var written: Int32 = 0
      let decrypted = sealed.withUnsafeBufferPointer {
        EVP_DecryptUpdate(context, base, &written, $0.baseAddress, length)
      }
      guard decrypted == 1, written == length else { return false }
      let tagSet = tag.withUnsafeMutableBytes {
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32($0.count), $0.baseAddress)
      }
      guard tagSet == 1 else { return false }
      // For GCM the final call writes nothing: it is where the tag is checked.
      var last: Int32 = 0
      return EVP_DecryptFinal_ex(context, base + Int(written), &last) == 1 && last == 0
    }
    guard verified else {
      plaintext.withUnsafeMutableBytes { wipeMemory($0) }
      return nil
    }
    return plaintext
  }

  /// The steps that sealing and opening share: the cipher, the nonce's length, the key and the
  /// nonce, and the associated data. Whether every call succeeded.
  private static func start(
    _ context: OpaquePointer, encrypting: Bool, key: SecretBytes, nonce: [UInt8], associatedData: [UInt8]
  ) -> Bool {
    guard let associatedDataLength = Int32(exactly: associatedData.count) else { return false }
    let initialise = encrypting ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
    let update = encrypting ? EVP_EncryptUpdate : EVP_DecryptUpdate
    guard initialise(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil) == 1
    else { return false }
    let keyed = key.withUnsafeBytes { keyBytes in
      nonce.withUnsafeBufferPointer { iv in
        initialise(context, nil, nil, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), iv.baseAddress)
      }
    }
    guard keyed == 1 else { return false }
    guard associatedDataLength > 0 else { return true }
    var written: Int32 = 0
    let authenticated = associatedData.withUnsafeBufferPointer {
      update(context, nil, &written, $0.baseAddress, associatedDataLength)
    }
    return authenticated == 1 && written == associatedDataLength
  }
}
