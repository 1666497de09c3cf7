/// Single-use backup codes as the store keeps them: PBKDF2-HMAC-SHA-256 hashes under one
/// per-user random salt, so that a stolen store does not reveal the codes and checking a
/// typed code costs one slow hash however many codes are left.
public struct BackupCodeHashes: Equatable, Sendable {
  /// The length of every backup code, in decimal digits (the same as google-authenticator's
  /// scratch codes, so that they can be imported).
  public static let codeLength = 8
  /// The PBKDF2 iteration count for newly issued codes.
  public static let defaultIterations = 50_000
  /// The length of each stored hash in bytes.
  public static let hashLength = 32
  /// The most codes one record may hold.
  public static let maximumCount = 100
  /// How many codes a new enrollment gets (`lockstep enroll`, `backup-codes`, an invitation
  /// taken up).
  public static let defaultCount = 10

  /// PBKDF2 iterations used for every hash in this set.
  public var iterations: Int
  /// The per-user salt.
  public var salt: [UInt8]
  /// One hash per unused code.
  public var hashes: [[UInt8]]

  /// An empty set: the user has no backup codes.
  public static let none = BackupCodeHashes(iterations: defaultIterations, salt: [], hashes: [])

  public init(iterations: Int, salt: [UInt8], hashes: [[UInt8]]) {
    self.iterations = iterations
    self.salt = salt
    self.hashes = hashes
  }

  /// Whether `candidate` has the shape of a backup code: exactly `codeLength` ASCII digits.
  public static func isWellFormed(_ candidate: UnsafeRawBufferPointer) -> Bool {
    candidate.count == codeLength
      && candidate.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
  }

  /// The hash of `code` under this set's salt and iteration count.
  public func hash(of code: UnsafeRawBufferPointer, crypto: some CryptoProvider) -> [UInt8]? {
    crypto.pbkdf2SHA256(password: code, salt: salt, iterations: iterations, length: Self.hashLength)
  }

  /// The hash of the backup code in `attempt` under this set's salt, to be computed before the
  /// user's lock is taken (the slow hash never holds the lock); `nil` when the set is empty or
  /// the attempt holds no backup code.
  public func digest(of attempt: Attempt, crypto: some CryptoProvider) -> BackupCodeDigest? {
    guard !hashes.isEmpty, let candidate = attempt.backupCode,
      candidate.withUnsafeBytes({ Self.isWellFormed($0) }),
      let hash = candidate.withUnsafeBytes({ self.hash(of: $0, crypto: crypto) })
    else { return nil }
    return BackupCodeDigest(salt: salt, iterations: iterations, hash: hash)
  }

  /// Hashes freshly generated `codes` under a new random salt.
  public static func issue(
    codes: [[UInt8]], iterations: Int = defaultIterations, crypto: some CryptoProvider
  ) -> BackupCodeHashes? {
    guard let salt = crypto.randomBytes(count: 16) else { return nil }
    var set = BackupCodeHashes(iterations: iterations, salt: salt, hashes: [])
    for code in codes {
      guard let hash = code.withUnsafeBytes({ set.hash(of: $0, crypto: crypto) }) else { return nil }
      set.hashes.append(hash)
    }
    return set
  }

  /// `count` new random backup codes of `codeLength` digits each, drawn without modulo bias.
  public static func generateCodes(count: Int, crypto: some CryptoProvider) -> [[UInt8]]? {
    var codes: [[UInt8]] = []
    while codes.count < count {
      var code: [UInt8] = []
      while code.count < codeLength {
        guard let random = crypto.randomBytes(count: 16) else { return nil }
        // 250 is the largest multiple of 10 that fits a byte: reject above it.
        for byte in random where byte < 250 && code.count < codeLength {
          code.append(UInt8(ascii: "0") + byte % 10)
        }
      }
      if !codes.contains(code) { codes.append(code) }
    }
    return codes
  }
}

/// A typed backup code, hashed under one set's salt and iteration count. It is good for any
/// set with the same salt and count: the set read under the lock, when the codes were not
/// replaced in the meantime.
public struct BackupCodeDigest: Sendable {
  /// The salt it was hashed under.
  public let salt: [UInt8]
  /// The PBKDF2 iteration count it was hashed with.
  public let iterations: Int
  /// The hash.
  public let hash: [UInt8]

  /// Whether this digest was made under `set`'s salt and iteration count.
  public func applies(to set: BackupCodeHashes) -> Bool {
    salt == set.salt && iterations == set.iterations
  }
}
