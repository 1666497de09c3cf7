import LockstepCore
import Testing

@Suite("UserName")
struct UserNameTests {
  @Test(
    "ordinary names are accepted",
    arguments: [
      "alice", "a.b", "user@example.com", "first last", "Jörg", "ユーザー", "DOMAIN\\user", "a..", "x-y_z+1", "alice.lock",
      String(repeating: "a", count: 200), String(repeating: "é", count: 100),
    ])
  func accepted(name: String) throws {
    let user = try #require(UserName(name))
    #expect(user.bytes == utf8(name))
    #expect(user.recordFileName == utf8(name))
    #expect(user.stateFileName == utf8("." + name + ".state"))
    #expect(user.temporaryFileName == utf8("." + name + ".tmp"))
  }

  @Test(
    "names that are unsafe as file names are refused",
    arguments: [
      "", ".", "..", ".hidden", "../root", "a/b", "/", "/etc/passwd", "alice/", "a\0b", "\0", "alice\n", "a\rb",
      "a\tb", "\u{1b}[31m", "a\u{7f}", String(repeating: "a", count: 201), String(repeating: "é", count: 100) + "a",
    ])
  func refused(name: String) {
    #expect(UserName(name) == nil, "\(name.debugDescription)")
  }

  @Test(
    "names that text cannot spell exactly are refused: invalid UTF-8, and U+FFFD",
    arguments: [
      [0x61, 0xff, 0x62], [0x63, 0x61, 0x66, 0xe9], [0xc0, 0xaf], [0xed, 0xa0, 0x80], utf8("caf\u{FFFD}"),
    ])
  func notText(bytes: [UInt8]) {
    #expect(UserName(bytes: bytes) == nil, "\(bytes)")
  }

  @Test("the description is the name, escaped")
  func description() throws {
    #expect(try #require(UserName("alice")).description == "alice")
    #expect(try #require(UserName("a\\b")).description == "a\\x5cb")
    #expect(try #require(UserName("Jörg")).description == "Jörg")
    #expect(try #require(UserName("root rhost=203.0.113.66")).description == "root\\x20rhost\\x3d203.0.113.66")
    #expect(try #require(UserName("a\u{200B}b")).description == "a\\xe2\\x80\\x8bb")
  }
}

@Suite("LogText")
struct LogTextTests {
  @Test(
    "control characters, DEL and backslashes are escaped as \\xNN",
    arguments: [
      ("plain text", "plain text"), ("a\nb", "a\\x0ab"), ("\r\n", "\\x0d\\x0a"), ("\0", "\\x00"), ("\t", "\\x09"),
      ("\u{1b}[2J", "\\x1b[2J"), ("\u{7f}", "\\x7f"), ("a\\b", "a\\x5cb"), ("\\x0a", "\\x5cx0a"),
      ("Jörg ユーザー", "Jörg ユーザー"), ("", ""),
    ])
  func escapes(input: String, expected: String) {
    #expect(LogText.escape(utf8(input)) == expected)
  }

  @Test("bytes above 0x7f are escaped when the text is not valid UTF-8")
  func invalidUTF8() {
    #expect(LogText.escape([0x61, 0xff, 0x62]) == "a\\xffb")
    // A valid character next to an invalid byte: every high byte is escaped.
    #expect(LogText.escape(utf8("é") + [0xc3]) == "\\xc3\\xa9\\xc3")
    #expect(LogText.escape([0xc0, 0xaf]) == "\\xc0\\xaf")
  }

  @Test("input longer than the limit is cut and marked with \\..., which no input can spell")
  func cut() {
    #expect(LogText.maximumLength == 256)
    #expect(LogText.maximumLength >= UserName.maximumLength)
    let exact = String(repeating: "a", count: 256)
    #expect(LogText.escape(utf8(exact)) == exact)
    #expect(LogText.escape(utf8(exact + "b")) == exact + "\\...")
    #expect(LogText.escape(utf8(String(repeating: "x", count: 10_000))) == String(repeating: "x", count: 256) + "\\...")
    // The limit counts input bytes: escapes may make the output longer.
    #expect(LogText.escape([UInt8](repeating: 0x0a, count: 300)) == String(repeating: "\\x0a", count: 256) + "\\...")
    // A name that ends in the mark itself is not taken for a cut one.
    #expect(LogText.escape(utf8("alice\\...")) == "alice\\x5c...")
  }

  @Test(
    "invisible format characters are escaped",
    arguments: [
      ("\u{200B}", "\\xe2\\x80\\x8b"), ("\u{200F}", "\\xe2\\x80\\x8f"), ("\u{FEFF}", "\\xef\\xbb\\xbf"),
      ("\u{00AD}", "\\xc2\\xad"), ("\u{2066}", "\\xe2\\x81\\xa6"), ("\u{E0041}", "\\xf3\\xa0\\x81\\x81"),
    ])
  func formatCharacters(input: String, expected: String) {
    #expect(LogText.escape(utf8("a" + input + "b")) == "a" + expected + "b")
  }

  @Test("a field value cannot end its field or add one")
  func fieldDelimiters() {
    #expect(LogText.field(utf8("root rhost=203.0.113.66")) == "root\\x20rhost\\x3d203.0.113.66")
    #expect(LogText.field(utf8("a;b\"c'd")) == "a\\x3bb\\x22c\\x27d")
    #expect(LogText.field([0x20, 0xff, 0x3d]) == "\\x20\\xff\\x3d")
    // Inside a message, spaces stay as they are.
    #expect(LogText.escape(utf8("a b=c")) == "a b=c")
  }

  @Test("escaped output never holds a control character")
  func neverControl() {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    for _ in 0..<200 {
      let input = randomBytes(Int.random(in: 0...400, using: &generator), using: &generator)
      let output = LogText.escape(input)
      #expect(!output.utf8.contains { $0 < 0x20 || $0 == 0x7f }, "seed \(seed)")
      #expect(output.utf8.count <= 4 * 256 + 4, "seed \(seed)")
    }
  }
}
