import Foundation
import LockstepCore
import Testing

@Suite("Base32")
struct Base32Tests {
  /// RFC 4648 section 10 (the empty vector is left out: decoding nothing is `nil` by design).
  static let rfcVectors: [(plain: String, encoded: String)] = [
    ("f", "MY======"),
    ("fo", "MZXQ===="),
    ("foo", "MZXW6==="),
    ("foob", "MZXW6YQ="),
    ("fooba", "MZXW6YTB"),
    ("foobar", "MZXW6YTBOI======"),
  ]

  @Test("encode matches RFC 4648 without padding", arguments: rfcVectors)
  func encodeMatchesRFC(plain: String, encoded: String) {
    let unpadded = encoded.filter { $0 != "=" }
    #expect(Base32.encode(utf8(plain)) == unpadded)
  }

  @Test("encode of nothing is empty")
  func encodeEmpty() {
    #expect(Base32.encode([UInt8]()) == "")
  }

  @Test("decode accepts the RFC 4648 vectors in every forgiving spelling", arguments: rfcVectors)
  func decodeForgivingSpellings(plain: String, encoded: String) {
    let unpadded = encoded.filter { $0 != "=" }
    let grouped = stride(from: 0, to: unpadded.count, by: 4).map { start -> String in
      let from = unpadded.index(unpadded.startIndex, offsetBy: start)
      let to = unpadded.index(from, offsetBy: min(4, unpadded.count - start))
      return String(unpadded[from..<to])
    }
    let spellings = [
      encoded,
      unpadded,
      encoded.lowercased(),
      unpadded.lowercased(),
      grouped.joined(separator: " "),
      grouped.joined(separator: "-"),
      grouped.joined(separator: "\t").lowercased(),
      " " + encoded + " ",
    ]
    for spelling in spellings {
      let decoded = Base32.decode(spelling)
      #expect(decoded.map(bytes(of:)) == utf8(plain), "decoding \(spelling.debugDescription)")
    }
  }

  @Test("decode drops leftover bits after the last whole byte")
  func decodeDropsLeftoverBits() {
    // M = 01100, Z = 11001: the byte 01100110 ('f') and two leftover bits 01.
    #expect(Base32.decode("MZ").map(bytes(of:)) == utf8("f"))
  }

  @Test(
    "decode refuses invalid input",
    arguments: [
      "", " ", "-", "========",
      "MZXW6YT0", "MZXW6YT1", "MZXW6YT8", "MZXW6YT9", "MZXW6YT!", "0Y======", "MZXW 6Y1B",
      "MY==MZXQ", "MZ=XW6YTB", "MZXW6===YQ", "=MZXW6YTB",
      "M", "MZX", "MZXW6Y", "MZXW6YTBO", "MZXW6YTBOIX", "MZXW6YTBOIXXXX",
      "M=======", "MZX=====", "MZXW6Y==",
      "MZXW\n6YTB", "MZXW6YTB\n", "MZXW.6YTB", "MZXW6YTB\u{0}",
      "ＭＺＸＷ６ＹＴＢ",
    ])
  func decodeRefuses(input: String) {
    #expect(Base32.decode(input) == nil, "decoding \(input.debugDescription)")
  }

  @Test("decode of a raw buffer agrees with decode of a string")
  func decodeRawBuffer() {
    let decoded = utf8("mzxw6-ytboi").withUnsafeBytes { Base32.decode($0) }
    #expect(decoded.map(bytes(of:)) == utf8("foobar"))
  }

  @Test("random bytes round-trip through encode and decode")
  func randomRoundTrip() {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    for _ in 0..<500 {
      let input = randomBytes(Int.random(in: 1...80, using: &generator), using: &generator)
      let encoded = Base32.encode(input)
      #expect(encoded.count == (input.count * 8 + 4) / 5, "seed \(seed)")
      #expect(encoded.allSatisfy(alphabet.contains), "seed \(seed)")
      #expect(Base32.decode(encoded).map(bytes(of:)) == input, "seed \(seed), \(encoded)")
      #expect(Base32.decode(encoded.lowercased()).map(bytes(of:)) == input, "seed \(seed), \(encoded)")
    }
  }

  @Test("encode agrees with coreutils base32 on random bytes")
  func encodeAgreesWithCoreutils() throws {
    try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/base32"), "coreutils base32 is missing")
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    for _ in 0..<20 {
      let input = randomBytes(Int.random(in: 1...64, using: &generator), using: &generator)
      let file = FileManager.default.temporaryDirectory.appendingPathComponent("base32-\(UUID().uuidString)")
      try Data(input).write(to: file)
      defer { try? FileManager.default.removeItem(at: file) }
      let result = try runProgram("/usr/bin/base32", ["-w", "0", file.path])
      try #require(result.status == 0)
      let expected = result.standardOutput.filter { $0 != "=" && $0 != "\n" }
      #expect(Base32.encode(input) == expected, "seed \(seed)")
      // coreutils pads; decode must take its padded output as it is.
      let padded = result.standardOutput.trimmingCharacters(in: .newlines)
      #expect(Base32.decode(padded).map(bytes(of:)) == input, "seed \(seed)")
    }
  }
}
