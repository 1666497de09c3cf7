import Foundation
import LockstepAdmin
import LockstepCore
import Testing

/// pam_oath users files (`/etc/users.oath`), hand-written and as pam_oath itself rewrites them,
/// with codes checked against `oathtool`.
@Suite("OathUsersFile")
struct OathUsersFileTests {
  static let oathtool = "/usr/bin/oathtool"
  /// The RFC 4226 test key "12345678901234567890" in hexadecimal.
  static let rfcKey = "3132333435363738393031323334353637383930"

  private func oathtool(_ arguments: [String]) throws -> String {
    try #require(FileManager.default.isExecutableFile(atPath: Self.oathtool), "install the Debian package oathtool")
    let result = try runProgram(Self.oathtool, arguments)
    try #require(result.status == 0, "oathtool \(arguments.joined(separator: " ")) failed")
    return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  private func code(_ entry: OathUsersFile.Entry, counter: UInt64) -> String {
    let text = OneTimePassword.text(
      secret: entry.secret, counter: counter, algorithm: entry.parameters.algorithm, digits: entry.parameters.digits,
      crypto: libCrypto)
    return String(decoding: text ?? [], as: UTF8.self)
  }

  struct TypeCase: Sendable, CustomTestStringConvertible {
    var text: String
    var expected: TokenParameters?
    var testDescription: String { text }
  }

  @Test(
    "token types",
    arguments: [
      TypeCase(text: "HOTP", expected: TokenParameters(kind: .hotp, algorithm: .sha1, digits: 6, period: 30)),
      TypeCase(text: "HOTP/E", expected: TokenParameters(kind: .hotp, algorithm: .sha1, digits: 6, period: 30)),
      TypeCase(text: "HOTP/E/6", expected: TokenParameters(kind: .hotp, algorithm: .sha1, digits: 6, period: 30)),
      TypeCase(text: "HOTP/E/7", expected: TokenParameters(kind: .hotp, algorithm: .sha1, digits: 7, period: 30)),
      TypeCase(text: "HOTP/E/8", expected: TokenParameters(kind: .hotp, algorithm: .sha1, digits: 8, period: 30)),
      TypeCase(text: "HOTP/T30", expected: TokenParameters(kind: .totp, algorithm: .sha1, digits: 6, period: 30)),
      TypeCase(text: "HOTP/T30/8", expected: TokenParameters(kind: .totp, algorithm: .sha1, digits: 8, period: 30)),
      TypeCase(text: "HOTP/T60", expected: TokenParameters(kind: .totp, algorithm: .sha1, digits: 6, period: 60)),
      TypeCase(text: "HOTP/T60/7", expected: TokenParameters(kind: .totp, algorithm: .sha1, digits: 7, period: 60)),
      TypeCase(text: "hotp", expected: nil),
      TypeCase(text: "TOTP", expected: nil),
      TypeCase(text: "HOTP/", expected: nil),
      TypeCase(text: "HOTP/T45", expected: nil),
      TypeCase(text: "HOTP/E/9", expected: nil),
      TypeCase(text: "HOTP/E/5", expected: nil),
      TypeCase(text: "HOTP/T30/6/1", expected: nil),
      TypeCase(text: "HOTP/T30/", expected: nil),
    ])
  func types(_ testCase: TypeCase) {
    #expect(OathUsersFile.parseType(testCase.text) == testCase.expected)
  }

  @Test(
    "login times",
    arguments: [
      ("1970-01-01T00:00:00L", 0 as Int64?),
      ("2024-01-01T00:00:00L", 1_704_067_200),
      ("2024-02-29T12:34:56L", 1_709_210_096),
      ("2023-11-14T22:13:20L", 1_700_000_000),
      ("2026-11-22T02:41:40L", 1_795_315_300),
      ("2023-02-29T00:00:00L", nil),
      ("2024-13-01T00:00:00L", nil),
      ("2024-00-01T00:00:00L", nil),
      ("2024-04-31T00:00:00L", nil),
      ("2024-01-01T24:00:00L", nil),
      ("2024-01-01T00:60:00L", nil),
      ("2024-01-01T00:00:00", nil),
      ("2024-01-01 00:00:00L", nil),
      ("2024-01-01T00:00:00Z", nil),
      ("1969-12-31T23:59:59L", nil),
      ("+024-01-01T00:00:00L", nil),
      ("", nil),
    ])
  func loginTimes(_ text: String, _ expected: Int64?) {
    #expect(OathUsersFile.parseLocalTime(Array(text.utf8)) == expected)
  }

  /// A file with comments, blank lines, tabs, and two lines exactly as pam_oath 2.6.7 rewrote
  /// them after a login (captured from pamtester runs against pam_oath.so).
  static let file = """
    # pam_oath users
    HOTP alice - \(rfcKey)

    \tHOTP/T30/8   bob   -   \(rfcKey)
    HOTP\tcarol\t-\t\(rfcKey)\t2\t359152\t2026-11-22T02:41:40L
    HOTP/T30\tdave\t-\t\(rfcKey)\t0\t672645\t2026-11-22T02:41:40L
    HOTP/T60/7 erin s3cretPIN 00112233445566778899aabbccddeeff 0
    HOTP/E/8 frank + 00112233445566778899AABBCCDDEEFF 41
    """

  @Test("a users file imports every good line with the values it states")
  func goodFile() throws {
    let contents = OathUsersFile.parse(Self.file)
    #expect(contents.errors == [])
    #expect(contents.entries.map { $0.user.description } == ["alice", "bob", "carol", "dave", "erin", "frank"])
    #expect(contents.entries.map(\.line) == [2, 4, 5, 6, 7, 8])
    let byUser = Dictionary(uniqueKeysWithValues: contents.entries.map { ($0.user.description, $0) })

    let alice = try #require(byUser["alice"])
    #expect(alice.parameters == TokenParameters(kind: .hotp, algorithm: .sha1, digits: 6, period: 30))
    #expect(bytes(of: alice.secret) == utf8("12345678901234567890"))
    #expect(alice.counter == 0)
    #expect(!alice.hasPIN)
    #expect(alice.warnings.isEmpty)

    let bob = try #require(byUser["bob"])
    #expect(bob.parameters == TokenParameters(kind: .totp, algorithm: .sha1, digits: 8, period: 30))
    #expect(bob.counter == 0)
    #expect(bob.warnings.isEmpty)

    // pam_oath writes the counter of the code it accepted; the next one is expected after it.
    let carol = try #require(byUser["carol"])
    #expect(carol.counter == 3)
    #expect(carol.lastCode == utf8("359152"))
    #expect(carol.lastLoginLocalTime == 1_795_315_300)

    let dave = try #require(byUser["dave"])
    #expect(dave.parameters.kind == .totp)
    #expect(dave.counter == 0)
    #expect(dave.lastStep == nil)
    #expect(dave.lastCode == utf8("672645"))
    #expect(dave.warnings.contains { $0.contains("time zone") })

    let erin = try #require(byUser["erin"])
    #expect(erin.parameters == TokenParameters(kind: .totp, algorithm: .sha1, digits: 7, period: 60))
    #expect(bytes(of: erin.secret) == hexBytes("00112233445566778899aabbccddeeff"))
    #expect(erin.hasPIN)
    #expect(erin.warnings.contains { $0.contains("PIN") })
    #expect(!erin.warnings.contains { $0.contains("s3cretPIN") }, "a warning quotes the PIN")

    let frank = try #require(byUser["frank"])
    #expect(frank.parameters == TokenParameters(kind: .hotp, algorithm: .sha1, digits: 8, period: 30))
    #expect(frank.counter == 41)
    #expect(frank.hasPIN)
    #expect(bytes(of: frank.secret) == hexBytes("00112233445566778899aabbccddeeff"))
  }

  @Test("the field after the secret is pam_oath's counter, even when it looks like a comment")
  func commentAfterFields() throws {
    // pam_oath has no trailing comments: "#" is read as the counter and the line is broken.
    let contents = OathUsersFile.parse("HOTP bob - \(Self.rfcKey) # note\n")
    #expect(contents.entries.isEmpty)
    #expect(contents.errors.map(\.line) == [1])
  }

  @Test("imported tokens give the codes oathtool gives for the same key")
  func codesMatchOathtool() throws {
    let contents = OathUsersFile.parse(Self.file)
    for entry in contents.entries {
      let hex = hexString(bytes(of: entry.secret))
      let digits = entry.parameters.digits
      switch entry.parameters.kind {
      case .hotp:
        let expected = try oathtool(["--hotp", "-d", "\(digits)", "-c", "\(entry.counter)", hex])
        #expect(code(entry, counter: entry.counter) == expected, "\(entry.user)")
      case .totp:
        let time: Int64 = 1_795_315_300
        let expected = try oathtool([
          "--totp", "-d", "\(digits)", "-s", "\(entry.parameters.period)s", "-N", "@\(time)", hex,
        ])
        #expect(code(entry, counter: UInt64(entry.parameters.timeStep(at: time))) == expected, "\(entry.user)")
      case .delivered: Issue.record("pam_oath has no sent codes: \(entry.user)")
      }
    }
  }

  @Test("the time step of the last TOTP code is found from the local login time in any time zone")
  func resolveLastStep() throws {
    let loginTime: Int64 = 1_700_000_000  // 2023-11-14T22:13:20Z, time step 56666666
    let lastCode = try oathtool(["--totp", "-N", "@\(loginTime)", Self.rfcKey])
    // The same login written by servers in three time zones: UTC, UTC+5:30 and UTC-8.
    for local in ["2023-11-14T22:13:20L", "2023-11-15T03:43:20L", "2023-11-14T14:13:20L"] {
      let contents = OathUsersFile.parse("HOTP/T30 zoe - \(Self.rfcKey) 0 \(lastCode) \(local)\n")
      let entry = try #require(contents.entries.first)
      #expect(OathUsersFile.resolveLastStep(of: entry, crypto: libCrypto) == 56_666_666, "\(local)")
    }
    let noTime = try #require(OathUsersFile.parse("HOTP/T30 zoe - \(Self.rfcKey) 0 \(lastCode)\n").entries.first)
    #expect(OathUsersFile.resolveLastStep(of: noTime, crypto: libCrypto) == nil)
    let hotp = try #require(
      OathUsersFile.parse("HOTP zoe - \(Self.rfcKey) 0 \(lastCode) 2023-11-14T22:13:20L\n").entries.first)
    #expect(OathUsersFile.resolveLastStep(of: hotp, crypto: libCrypto) == nil)
  }

