import LockstepCore

/// Base32 text through the decoder that reads every secret (records, `--secret-file`,
/// google-authenticator files), and bytes through the encoder that writes them.
///
/// Properties: the decoder accepts exactly what RFC 4648's alphabet allows with the documented
/// forgiveness (either case, separators, trailing padding, a length whole bytes can give),
/// checked by an independent reading; encoding the decoded bytes gives the canonical text:
/// the input's symbols in upper case without separators or padding, up to the unused low bits
/// of the last symbol; and any bytes survive encoding and decoding.
func fuzz(_ input: UnsafeRawBufferPointer) {
  let decoded = Base32.decode(input).map { $0.withUnsafeBytes { Array($0) } }
  var symbols: [UInt8] = []
  var padded = false
  var valid = true
  for byte in input where byte != UInt8(ascii: " ") && byte != UInt8(ascii: "-") && byte != UInt8(ascii: "\t") {
    if byte == UInt8(ascii: "=") {
      padded = true
      continue
    }
    guard !padded, let value = symbolValue(byte) else {
      valid = false
      break
    }
    symbols.append(value)
  }
  let paddingCount = input.filter { $0 == UInt8(ascii: "=") }.count
  valid = valid && !symbols.isEmpty && ![1, 3, 6].contains(symbols.count % 8) && paddingCount < 8
  require((decoded != nil) == valid, "decode(\(Array(input))) gave \(String(describing: decoded))")

  if let decoded {
    require(decoded.count == symbols.count * 5 / 8, "\(symbols.count) symbols decoded to \(decoded.count) bytes")
    let canonical = Array(Base32.encode(decoded).utf8).map { symbolValue($0) ?? 0xff }
    require(canonical.count == symbols.count, "the canonical text has a different length")
    let unused = (symbols.count * 5) % 8
    for (index, (mine, theirs)) in zip(canonical, symbols).enumerated() {
      let mask: UInt8 = index == symbols.count - 1 ? ~UInt8((1 << unused) - 1) & 31 : 31
      require(mine & mask == theirs & mask, "symbol \(index) changed in the canonical text")
    }
  }

  let bytes = Array(input)
  let encoded = Base32.encode(bytes)
  require(
    encoded.utf8.allSatisfy { symbolValue($0) != nil && !($0 >= UInt8(ascii: "a")) }, "the encoder wrote a non-symbol")
  let back = Base32.decode(encoded).map { $0.withUnsafeBytes { Array($0) } }
  require(back == (bytes.isEmpty ? nil : bytes), "bytes did not survive encoding and decoding")
}

/// The value of a base32 symbol in either case, read from RFC 4648's table.
private func symbolValue(_ byte: UInt8) -> UInt8? {
  let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
  let upper = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
  return alphabet.firstIndex(of: upper).map(UInt8.init)
}
