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

  @Test("invalid UTF-8 is no reason to refuse a name, but it is escaped in logs")
  func invalidUTF8() throws {
    let user = try #require(UserName(bytes: [0x61, 0xff, 0x62]))
    #expect(user.bytes == [0x61, 0xff, 0x62])
    #expect(user.description == "a\\xffb")
  }

  @Test("the description is the name, escaped")
  func description() throws {
    #expect(try #require(UserName("alice")).description == "alice")
    #expect(try #require(UserName("a\\b")).description == "a\\x5cb")
    #expect(try #require(UserName("Jörg")).description == "Jörg")
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

  @Test("input longer than the limit is cut and marked with ...")
  func cut() {
    #expect(LogText.maximumLength == 128)
    let exact = String(repeating: "a", count: 128)
    #expect(LogText.escape(utf8(exact)) == exact)
    #expect(LogText.escape(utf8(exact + "b")) == exact + "...")
    #expect(LogText.escape(utf8(String(repeating: "x", count: 10_000))) == String(repeating: "x", count: 128) + "...")
    // The limit counts input bytes: escapes may make the output longer.
    #expect(LogText.escape([UInt8](repeating: 0x0a, count: 200)) == String(repeating: "\\x0a", count: 128) + "...")
  }

  @Test("escaped output never holds a control character")
  func neverControl() {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    for _ in 0..<200 {
      let input = randomBytes(Int.random(in: 0...300, using: &generator), using: &generator)
      let output = LogText.escape(input)
      #expect(!output.utf8.contains { $0 < 0x20 || $0 == 0x7f }, "seed \(seed)")
      #expect(output.utf8.count <= 4 * 128 + 3, "seed \(seed)")
    }
  }
}
