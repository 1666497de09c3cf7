import LockstepCore
import Testing

/// An invitation in the record format (`invited-until`, `invite-issuer`, `invite-qr`) and the
/// QR matrix it carries, with expected bytes worked out by hand.
@Suite("Invitations in records")
struct InvitationFormatTests {
  static let header = """
    lockstep-record 1
    kind totp
    algorithm SHA1
    digits 6
    secret JBSWY3DPEHPK3PXP

    """

  /// A 21 × 21 matrix with only its first module dark, and its encoding: the width (0x15),
  /// then 441 bits, eight to a byte (56 bytes, the last padded): 0x80 and 55 zero bytes.
  static let corner = QRMatrix(width: 21, modules: [true] + Array(repeating: false, count: 440))
  static let cornerHex = "1580" + String(repeating: "00", count: 55)

  @Test func aMatrixIsEncodedWidthFirstHighBitFirst() throws {
    let corner = try #require(Self.corner)
    #expect(Hex.encode(corner.encoded) == Self.cornerHex)
    #expect(QRMatrix(encoded: corner.encoded) == corner)
    // A set padding bit, a wrong length, a width no QR code has: refused.
    var padded = corner.encoded
    padded[padded.count - 1] = 0x01
    #expect(QRMatrix(encoded: padded) == nil)
    #expect(QRMatrix(encoded: Array(corner.encoded.dropLast())) == nil)
    #expect(QRMatrix(width: 22, modules: Array(repeating: false, count: 484)) == nil)
  }

  @Test func anInvitationParsesAndIsWrittenBackTheSame() throws {
    let text = Self.header + "invited-until 1770000000\ninvite-issuer Lockstep Test\ninvite-qr \(Self.cornerHex)\n"
    let record = try parse(text).get()
    let invitation = try #require(record.invitation)
    #expect(invitation.expires == 1_770_000_000)
    #expect(invitation.issuer == "Lockstep Test")
    #expect(invitation.qr == Self.corner)
    #expect(invitation.isOpen(at: 1_769_999_999) && !invitation.isOpen(at: 1_770_000_000))
    let written = String(decoding: bytes(of: RecordFormat.serialize(record)), as: UTF8.self)
    #expect(written.contains("\ninvited-until 1770000000\ninvite-issuer Lockstep Test\ninvite-qr \(Self.cornerHex)\n"))
    #expect(try parse(written).get().invitation == invitation)
  }

  @Test(
    "malformed invitations are refused",
    arguments: [
      ("invite-qr \(cornerHex)\n", "'invite-issuer' and 'invite-qr' go with 'invited-until'"),
      ("invited-until 1770000000\n", "an invitation needs a QR code ('invite-qr' or 'sealed-invite-qr')"),
      ("invited-until 1770000000\ninvite-qr 15\n", "an invitation needs a QR code ('invite-qr' or 'sealed-invite-qr')"),
      (
        "invited-until 1770000000\ninvite-issuer a\u{7}b\ninvite-qr \(cornerHex)\n", "invalid value for 'invite-issuer'"
      ),
    ])
  func malformed(extra: String, reason: String) {
    guard case .failure(let error) = parse(Self.header + extra) else {
      Issue.record("accepted: \(extra)")
      return
    }
    #expect(error.reason == reason)
  }

  @Test func aDeliveredRecordTakesNoInvitation() {
    let text = """
      lockstep-record 1
      kind delivered
      algorithm SHA1
      digits 6
      email alice@example.com
      invited-until 1770000000
      invite-qr \(Self.cornerHex)

      """
    guard case .failure(let error) = parse(text) else {
      Issue.record("accepted")
      return
    }
    #expect(error.reason == "a 'delivered' record takes no invitation")
  }
}
