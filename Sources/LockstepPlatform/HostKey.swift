internal import CLockstepSystem
public import LockstepCore

/// The host key, which seals the secrets of this host's store (`sealed-secret` in a record,
/// see `Sealing`): 32 random bytes in a file of root's alone, outside the store, so that a
/// copy of the store (a backup, a disk image) holds no usable secret without it.
///
/// It seals and opens through the crypto provider it was made with: the module's nettle, the
/// CLI's libcrypto.
public struct HostKey {
  /// Where the key is unless the module's `host_key=` or the CLI's `--host-key` says otherwise.
  public static let defaultPath = ModuleOptions.defaultHostKey

  /// Where it was read from, for messages.
  public let path: String
  private let sealing: (SecretBytes, UserName) -> [UInt8]?
  private let opening: ([UInt8], UserName) -> SecretBytes?
  private let digesting: (UnsafeRawBufferPointer, UserName) -> [UInt8]

  /// Reads the key at `path`, checked as root's alone and exactly `Sealing.keyLength` bytes;
  /// `nil` when there is no file there (a store that seals nothing).
  public init?<Crypto: CryptoProvider>(path: String, crypto: Crypto) throws(StoreError) {
    let key: SecretBytes
    do {
      key = try RootOnlyFile.read(path, limit: Sealing.keyLength)
    } catch {
      if case .system(_, let failure) = error, failure.code == ENOENT { return nil }
      throw error
    }
    guard key.count == Sealing.keyLength else {
      throw .unsafeRecord(
        path: path, reason: "a host key is \(Sealing.keyLength) random bytes, this file has \(key.count)")
    }
    self.path = path
    sealing = { Sealing.seal($0, user: $1, version: Sealing.storeVersion, key: key, crypto: crypto) }
    opening = { Sealing.open($0, user: $1, version: Sealing.storeVersion, key: key, crypto: crypto) }
    digesting = { SentCode.digest(of: $0, for: $1, hostKey: key, crypto: crypto) }
  }

  /// `secret` sealed for `user`'s record; `nil` if the random generator or the cipher failed.
  public func seal(_ secret: SecretBytes, for user: UserName) -> [UInt8]? { sealing(secret, user) }

  /// The secret of `user`'s record in clear; `nil` if `sealed` does not open under this key for
  /// this user.
  public func open(_ sealed: [UInt8], for user: UserName) -> SecretBytes? { opening(sealed, user) }

  /// The keyed hash under which a code sent to `user` is stored (`SentCode.digest`).
  public func digest(ofSentCode code: UnsafeRawBufferPointer, for user: UserName) -> [UInt8] { digesting(code, user) }
}
