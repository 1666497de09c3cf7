import LockstepCore
import Testing

private func int64(_ text: String) -> Int64? { utf8(text).withUnsafeBytes { Int64(ascii: $0) } }
private func uint64(_ text: String) -> UInt64? { utf8(text).withUnsafeBytes { UInt64(ascii: $0) } }

@Suite("Numbers and Hex")
struct NumbersAndHexTests {
  @Test(
    "UInt64 parses plain decimal digits",
    arguments: [
      ("0", UInt64(0)), ("7", 7), ("0042", 42), ("18446744073709551615", UInt64.max),
      ("00000000000000000001", 1), ("9223372036854775808", 9_223_372_036_854_775_808),
    ])
  func uint64Valid(text: String, expected: UInt64) {
    #expect(uint64(text) == expected)
  }

  @Test(
    "UInt64 refuses anything else",
    arguments: [
      "", "-1", "+1", "-0", " 1", "1 ", "1_000", "1,000", "0x10", "1e3", "١", "１", "18446744073709551616",
      "99999999999999999999", "000000000000000000001", "184467440737095516150",
    ])
  func uint64Invalid(text: String) {
    #expect(uint64(text) == nil)
  }

  @Test(
    "Int64 parses an optional minus sign and decimal digits",
    arguments: [
      ("0", Int64(0)), ("-0", 0), ("42", 42), ("-42", -42), ("9223372036854775807", Int64.max),
      ("-9223372036854775807", -Int64.max), ("-000001", -1),
    ])
  func int64Valid(text: String, expected: Int64) {
    #expect(int64(text) == expected)
    #expect(Int64(asciiString: text) == expected)
  }

  @Test(
    "Int64 refuses anything else, including overflow",
    arguments: [
      "", "-", "--1", "+1", "+", "1-", " 1", "1 ", "- 1", "1.0", "abc", "９", "9223372036854775808",
      "-9223372036854775809", "18446744073709551615", "-18446744073709551615", "99999999999999999999",
      "-99999999999999999999",
    ])
  func int64Invalid(text: String) {
    #expect(int64(text) == nil)
    #expect(Int64(asciiString: text) == nil)
  }

  @Test("saturatingAdd pins at the ends instead of trapping")
  func saturatingAdd() {
    #expect(Int64(1).saturatingAdd(2) == 3)
    #expect(Int64(5).saturatingAdd(-7) == -2)
    #expect(Int64.max.saturatingAdd(1) == Int64.max)
    #expect(Int64.max.saturatingAdd(Int64.max) == Int64.max)
    #expect(Int64.min.saturatingAdd(-1) == Int64.min)
    #expect(Int64.min.saturatingAdd(Int64.min) == Int64.min)
    #expect(Int64.max.saturatingAdd(Int64.min) == -1)
  }

  @Test("Hex encodes in lower case")
  func hexEncode() {
    #expect(Hex.encode([]) == "")
    #expect(Hex.encode([0x00, 0x01, 0xab, 0xff, 0x10]) == "0001abff10")
    #expect(Hex.encode(Array(0...255)) == hexString(Array(0...255)))
  }

  @Test(
    "Hex decodes either case",
    arguments: [
      ("", [UInt8]()), ("00", [0]), ("ff", [255]), ("FF", [255]), ("0aBc", [0x0a, 0xbc]), ("7f80", [0x7f, 0x80]),
    ])
  func hexDecode(text: String, expected: [UInt8]) {
    #expect(Hex.decode(text) == expected)
    #expect(utf8(text).withUnsafeBytes { Hex.decode($0) } == expected)
  }

  @Test(
    "Hex refuses odd lengths and anything but hex digits",
    arguments: ["0", "abc", "0g", "-1", "+f", " 0a", "0a ", "0x0a", "ＦＦ"])
  func hexInvalid(text: String) {
    #expect(Hex.decode(text) == nil)
  }

  @Test("Hex round-trips random bytes")
  func hexRoundTrip() {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    for _ in 0..<200 {
      let input = randomBytes(Int.random(in: 0...64, using: &generator), using: &generator)
      #expect(Hex.decode(Hex.encode(input)) == input, "seed \(seed)")
      #expect(Hex.decode(Hex.encode(input).uppercased()) == input, "seed \(seed)")
    }
  }
}
