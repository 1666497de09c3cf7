/// An enrollment waiting for its user, made by `lockstep invite`: the user's record holds the
/// new secret (sealed like any), and this. At the user's next login through a stack whose
/// module has the `invitations` argument, the module shows the QR code and the key URI, asks
/// for the first code, and on a right one makes the record a plain enrollment with new backup
/// codes (see `Store.takeUp`). Until then the user counts as not enrolled everywhere else.
public struct Invitation: Equatable, Sendable {
  /// Unix time the invitation stops working.
  public var expires: Int64
  /// The issuer the app shows beside the account (`lockstep invite --issuer`; empty for none).
  public var issuer: String
  /// The QR code of the key URI, made when the invitation was (the module has no QR encoder).
  /// It holds the secret, so it is sealed in a sealed store, as the secret is.
  public var qr: QRMatrix

  /// The longest issuer, in bytes.
  public static let longestIssuer = 100

  public init(expires: Int64, issuer: String, qr: QRMatrix) {
    self.expires = expires
    self.issuer = issuer
    self.qr = qr
  }

  /// Whether it still works at `now`.
  public func isOpen(at now: Int64) -> Bool { now < expires }

  /// Whether `issuer` can be an invitation's: at most `longestIssuer` bytes of text with no
  /// control characters.
  public static func isValidIssuer(_ issuer: String) -> Bool {
    issuer.utf8.count <= longestIssuer && !issuer.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
  }
}

/// What a login shows to take up an invitation: the key URI and its QR code, made from the
/// record by whoever holds it (the module for a host's store, the agent for its own). Both hold
/// the secret.
public struct InvitationCard {
  /// The `otpauth://` URI (`KeyURI`), for a user who types it in.
  public var uri: String
  /// Its QR code, drawn when the invitation was made.
  public var qr: QRMatrix

  public init(uri: String, qr: QRMatrix) {
    self.uri = uri
    self.qr = qr
  }
}

extension Invitation {
  /// The card of this invitation, held by `record`, for `user`.
  public func card(for user: UserName, of record: UserRecord) -> InvitationCard {
    let uri = KeyURI.make(
      secret: record.secret, parameters: record.parameters, issuer: issuer,
      label: String(decoding: user.bytes, as: UTF8.self), counter: record.counter)
    return InvitationCard(uri: uri, qr: qr)
  }
}

extension UserRecord {
  /// The card of this record's invitation for `user`, or `nil` when the record is none.
  public func invitationCard(for user: UserName) -> InvitationCard? {
    invitation?.card(for: user, of: self)
  }
}

/// The backup codes an invitation's take-up gives its user: in clear, to be shown once, and
/// hashed, to be stored.
public struct IssuedBackupCodes: Sendable {
  public var codes: [[UInt8]]
  public var hashes: BackupCodeHashes

  /// None: for a first code that would not be accepted.
  public static let none = IssuedBackupCodes(codes: [], hashes: .none)
}

extension Verifier {
  /// The backup codes a take-up of `record`'s invitation with `attempt` stores: new ones, made
  /// and hashed (PBKDF2, tens of milliseconds) before any lock is taken, and only when the code
  /// would be accepted at `now`, so that a wrong code costs no hashing. `none` for a code that
  /// would not be: the check under the lock refuses it, or, accepting it after all, enrolls the
  /// user without backup codes. `nil` when randomness failed.
  public func backupCodes(forTakingUp record: UserRecord, with attempt: Attempt, now: Int64) -> IssuedBackupCodes? {
    guard case .accepted = verify(Attempt(code: attempt.code), against: record, now: now, backupDigest: nil).outcome
    else { return IssuedBackupCodes.none }
    guard let codes = BackupCodeHashes.generateCodes(count: BackupCodeHashes.defaultCount, crypto: crypto),
      let hashes = BackupCodeHashes.issue(codes: codes, crypto: crypto)
    else { return nil }
    return IssuedBackupCodes(codes: codes, hashes: hashes)
  }
}
