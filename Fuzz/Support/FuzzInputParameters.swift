import LockstepCore

extension FuzzInput {
  /// Token parameters within the supported ranges: one byte chooses the type (bit 0), the
  /// algorithm (bits 1–2) and the digits (bits 3–4), then four bytes the period. Returns the
  /// choice byte's three top bits as well, for the target's own use.
  mutating func tokenParameters() -> (parameters: TokenParameters, spare: UInt8) {
    let choice = byte()
    let kind: TokenKind = choice & 1 == 0 ? .totp : .hotp
    let algorithm = OTPAlgorithm.allCases[Int(choice >> 1 & 3) % 3]
    let digits = 6 + Int(choice >> 3 & 3) % 3
    let period = 1 + Int(integer(UInt32.self) % UInt32(TokenParameters.periodRange.upperBound))
    return (TokenParameters(kind: kind, algorithm: algorithm, digits: digits, period: period), choice >> 5)
  }
}
