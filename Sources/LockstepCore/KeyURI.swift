/// An `otpauth://` URI in the Key URI format that authenticator apps read from QR codes:
/// `otpauth://totp/ISSUER:LABEL?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`.
///
/// The issuer appears both in front of the label and as a parameter, as the format recommends.
/// Everything but RFC 3986's unreserved characters is percent-encoded as UTF-8, so issuers and
/// labels may contain spaces, colons and any Unicode. The CLI shows it at enrollment, and the
/// module at a login that takes up an invitation.
public enum KeyURI {
  /// The URI for `secret` with `parameters`; `issuer` may be empty (then it is left out);
  /// `counter` is the HOTP counter the app should start at.
  public static func make(
    secret: SecretBytes, parameters p: TokenParameters, issuer: String, label: String, counter: UInt64 = 0
  ) -> String {
    let name = issuer.isEmpty ? percentEncoded(label) : percentEncoded(issuer) + ":" + percentEncoded(label)
    var query = "secret=" + secret.withUnsafeBytes { Base32.encode($0) }
    if !issuer.isEmpty { query += "&issuer=" + percentEncoded(issuer) }
    query += "&algorithm=\(p.algorithm.rawValue)&digits=\(p.digits)"
    switch p.kind {
    case .totp: query += "&period=\(p.period)"
    case .hotp: query += "&counter=\(counter)"
    case .delivered: break  // Never asked for: such a user has no app.
    }
    return "otpauth://\(p.kind.rawValue)/\(name)?\(query)"
  }

  /// `text` with every byte outside RFC 3986's unreserved set percent-encoded.
  public static func percentEncoded(_ text: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
        UInt8(ascii: "~"):
        out.append(byte)
      default:
        out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
