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