  struct BadLine: Sendable, CustomTestStringConvertible {
    var line: String
    var fragment: String
    var testDescription: String { fragment }
  }

  @Test(
    "a bad line is reported with its number while the good lines around it are imported",
    arguments: [
      BadLine(line: "TOTP x - 00112233", fragment: "unknown token type"),
      BadLine(line: "HOTP/T90 x - 00112233", fragment: "unknown token type"),
      BadLine(line: "HOTP x -", fragment: "at least"),
      BadLine(line: "HOTP x", fragment: "at least"),
      BadLine(line: "HOTP a/b - 00112233", fragment: "cannot be used"),
      BadLine(line: "HOTP .hidden - 00112233", fragment: "cannot be used"),
      BadLine(line: "HOTP x - 0011223", fragment: "not hexadecimal"),
      BadLine(line: "HOTP x - zz112233", fragment: "not hexadecimal"),
      BadLine(line: "HOTP x - -", fragment: "not hexadecimal"),
      BadLine(line: "HOTP x - " + String(repeating: "ab", count: 65), fragment: "longer than"),
      BadLine(line: "HOTP x - 00112233 -1", fragment: "counter"),
      BadLine(line: "HOTP x - 00112233 12x", fragment: "counter"),
      BadLine(line: "HOTP x - 00112233 99999999999999999999999", fragment: "counter"),
      BadLine(line: "HOTP x - 00112233 4611686018427387904", fragment: "counter"),
      BadLine(line: "HOTP alice - 00112233", fragment: "appears again"),
    ])
  func badLine(_ testCase: BadLine) throws {
    let text = "HOTP alice - \(Self.rfcKey)\n# comment\n\(testCase.line)\nHOTP/T30 zed - \(Self.rfcKey)\n"
    let contents = OathUsersFile.parse(text)
    #expect(contents.entries.map { $0.user.description } == ["alice", "zed"])
    let error = try #require(contents.errors.first)
    #expect(contents.errors.count == 1)
    #expect(error.line == 3)
    #expect(error.reason.contains(testCase.fragment), "\(error)")
    #expect(!error.description.contains("00112233"), "the error quotes the secret")
  }

