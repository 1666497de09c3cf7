import LockstepCore
import LockstepLibCrypto
import LockstepNettle
import Testing

/// The two implementations of the core's primitives: nettle, which the module uses, and
/// libcrypto, which the CLI uses. Each is held to the RFC vectors and the GCM specification's
/// on its own (the fuzz target `crypto-providers` compares them with each other on any input).
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

/// An AES-256-GCM test case of the GCM specification (McGrew and Viega, "The Galois/Counter
/// Mode of Operation", appendix B), in hexadecimal.
struct GCMVector: Sendable, CustomTestStringConvertible {
  var number: Int
  var key: String
  var nonce: String
  var associatedData: String
  var plaintext: String
  var ciphertext: String
  var tag: String

  var testDescription: String { "test case \(number)" }

  /// Test cases 13 to 16, those with a 256-bit key and a 96-bit IV.
  static let all = [
    GCMVector(
      number: 13, key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 12),
      associatedData: "", plaintext: "", ciphertext: "", tag: "530f8afbc74536b9a963b4f1c4cb738b"),
    GCMVector(
      number: 14, key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 12),
      associatedData: "", plaintext: String(repeating: "00", count: 16), ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
      tag: "d0d1c8a799996bf0265b98b5d48ab919"),
    GCMVector(
      number: 15, key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
      nonce: "cafebabefacedbaddecaf888", associatedData: "",
      plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
      ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
      tag: "b094dac5d93471bdec1a502270e3cc6c"),
    GCMVector(
      number: 16, key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
      nonce: "cafebabefacedbaddecaf888", associatedData: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
      ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
      tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
  ]
}

/// Bytes with one bit changed: bit `bit` of byte `index`.
func flippingBit(_ bytes: [UInt8], at index: Int, bit: Int = 0) -> [UInt8] {
  var changed = bytes
  changed[index] ^= 1 << UInt8(bit)
  return changed
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

  @Test("AES-256-GCM seals as the GCM specification's test cases", arguments: Provider.allCases, GCMVector.all)
  func gcmSeal(provider: Provider, vector: GCMVector) throws {
    let sealed = try #require(
      provider.crypto.sealAES256GCM(
        key: SecretBytes(hexBytes(vector.key)), nonce: hexBytes(vector.nonce),
        associatedData: hexBytes(vector.associatedData), plaintext: SecretBytes(hexBytes(vector.plaintext))))
    #expect(hexString(sealed) == vector.ciphertext + vector.tag)
  }

  @Test("AES-256-GCM opens the GCM specification's test cases", arguments: Provider.allCases, GCMVector.all)
  func gcmOpen(provider: Provider, vector: GCMVector) throws {
    let opened = try #require(
      provider.crypto.openAES256GCM(
        key: SecretBytes(hexBytes(vector.key)), nonce: hexBytes(vector.nonce),
        associatedData: hexBytes(vector.associatedData), sealed: hexBytes(vector.ciphertext + vector.tag)))
    #expect(hexString(bytes(of: opened)) == vector.plaintext)
  }

  @Test(
    "AES-256-GCM refuses a changed ciphertext, tag, associated data, key or nonce",
    arguments: Provider.allCases, GCMVector.all)
  func gcmTampered(provider: Provider, vector: GCMVector) {
    let crypto = provider.crypto
    let key = hexBytes(vector.key), nonce = hexBytes(vector.nonce), associatedData = hexBytes(vector.associatedData)
    let sealed = hexBytes(vector.ciphertext + vector.tag)
    func opens(
      key: [UInt8] = key, nonce: [UInt8] = nonce, associatedData: [UInt8] = associatedData, _ sealed: [UInt8]
    )
      -> Bool
    {
      crypto.openAES256GCM(key: SecretBytes(key), nonce: nonce, associatedData: associatedData, sealed: sealed) != nil
    }
    #expect(opens(sealed))
    // Every bit of the ciphertext and the tag.
    for index in sealed.indices {
      for bit in 0..<8 {
        #expect(!opens(flippingBit(sealed, at: index, bit: bit)), "byte \(index) bit \(bit)")
      }
    }
    for index in associatedData.indices {
      #expect(!opens(associatedData: flippingBit(associatedData, at: index, bit: index % 8), sealed), "AD \(index)")
    }
    #expect(!opens(associatedData: associatedData + [0], sealed))
    if !associatedData.isEmpty { #expect(!opens(associatedData: Array(associatedData.dropLast()), sealed)) }
    #expect(!opens(key: flippingBit(key, at: 31, bit: 7), sealed))
    #expect(!opens(nonce: flippingBit(nonce, at: 0), sealed))
    #expect(!opens(sealed + [0]))
    #expect(!opens(Array(sealed.dropLast())))
    #expect(!opens(Array(sealed.dropFirst())))
  }

  @Test("AES-256-GCM refuses keys other than 32 bytes and nonces other than 12", arguments: Provider.allCases)
  func gcmSizes(provider: Provider) throws {
    let crypto = provider.crypto
    let plaintext = SecretBytes(utf8("a secret"))
    let sealed = try #require(
      crypto.sealAES256GCM(
        key: SecretBytes(count: 32), nonce: [UInt8](repeating: 0, count: 12), associatedData: [],
        plaintext: plaintext))
    #expect(sealed.count == plaintext.count + 16)
    for keyLength in [0, 1, 16, 24, 31, 33, 64] {
      let key = SecretBytes(count: keyLength)
      let nonce = [UInt8](repeating: 0, count: 12)
      #expect(crypto.sealAES256GCM(key: key, nonce: nonce, associatedData: [], plaintext: plaintext) == nil)
      #expect(crypto.openAES256GCM(key: key, nonce: nonce, associatedData: [], sealed: sealed) == nil)
    }
    for nonceLength in [0, 1, 8, 11, 13, 16, 64] {
      let key = SecretBytes(count: 32)
      let nonce = [UInt8](repeating: 0, count: nonceLength)
      #expect(crypto.sealAES256GCM(key: key, nonce: nonce, associatedData: [], plaintext: plaintext) == nil)
      #expect(crypto.openAES256GCM(key: key, nonce: nonce, associatedData: [], sealed: sealed) == nil)
    }
    // Shorter than a tag: nothing to verify.
    for length in 0..<16 {
      #expect(
        crypto.openAES256GCM(
          key: SecretBytes(count: 32), nonce: [UInt8](repeating: 0, count: 12), associatedData: [],
          sealed: [UInt8](repeating: 0, count: length)) == nil)
    }
  }
}

/// `NoHMAC` (VerifierTests.swift) seals with libcrypto: the verifier never seals, but a
/// `CryptoProvider` must.
extension NoHMAC {
  func sealAES256GCM(key: SecretBytes, nonce: [UInt8], associatedData: [UInt8], plaintext: SecretBytes) -> [UInt8]? {
    libCrypto.sealAES256GCM(key: key, nonce: nonce, associatedData: associatedData, plaintext: plaintext)
  }

  func openAES256GCM(key: SecretBytes, nonce: [UInt8], associatedData: [UInt8], sealed: [UInt8]) -> SecretBytes? {
    libCrypto.openAES256GCM(key: key, nonce: nonce, associatedData: associatedData, sealed: sealed)
  }
}
