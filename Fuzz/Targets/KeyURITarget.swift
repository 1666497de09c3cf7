import LockstepCore

/// Issuers, labels, secrets and parameters through the `otpauth://` URI the CLI shows as a QR
/// code at enrollment. Lockstep writes these URIs and never reads them, so this target reads
/// each one back with an independent parser of the Key URI format.
///
/// Input: a byte choosing the token type, algorithm and digits; the period; the HOTP counter;
/// the issuer and the label (each a length byte and its bytes, as UTF-8); the secret.
///
/// Properties: the URI is plain ASCII with every byte outside RFC 3986's unreserved set
/// percent-encoded; its path is the issuer and label, split at the only unencoded `:`; its
/// query names each parameter once, and the secret, issuer, algorithm, digits and period (or
/// counter) read from it are the ones given.
func fuzz(_ input: UnsafeRawBufferPointer) {
  var reader = FuzzInput(input)
  let (parameters, _) = reader.tokenParameters()
  let (kind, algorithm, digits, period) = (parameters.kind, parameters.algorithm, parameters.digits, parameters.period)
  let counter = reader.integer(UInt64.self)
  let issuer = String(decoding: reader.chunk(), as: UTF8.self)
  let label = String(decoding: reader.chunk(), as: UTF8.self)
  var secret = reader.rest()
  if secret.isEmpty { secret = [0] }
  let uri = KeyURI.make(
    secret: SecretBytes(secret), parameters: parameters, issuer: issuer, label: label, counter: counter)

  let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%:/?&=".utf8)
  require(uri.utf8.allSatisfy(allowed.contains), "a byte that needs encoding: \(uri)")
  let prefix = "otpauth://\(kind.rawValue)/"
  require(uri.hasPrefix(prefix), "not an otpauth URI of type \(kind): \(uri)")
  let rest = uri.dropFirst(prefix.count).split(separator: "?", omittingEmptySubsequences: false)
  require(rest.count == 2, "not one path and one query: \(uri)")

  let name = rest[0].split(separator: ":", omittingEmptySubsequences: false)
  if issuer.isEmpty {
    require(name.count == 1 && percentDecoded(name[0]) == Array(label.utf8), "the label did not survive: \(uri)")
  } else {
    require(name.count == 2, "the issuer and label are not split by one ':': \(uri)")
    require(percentDecoded(name[0]) == Array(issuer.utf8), "the issuer in the path did not survive: \(uri)")
    require(percentDecoded(name[1]) == Array(label.utf8), "the label did not survive: \(uri)")
  }

  var query: [String: Substring] = [:]
  for pair in rest[1].split(separator: "&", omittingEmptySubsequences: false) {
    let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
    require(parts.count == 2 && query[String(parts[0])] == nil, "a bad or repeated parameter '\(pair)': \(uri)")
    query[String(parts[0])] = parts[1]
  }
  let decodedSecret = query["secret"].flatMap { Base32.decode(String($0)) }
  require(decodedSecret.map { $0.withUnsafeBytes { Array($0) } } == secret, "the secret did not survive: \(uri)")
  require(query["issuer"].map(percentDecoded) == (issuer.isEmpty ? nil : Array(issuer.utf8)), "issuer: \(uri)")
  require(query["algorithm"] == Substring(algorithm.rawValue), "algorithm: \(uri)")
  require(query["digits"] == Substring(String(digits)), "digits: \(uri)")
  switch kind {
  case .totp:
    require(query["period"] == Substring(String(period)) && query["counter"] == nil, "period: \(uri)")
  case .hotp:
    require(query["counter"] == Substring(String(counter)) && query["period"] == nil, "counter: \(uri)")
  case .delivered: require(false, "a URI was made for a user without an app: \(uri)")
  }
  require(query.count == (issuer.isEmpty ? 4 : 5), "unexpected parameters: \(uri)")
}

/// The bytes of percent-encoded `text`; a `%` must be followed by two upper-case hex digits.
private func percentDecoded(_ text: Substring) -> [UInt8] {
  let hex = Array("0123456789ABCDEF".utf8)
  var out: [UInt8] = []
  var bytes = text.utf8[...]
  while let byte = bytes.popFirst() {
    guard byte == UInt8(ascii: "%") else {
      out.append(byte)
      continue
    }
    let high = bytes.popFirst().flatMap { hex.firstIndex(of: $0) }
    let low = bytes.popFirst().flatMap { hex.firstIndex(of: $0) }
    require(high != nil && low != nil, "a '%' not followed by two hex digits in \(text)")
    out.append(UInt8((high ?? 0) << 4 | (low ?? 0)))
  }
  return out
}
