import LockstepCore
import Testing

/// The RFC 4226 / RFC 6238 seeds: "1234567890" repeated to the digest length.
let rfcSeedSHA1 = "12345678901234567890"
let rfcSeedSHA256 = "12345678901234567890123456789012"
let rfcSeedSHA512 = "1234567890123456789012345678901234567890123456789012345678901234"

/// RFC 4226 Appendix D: the HOTP values for counters 0 to 9 under `rfcSeedSHA1`.
let rfc4226Codes = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

/// One row of RFC 6238 Appendix B.
struct TOTPVector: Sendable, CustomTestStringConvertible {
  var time: Int64
  var step: Int64
  var algorithm: OTPAlgorithm
  var code: String

  var seed: String {
    switch algorithm {
    case .sha1: rfcSeedSHA1
    case .sha256: rfcSeedSHA256
    case .sha512: rfcSeedSHA512
    }
  }

  var testDescription: String { "\(algorithm.rawValue) at \(time)" }
}

/// RFC 6238 Appendix B, with the time steps as the RFC lists them (in hexadecimal).
let rfc6238Rows: [(Int64, Int64, String, String, String)] = [
  (59, 0x1, "94287082", "46119246", "90693936"),
  (1_111_111_109, 0x23523EC, "07081804", "68084774", "25091201"),
  (1_111_111_111, 0x23523ED, "14050471", "67062674", "99943326"),
  (1_234_567_890, 0x273EF07, "89005924", "91819424", "93441116"),
  (2_000_000_000, 0x3F940AA, "69279037", "90698825", "38618901"),
  (20_000_000_000, 0x27BC86AA, "65353130", "77737706", "47863826"),
]

let rfc6238Vectors: [TOTPVector] = rfc6238Rows.flatMap { row in
  [
    TOTPVector(time: row.0, step: row.1, algorithm: .sha1, code: row.2),
    TOTPVector(time: row.0, step: row.1, algorithm: .sha256, code: row.3),
    TOTPVector(time: row.0, step: row.1, algorithm: .sha512, code: row.4),
  ]
}

@Suite("OneTimePassword")
struct OneTimePasswordTests {
  @Test("RFC 4226 Appendix D HOTP values", arguments: Array(rfc4226Codes.enumerated()))
  func rfc4226(counter: Int, expected: String) {
    let secret = secretBytes(rfcSeedSHA1)
    for provider in Provider.allCases {
      let text = OneTimePassword.text(
        secret: secret, counter: UInt64(counter), algorithm: .sha1, digits: 6, crypto: provider.crypto)
      #expect(String(decoding: text ?? [], as: UTF8.self) == expected, "\(provider)")
      let code = OneTimePassword.code(
        secret: secret, counter: UInt64(counter), algorithm: .sha1, digits: 6, crypto: provider.crypto)
      #expect(code == UInt32(expected), "\(provider)")
    }
  }

  @Test("RFC 6238 Appendix B TOTP values", arguments: rfc6238Vectors)
  func rfc6238(vector: TOTPVector) {
    let parameters = TokenParameters(kind: .totp, algorithm: vector.algorithm, digits: 8, period: 30)
    let step = parameters.timeStep(at: vector.time)
    #expect(step == vector.step)
    for provider in Provider.allCases {
      let text = OneTimePassword.text(
        secret: secretBytes(vector.seed), counter: UInt64(vector.step), algorithm: vector.algorithm, digits: 8,
        crypto: provider.crypto)
      #expect(String(decoding: text ?? [], as: UTF8.self) == vector.code, "\(provider)")
    }
  }

  @Test("fewer digits are the low digits of the same truncated value")
  func fewerDigits() {
    // RFC 6238 at time 59 (step 1) with SHA1 is 94287082; RFC 4226 counter 1 is 287082.
    let secret = secretBytes(rfcSeedSHA1)
    let expected = [6: "287082", 7: "4287082", 8: "94287082"]
    for (digits, code) in expected {
      let text = OneTimePassword.text(secret: secret, counter: 1, algorithm: .sha1, digits: digits, crypto: libCrypto)
      #expect(String(decoding: text ?? [], as: UTF8.self) == code)
    }
  }

  @Test(
    "digitsText pads with zeros on the left",
    arguments: [
      (UInt32(0), 6, "000000"), (7, 6, "000007"), (42, 8, "00000042"), (123_456, 6, "123456"),
      (81_804, 8, "00081804"), (99_999_999, 8, "99999999"), (5, 1, "5"),
    ])
  func digitsText(value: UInt32, width: Int, expected: String) {
    #expect(String(decoding: OneTimePassword.digitsText(value, width: width), as: UTF8.self) == expected)
  }

  @Test(
    "timeStep is floor division by the period",
    arguments: [
      (Int64(0), 30, Int64(0)), (29, 30, 0), (30, 30, 1), (59, 30, 1), (60, 30, 2),
      (-1, 30, -1), (-30, 30, -1), (-31, 30, -2), (1_111_111_109, 30, 0x23523EC), (100, 1, 100),
      (86_399, 86_400, 0), (86_400, 86_400, 1),
    ])
  func timeStep(time: Int64, period: Int, expected: Int64) {
    let parameters = TokenParameters(kind: .totp, algorithm: .sha1, digits: 6, period: period)
    #expect(parameters.timeStep(at: time) == expected)
  }

  @Test("TokenParameters validity follows the documented ranges")
  func parameterValidity() {
    #expect(TokenParameters.standard == TokenParameters(kind: .totp, algorithm: .sha1, digits: 6, period: 30))
    #expect(TokenParameters.standard.isValid)
    for digits in [6, 7, 8] {
      #expect(TokenParameters(kind: .totp, algorithm: .sha1, digits: digits, period: 30).isValid)
    }
    for digits in [0, 5, 9, 10] {
      #expect(!TokenParameters(kind: .totp, algorithm: .sha1, digits: digits, period: 30).isValid)
    }
    for period in [1, 86_400] {
      #expect(TokenParameters(kind: .hotp, algorithm: .sha256, digits: 6, period: period).isValid)
    }
    for period in [0, -30, 86_401] {
      #expect(!TokenParameters(kind: .hotp, algorithm: .sha256, digits: 6, period: period).isValid)
    }
  }

  @Test(
    "OTPAlgorithm names parse in any case, with or without a hyphen",
    arguments: [
      ("SHA1", OTPAlgorithm.sha1), ("sha1", .sha1), ("SHA-1", .sha1), ("sha256", .sha256), ("Sha-256", .sha256),
      ("SHA512", .sha512), ("sha-512", .sha512),
    ])
  func algorithmNames(name: String, expected: OTPAlgorithm) {
    #expect(OTPAlgorithm(name: name) == expected)
  }

  @Test("unknown algorithm names are refused", arguments: ["md5", "sha384", "", "sha 1", "sha2"])
  func unknownAlgorithmNames(name: String) {
    #expect(OTPAlgorithm(name: name) == nil)
  }

  @Test("digest lengths", arguments: [(OTPAlgorithm.sha1, 20), (.sha256, 32), (.sha512, 64)])
  func digestLengths(algorithm: OTPAlgorithm, length: Int) {
    #expect(algorithm.digestLength == length)
  }
}
