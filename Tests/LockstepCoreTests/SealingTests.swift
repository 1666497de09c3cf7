import LockstepCore
import Testing

extension Provider {
  /// `Sealing.seal` with this provider (the call opens the existential `crypto`, which the
  /// testing macros' expansions cannot).
  func seal(_ plaintext: SecretBytes, user: UserName, version: UInt64, key: SecretBytes) -> [UInt8]? {
    Sealing.seal(plaintext, user: user, version: version, key: key, crypto: crypto)
  }

  /// `Sealing.open` with this provider.
  func open(_ sealed: [UInt8], user: UserName, version: UInt64, key: SecretBytes) -> SecretBytes? {
    Sealing.open(sealed, user: user, version: version, key: key, crypto: crypto)
  }
}

/// A user name that the test knows to be valid.
private func validName(_ text: String) -> UserName {
  guard let name = UserName(text) else { preconditionFailure("\(text) is not a valid user name") }
  return name
}

@Suite("Sealing")
struct SealingTests {
  let alice = validName("alice")
  let key = SecretBytes((0..<32).map { UInt8($0) })

  @Test("the associated data names the format, the user and the version, big-endian")
  func associatedData() {
    #expect(
      Sealing.associatedData(user: alice, version: 0x0102_0304_0506_0708)
        == utf8("lockstep-seal-v1") + [0] + utf8("alice") + [0] + [1, 2, 3, 4, 5, 6, 7, 8])
    #expect(
      Sealing.associatedData(user: validName("zoë"), version: 0)
        == utf8("lockstep-seal-v1") + [0] + [0x7a, 0x6f, 0xc3, 0xab] + [0] + [UInt8](repeating: 0, count: 8))
    #expect(Sealing.associatedData(user: alice, version: .max).suffix(8) == [UInt8](repeating: 0xff, count: 8))
  }

  @Test("what one provider seals, both open", arguments: Provider.allCases, Provider.allCases)
  func roundTrip(sealer: Provider, opener: Provider) throws {
    for length in [0, 1, 15, 16, 17, 32, 100, 1000] {
      let plaintext = SecretBytes((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
      let sealed = try #require(sealer.seal(plaintext, user: alice, version: 42, key: key), "length \(length)")
      #expect(sealed.count == Sealing.nonceLength + length + Sealing.tagLength)
      let opened = try #require(opener.open(sealed, user: alice, version: 42, key: key), "length \(length)")
      #expect(opened.hasSameBytes(as: plaintext), "length \(length)")
    }
  }

  @Test("another user, version or key does not open", arguments: Provider.allCases, Provider.allCases)
  func boundToUserVersionAndKey(sealer: Provider, opener: Provider) throws {
    let sealed = try #require(sealer.seal(secretBytes("JBSWY3DPEHPK3PXP"), user: alice, version: 7, key: key))
    #expect(opener.open(sealed, user: alice, version: 7, key: key) != nil)
    for other in ["bob", "alice2", "Alice", "alic"] {
      #expect(opener.open(sealed, user: validName(other), version: 7, key: key) == nil, "\(other)")
    }
    for version: UInt64 in [0, 6, 8, 7 << 8, 7 << 56, .max] {
      #expect(opener.open(sealed, user: alice, version: version, key: key) == nil, "\(version)")
    }
    var otherKey = bytes(of: key)
    otherKey[0] ^= 1
    #expect(opener.open(sealed, user: alice, version: 7, key: SecretBytes(otherKey)) == nil)
    #expect(opener.open(sealed, user: alice, version: 7, key: SecretBytes(count: 32)) == nil)
  }

  @Test("every seal has a fresh nonce", arguments: Provider.allCases)
  func freshNonce(provider: Provider) throws {
    let plaintext = secretBytes("the same secret")
    let first = try #require(provider.seal(plaintext, user: alice, version: 1, key: key))
    let second = try #require(provider.seal(plaintext, user: alice, version: 1, key: key))
    #expect(first.prefix(Sealing.nonceLength) != second.prefix(Sealing.nonceLength))
    #expect(first.dropFirst(Sealing.nonceLength) != second.dropFirst(Sealing.nonceLength))
  }

  @Test("a truncated, extended or changed blob does not open", arguments: Provider.allCases)
  func damaged(provider: Provider) throws {
    let sealed = try #require(provider.seal(secretBytes("a secret"), user: alice, version: 3, key: key))
    for length in 0..<sealed.count {
      #expect(provider.open(Array(sealed.prefix(length)), user: alice, version: 3, key: key) == nil)
      #expect(provider.open(Array(sealed.suffix(length)), user: alice, version: 3, key: key) == nil)
    }
    #expect(provider.open(sealed + [0], user: alice, version: 3, key: key) == nil)
    for index in sealed.indices {
      let changed = flippingBit(sealed, at: index, bit: index % 8)
      #expect(provider.open(changed, user: alice, version: 3, key: key) == nil, "byte \(index)")
    }
  }

  @Test("an empty secret seals to a nonce and a tag, and opens", arguments: Provider.allCases)
  func empty(provider: Provider) throws {
    let sealed = try #require(provider.seal(SecretBytes(count: 0), user: alice, version: 0, key: key))
    #expect(sealed.count == Sealing.nonceLength + Sealing.tagLength)
    let opened = try #require(provider.open(sealed, user: alice, version: 0, key: key))
    #expect(opened.count == 0)
  }

  @Test("a key that is not 32 bytes neither seals nor opens", arguments: Provider.allCases)
  func keyLength(provider: Provider) throws {
    let sealed = try #require(provider.seal(secretBytes("x"), user: alice, version: 0, key: key))
    for length in [0, 16, 31, 33] {
      let wrong = SecretBytes(count: length)
      #expect(provider.seal(secretBytes("x"), user: alice, version: 0, key: wrong) == nil)
      #expect(provider.open(sealed, user: alice, version: 0, key: wrong) == nil)
    }
    #expect(Sealing.keyLength == 32 && Sealing.nonceLength == 12 && Sealing.tagLength == 16)
  }
}
