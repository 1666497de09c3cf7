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
/// message.
///
/// Properties: HMAC-SHA1, HMAC-SHA256 and HMAC-SHA512 give the same digest, of the algorithm's
/// length; PBKDF2-HMAC-SHA256 gives the same bytes at every length; `constantTimeEqual` gives
/// the same answer as plain comparison, for equal and unequal inputs.
func fuzz(_ input: UnsafeRawBufferPointer) {
  var reader = FuzzInput(input)
  let choice = reader.byte()
  let algorithm = [OTPAlgorithm.sha1, .sha256, .sha512][Int(choice % 3)]
  let key = reader.chunk()
  let salt = reader.chunk()
  let iterations = Int(reader.byte() % 64) + 1
  let length = Int(reader.byte() % 200) + 1
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
}
