import LockstepCore
import LockstepLibCrypto
import LockstepNettle

/// The two implementations of the core's primitives against each other: nettle, which the
/// module uses, and libcrypto, which the CLI uses. Every record the CLI writes (backup-code
/// hashes) and every code an authenticator app shows is checked by the other, so the two must
/// agree on every input, not only on the RFC vectors the tests hold.
///
/// Input: a byte choosing the algorithm and the operation; a key or password; a salt; an
/// iteration count (1 to 64, small enough to run fast); an output length (1 to 200); the
/// message. AES-256-GCM reads the same fields: the key as its key and the salt as its nonce
/// (both as they are, or, when the choice byte's top bit is set, cut or padded with zeros to
/// 32 and 12 bytes, so that half the inputs encrypt), and the message split in two, the
/// associated data then the plaintext, where the output length byte (before it is reduced)
/// says.
///
/// Properties: HMAC-SHA1, HMAC-SHA256 and HMAC-SHA512 give the same digest, of the algorithm's
/// length; PBKDF2-HMAC-SHA256 gives the same bytes at every length; `constantTimeEqual` gives
/// the same answer as plain comparison, for equal and unequal inputs. `sealAES256GCM` gives the
/// same bytes with both (the nonce is the fuzzer's, not random), 16 bytes (the tag) more than
/// the plaintext, and `nil` exactly when the key is not 32 bytes or the nonce not 12; each
/// provider's `openAES256GCM` gives back the plaintext from the other's, and neither opens it
/// with one bit changed or a byte more of associated data; on any bytes (the plaintext taken as
/// a sealed blob) the two open alike.
func fuzz(_ input: UnsafeRawBufferPointer) {
  var reader = FuzzInput(input)
  let choice = reader.byte()
  let algorithm = [OTPAlgorithm.sha1, .sha256, .sha512][Int(choice % 3)]
  let key = reader.chunk()
  let salt = reader.chunk()
  let iterations = Int(reader.byte() % 64) + 1
  let lengthByte = reader.byte()
  let length = Int(lengthByte % 200) + 1
  let message = reader.rest()
  let nettle = NettleCrypto(), libcrypto = LibCrypto()

  let digests = key.withUnsafeBytes { key in
    message.withUnsafeBytes { message in
      (nettle.hmac(algorithm, key: key, message: message), libcrypto.hmac(algorithm, key: key, message: message))
    }
  }
  require(digests.0 == digests.1, "HMAC-\(algorithm) differs: nettle \(digests.0), libcrypto \(digests.1)")
  require(digests.0.count == algorithm.digestLength, "HMAC-\(algorithm) has \(digests.0.count) bytes")

  let derived = key.withUnsafeBytes { password in
    (
      nettle.pbkdf2SHA256(password: password, salt: salt, iterations: iterations, length: length),
      libcrypto.pbkdf2SHA256(password: password, salt: salt, iterations: iterations, length: length)
    )
  }
  require(
    derived.0 != nil && derived.0 == derived.1,
    "PBKDF2 differs: nettle \(derived.0 ?? []), libcrypto \(derived.1 ?? [])")
  require(derived.0?.count == length, "PBKDF2 gave \(derived.0?.count ?? 0) bytes, not \(length)")

  // The message against itself, against the key, and against itself with one bit changed.
  var flipped = message
  if !flipped.isEmpty { flipped[Int(choice) % flipped.count] ^= 1 << (choice % 8) }
  for other in [message, key, flipped] {
    let equal = message.withUnsafeBytes { a in
      other.withUnsafeBytes { b in (nettle.constantTimeEqual(a, b), libcrypto.constantTimeEqual(a, b)) }
    }
    require(equal.0 == (message == other) && equal.1 == equal.0, "constantTimeEqual differs from ==: \(equal)")
  }

  let fitted = choice & 0x80 != 0
  let gcmKey = fitted ? Array((key + [UInt8](repeating: 0, count: 32)).prefix(32)) : key
  let nonce = fitted ? Array((salt + [UInt8](repeating: 0, count: 12)).prefix(12)) : salt
  let split = Int(lengthByte) % (message.count + 1)
  let associatedData = Array(message[..<split]), plaintext = Array(message[split...])
  checkAES256GCM(
    nettle, libcrypto, key: gcmKey, nonce: nonce, associatedData: associatedData, plaintext: plaintext, choice: choice)
}

/// The AES-256-GCM properties of `fuzz`'s documentation.
func checkAES256GCM(
  _ nettle: NettleCrypto, _ libcrypto: LibCrypto, key: [UInt8], nonce: [UInt8], associatedData: [UInt8],
  plaintext: [UInt8], choice: UInt8
) {
  let secretKey = SecretBytes(key), secretPlaintext = SecretBytes(plaintext)
  let sealed = (
    nettle.sealAES256GCM(key: secretKey, nonce: nonce, associatedData: associatedData, plaintext: secretPlaintext),
    libcrypto.sealAES256GCM(key: secretKey, nonce: nonce, associatedData: associatedData, plaintext: secretPlaintext)
  )
  require(
    sealed.0 == sealed.1,
    "AES-256-GCM differs: nettle \(String(describing: sealed.0)), libcrypto \(String(describing: sealed.1))")
  let sizesRight = key.count == 32 && nonce.count == 12
  require((sealed.0 != nil) == sizesRight, "AES-256-GCM sealed with a \(key.count)-byte key, \(nonce.count)-byte nonce")

  func opened(_ crypto: some CryptoProvider, _ blob: [UInt8], associatedData: [UInt8] = associatedData) -> [UInt8]? {
    crypto.openAES256GCM(key: secretKey, nonce: nonce, associatedData: associatedData, sealed: blob).map {
      $0.withUnsafeBytes { Array($0) }
    }
  }
  // Any bytes at all, as if they had been sealed: both providers open them alike.
  let forged = (opened(nettle, plaintext), opened(libcrypto, plaintext))
  require(
    forged.0 == forged.1,
    "AES-256-GCM opens differ: nettle \(String(describing: forged.0)), libcrypto \(String(describing: forged.1))")

  guard let blob = sealed.0 else { return }
  require(blob.count == plaintext.count + 16, "AES-256-GCM sealed \(plaintext.count) bytes into \(blob.count)")
  require(opened(libcrypto, blob) == plaintext, "libcrypto does not open what nettle sealed")
  require(opened(nettle, sealed.1 ?? []) == plaintext, "nettle does not open what libcrypto sealed")

  var changed = blob
  changed[Int(choice) % changed.count] ^= 1 << (choice % 8)
  require(opened(nettle, changed) == nil && opened(libcrypto, changed) == nil, "AES-256-GCM opened a changed blob")
  let longer = associatedData + [choice]
  require(
    opened(nettle, blob, associatedData: longer) == nil && opened(libcrypto, blob, associatedData: longer) == nil,
    "AES-256-GCM opened with other associated data")
}
