import Foundation
import Testing

extension Login {
  /// What the login showed to take up an invitation: the QR code's lines and the key URI
  /// (`nil` when it showed none).
  var shownInvitation: (qr: [String], uri: String?) {
    guard let start = lines.firstIndex(where: { $0.hasPrefix("info Set up a one-time code") }),
      let end = lines.firstIndex(where: { $0.hasPrefix("info otpauth://") }), start + 1 < end
    else { return ([], nil) }
    let qr = lines[(start + 1)..<end].map { $0.hasPrefix("info ") ? String($0.dropFirst(5)) : $0 }
    return (qr, String(lines[end].dropFirst(5)))
  }

  /// The backup codes the login showed once the invitation was taken up.
  var shownBackupCodes: [String] { lines.filter { $0.count == 8 && $0.allSatisfy(\.isNumber) } }
}

/// The `secret=` of a key URI.
func secret(ofKeyURI uri: String) throws -> String {
  let query = try #require(URLComponents(string: uri)?.queryItems)
  return try #require(query.first { $0.name == "secret" }?.value)
}

/// The text of the QR code drawn in `lines`, decoded by zbarimg.
func decodedQR(_ lines: [String]) throws -> String {
  let decoded = try runCommand(
    StandIn.python, [StandIn.directory + "/qr-text.py"], input: lines.joined(separator: "\n"))
  return decoded.output.trimmingCharacters(in: .newlines)
}
