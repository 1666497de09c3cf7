import LockstepCore
import LockstepLibCrypto
import LockstepNettle
import Testing

/// The two implementations of the core's primitives: nettle, which the module uses, and
/// libcrypto, which the CLI uses. Each is held to the RFC vectors on its own (the fuzz target
/// `crypto-providers` compares them with each other on any input).
enum Provider: String, CaseIterable, CustomTestStringConvertible {
  case nettle, libcrypto

  var crypto: any CryptoProvider {
    switch self {
    case .nettle: NettleCrypto()
    case .libcrypto: LibCrypto()
    }
  }

  var testDescription: String { rawValue }
}

@Suite("Crypto providers")
struct CryptoProviderTests {
  @Test(
    "HMAC matches RFC 2202 / RFC 4231 test case 2",
    arguments: [
      (OTPAlgorithm.sha1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
      (.sha256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
      (
        .sha512,
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
      ),
    ])
  func hmac(algorithm: OTPAlgorithm, expected: String) {
    for provider in Provider.allCases {
      let digest = utf8("Jefe").withUnsafeBytes { key in
        utf8("what do ya want for nothing?").withUnsafeBytes { provider.crypto.hmac(algorithm, key: key, message: $0) }
      }
      #expect(hexString(digest) == expected, "\(provider)")
      #expect(digest.count == algorithm.digestLength, "\(provider)")
    }
  }

  @Test("PBKDF2-HMAC-SHA-256 matches RFC 7914 section 11", arguments: Provider.allCases)
  func pbkdf2(provider: Provider) {
    let crypto = provider.crypto
    let short = utf8("passwd").withUnsafeBytes {
      crypto.pbkdf2SHA256(password: $0, salt: utf8("salt"), iterations: 1, length: 64)
    }
    #expect(
      short.map(hexString)
        == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    let long = utf8("Password").withUnsafeBytes {
      crypto.pbkdf2SHA256(password: $0, salt: utf8("NaCl"), iterations: 80_000, length: 64)
    }
    #expect(
      long.map(hexString)
        == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        + "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
  }

  @Test("PBKDF2 refuses zero iterations and zero length", arguments: Provider.allCases)
  func pbkdf2Refuses(provider: Provider) {
    let crypto = provider.crypto
    utf8("passwd").withUnsafeBytes { password in
      #expect(crypto.pbkdf2SHA256(password: password, salt: utf8("salt"), iterations: 0, length: 32) == nil)
      #expect(crypto.pbkdf2SHA256(password: password, salt: utf8("salt"), iterations: 1, length: 0) == nil)
    }
  }

  @Test("random bytes have the requested length and differ between calls", arguments: Provider.allCases)
  func random(provider: Provider) throws {
    let crypto = provider.crypto
    let a = try #require(crypto.randomBytes(count: 32))
    let b = try #require(crypto.randomBytes(count: 32))
    #expect(a.count == 32)
    #expect(a != b)
    #expect(crypto.randomBytes(count: 0) == [])
  }

  @Test(
    "constantTimeEqual compares contents and lengths",
    arguments: [
      ("123456", "123456", true), ("123456", "123457", false), ("123456", "12345", false), ("", "", true),
      ("", "1", false), ("a", "b", false),
    ])
  func constantTimeEqual(a: String, b: String, expected: Bool) {
    for provider in Provider.allCases {
      let equal = utf8(a).withUnsafeBytes { x in utf8(b).withUnsafeBytes { provider.crypto.constantTimeEqual(x, $0) } }
      #expect(equal == expected, "\(provider)")
    }
  }
}
