/// Sealing of secrets at rest (a token's key, say) with AES-256-GCM: the one format both
/// providers read and write, so that what the CLI seals with libcrypto the module opens with
/// nettle, and the reverse.
///
/// A sealed blob is `nonce || ciphertext || tag`: a fresh random 12-byte nonce for every seal,
/// the ciphertext (as long as the plaintext), and the 16-byte tag. The tag also covers
/// `associatedData(user:version:)`, which names the user and the version of the record the
/// secret belongs to, so that a blob copied onto another user's record, or onto another
/// version of the same user's record (an old secret put back), does not open: what is sealed
/// is bound to where it is stored, not only kept from being read or changed.
///
/// Random 96-bit nonces keep the chance of one repeating under a key negligible for up to
/// about 2³² seals with that key (NIST SP 800-38D, section 8.3); a nonce that repeated would
/// reveal the XOR of two plaintexts and let tags be forged, so a key must not seal more.
public enum Sealing {
  /// The length of a key, in bytes: AES-256.
  public static let keyLength = 32
  /// The length of the nonce at the start of a sealed blob, in bytes.
  public static let nonceLength = 12
  /// The length of the tag at the end of a sealed blob, in bytes.
  public static let tagLength = 16
  /// The version a host's store seals its records' secrets under: always 0. Only root can
  /// write the store, so what the version guards against in a fleet's database (a row put
  /// back from an older copy by whoever can write the database) needs no guard there; the
  /// user name still binds each secret to its record.
  public static let storeVersion: UInt64 = 0

  /// The bytes the tag authenticates besides the plaintext: `lockstep-seal-v1`, a 0 byte, the
  /// user name's bytes (UTF-8, never a 0 byte: `UserName` refuses control characters, so the
  /// fields cannot run into each other), a 0 byte, and `version` as 8 bytes big-endian.
  public static func associatedData(user: UserName, version: UInt64) -> [UInt8] {
    var bytes = Array("lockstep-seal-v1".utf8)
    bytes.append(0)
    bytes.append(contentsOf: user.bytes)
    bytes.append(0)
    for shift in stride(from: 56, through: 0, by: -8) {
      bytes.append(UInt8(truncatingIfNeeded: version >> UInt64(shift)))
    }
    return bytes
  }

  /// `plaintext` sealed under `key` for `user`'s record at `version`: a fresh nonce from
  /// `crypto.randomBytes`, then the ciphertext and tag of `crypto.sealAES256GCM`. `nil` if the
  /// key does not have `keyLength` bytes, or randomness or the cipher failed.
  public static func seal(
    _ plaintext: SecretBytes, user: UserName, version: UInt64, key: SecretBytes, crypto: some CryptoProvider
  ) -> [UInt8]? {
    guard key.count == keyLength, let nonce = crypto.randomBytes(count: nonceLength), nonce.count == nonceLength,
      let sealed = crypto.sealAES256GCM(
        key: key, nonce: nonce, associatedData: associatedData(user: user, version: version), plaintext: plaintext)
    else { return nil }
    return nonce + sealed
  }

  /// The plaintext of a blob that `seal` made for `user`'s record at `version` under `key`;
  /// `nil` if the blob is shorter than a nonce and a tag, or its tag does not verify: another
  /// key, user or version, or any byte changed, added or cut off.
  public static func open(
    _ sealed: [UInt8], user: UserName, version: UInt64, key: SecretBytes, crypto: some CryptoProvider
  ) -> SecretBytes? {
    guard key.count == keyLength, sealed.count >= nonceLength + tagLength else { return nil }
    return crypto.openAES256GCM(
      key: key, nonce: Array(sealed[..<nonceLength]), associatedData: associatedData(user: user, version: version),
      sealed: Array(sealed[nonceLength...]))
  }
}