  @Test(
    "odd but usable fields become warnings",
    arguments: [
      ("HOTP x - 00112233445566778899aabbccddeeff 5 12345 2024-01-01T00:00:00L", "last code is not 6 digits"),
      ("HOTP x - 00112233445566778899aabbccddeeff 5 123456 yesterday", "last login time"),
      ("HOTP x - 00112233445566778899aabbccddeeff 5 123456 2024-01-01T00:00:00L extra", "fields after"),
      ("HOTP x - 0011223344", "less than the 128"),
    ])
  func oddFields(_ line: String, _ fragment: String) throws {
    let contents = OathUsersFile.parse(line)
    #expect(contents.errors == [])
    let entry = try #require(contents.entries.first)
    #expect(entry.warnings.contains { $0.contains(fragment) }, "\(entry.warnings)")
  }

  @Test("a last code that cannot be read does not advance the HOTP counter")
  func unreadableLastCode() throws {
    let entry = try #require(
      OathUsersFile.parse("HOTP x - 00112233445566778899aabbccddeeff 5 12345 2024-01-01T00:00:00L").entries.first)
    #expect(entry.counter == 5)
    #expect(entry.lastCode == nil)
  }

  @Test("CRLF line endings read the same as LF")
  func crlf() {
    let lf = OathUsersFile.parse(Self.file)
    let crlf = OathUsersFile.parse(Self.file.replacingOccurrences(of: "\n", with: "\r\n"))
    #expect(crlf.errors == [])
    #expect(crlf.entries.map(\.user) == lf.entries.map(\.user))
    #expect(crlf.entries.map(\.counter) == lf.entries.map(\.counter))
    #expect(crlf.entries.map(\.lastLoginLocalTime) == lf.entries.map(\.lastLoginLocalTime))
  }

  @Test("limits: a huge file, too many errors")
  func limits() {
    let huge = OathUsersFile.parse(String(repeating: "#", count: OathUsersFile.maximumSize + 1))
    #expect(huge.entries.isEmpty)
    #expect(huge.errors.map(\.line) == [0])
    let bad = OathUsersFile.parse(String(repeating: "nonsense line\n", count: 500))
    #expect(bad.errors.count == OathUsersFile.maximumErrors + 1)
    #expect(bad.errors.last?.reason.contains("too many errors") == true)
  }

  @Test("random bytes never crash the parser")
  func randomInput() {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    let alphabet = Array("HOTP/ET3068 \t\n\r-+#0123456789abcdefxyz:L\u{0}".utf8)
    for _ in 0..<2000 {
      let length = Int.random(in: 0...200, using: &generator)
      let input = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
      let contents = OathUsersFile.parse(bytes: input)
      for entry in contents.entries {
        _ = OathUsersFile.resolveLastStep(of: entry, crypto: libCrypto)
      }
    }
  }
}
