import Foundation
import LockstepAdmin
import LockstepCore
import Testing

/// Files written by the real `google-authenticator` tool (Debian `libpam-google-authenticator`),
/// checked against the file itself and against `oathtool`; and hand-written edge cases.
@Suite("GoogleAuthenticatorFile")
struct GoogleAuthenticatorFileTests {
  static let tool = "/usr/bin/google-authenticator"
  static let oathtool = "/usr/bin/oathtool"

  /// Runs google-authenticator with `arguments` writing a new file, and returns its text. Run
  /// without a terminal, the tool needs a window size and a rate-limit choice among them.
  private func generate(_ arguments: [String]) throws -> String {
    try #require(
      FileManager.default.isExecutableFile(atPath: Self.tool), "install the Debian package libpam-google-authenticator")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-ga-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("google_authenticator")
    let result = try runProgram(
      Self.tool, arguments + ["--force", "--no-confirm", "--quiet", "--qr-mode=NONE", "--secret=\(file.path)"])
    try #require(result.status == 0, "google-authenticator \(arguments) failed")
    return try String(contentsOf: file, encoding: .utf8)
  }

  /// What oathtool prints, without the newline.
  private func oathtool(_ arguments: [String]) throws -> String {
    try #require(FileManager.default.isExecutableFile(atPath: Self.oathtool), "install the Debian package oathtool")
    let result = try runProgram(Self.oathtool, arguments)
    try #require(result.status == 0, "oathtool \(arguments.joined(separator: " ")) failed")
    return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// The file's lines, split here without the code under test.
  private func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init)
  }

  /// The secret's bytes as oathtool decodes the base32 first line, in hexadecimal.
  private func oathtoolHex(ofBase32 secret: String) throws -> String {
    let verbose = try oathtool(["-v", "-b", secret])
    let line = verbose.split(separator: "\n").first { $0.hasPrefix("Hex secret: ") }
    let hex = try #require(line).dropFirst("Hex secret: ".count)
    return String(hex)
  }

  private func codeText(_ token: ImportedToken, counter: UInt64) -> String {
    let text = OneTimePassword.text(
      secret: token.secret, counter: counter, algorithm: token.parameters.algorithm, digits: token.parameters.digits,
      crypto: libCrypto)
    return String(decoding: text ?? [], as: UTF8.self)
  }

  struct RealTOTPCase: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    var windowSize: Int
    var suggestedWindow: Int
    var period: Int
    var disallowReuse: Bool
    var scratchCodes: Int
    var testDescription: String { arguments.joined(separator: " ") }
  }

  static let realTOTPCases: [RealTOTPCase] = [
    RealTOTPCase(
      arguments: ["--time-based", "--disallow-reuse", "--rate-limit=3", "--rate-time=30", "--window-size=3"],
      windowSize: 3, suggestedWindow: 1, period: 30, disallowReuse: true, scratchCodes: 5),
    RealTOTPCase(
      arguments: ["--time-based", "--allow-reuse", "--no-rate-limit", "--window-size=17", "--emergency-codes=10"],
      windowSize: 17, suggestedWindow: 8, period: 30, disallowReuse: false, scratchCodes: 10),
    RealTOTPCase(
      arguments: [
        "--time-based", "--disallow-reuse", "--no-rate-limit", "--step-size=60", "--window-size=5",
        "--emergency-codes=1",
      ],
      windowSize: 5, suggestedWindow: 2, period: 60, disallowReuse: true, scratchCodes: 1),
  ]

  @Test("a real TOTP file imports with its secret, codes, window and scratch codes", arguments: realTOTPCases)
  func realTOTP(_ testCase: RealTOTPCase) throws {
    let text = try generate(testCase.arguments)
    let fileLines = lines(text)
    let token = try GoogleAuthenticatorFile.parse(text)

    #expect(hexString(bytes(of: token.secret)) == (try oathtoolHex(ofBase32: fileLines[0])))
    #expect(token.parameters == TokenParameters(kind: .totp, algorithm: .sha1, digits: 6, period: testCase.period))
    #expect(token.windowSize == testCase.windowSize)
    #expect(token.suggestedWindow == testCase.suggestedWindow)
    #expect(token.disallowReuse == testCase.disallowReuse)
    #expect(token.lastUsedStep == nil)
    #expect(token.counter == 0)

    let expectedScratch = fileLines.filter { $0.count == 8 && $0.allSatisfy(\.isNumber) }
    #expect(expectedScratch.count == testCase.scratchCodes)
    #expect(token.scratchCodes.map { String(decoding: $0, as: UTF8.self) } == expectedScratch)

    for time: Int64 in [0, 59, 1_700_000_000, 2_000_000_029, Int64(Date().timeIntervalSince1970)] {
      let expected = try oathtool([
        "--totp", "-s", "\(testCase.period)s", "-N", "@\(time)", "-b", fileLines[0],
      ])
      let step = token.parameters.timeStep(at: time)
      #expect(codeText(token, counter: UInt64(step)) == expected, "time \(time)")
    }
    let rateLimited = fileLines.contains { $0.hasPrefix("\" RATE_LIMIT") }
    #expect(token.warnings.contains { $0.contains("RATE_LIMIT") } == rateLimited)
  }

  @Test("a real HOTP file imports as HOTP at the file's counter")
  func realHOTP() throws {
    let text = try generate(["--counter-based", "--no-rate-limit", "--window-size=7"])
    let fileLines = lines(text)
    let token = try GoogleAuthenticatorFile.parse(text)
    let counterLine = try #require(fileLines.first { $0.hasPrefix("\" HOTP_COUNTER ") })
    let fileCounter = try #require(UInt64(counterLine.dropFirst("\" HOTP_COUNTER ".count)))

    #expect(token.parameters.kind == .hotp)
    #expect(token.counter == fileCounter)
    #expect(token.windowSize == 7)
    #expect(token.suggestedLookahead == 6)
    #expect(hexString(bytes(of: token.secret)) == (try oathtoolHex(ofBase32: fileLines[0])))
    for counter in [fileCounter, fileCounter + 1, 1000] {
      let expected = try oathtool(["--hotp", "-c", "\(counter)", "-b", fileLines[0]])
      #expect(codeText(token, counter: counter) == expected, "counter \(counter)")
    }
    #expect(token.scratchCodes.count == fileLines.filter { $0.count == 8 && $0.allSatisfy(\.isNumber) }.count)
  }

  @Test("used time steps listed after DISALLOW_REUSE seed the replay watermark")
  func disallowReuseSteps() throws {
    let text = try generate(["--time-based", "--disallow-reuse", "--no-rate-limit", "--minimal-window"])
    let used = text.replacingOccurrences(
      of: "\" DISALLOW_REUSE\n", with: "\" DISALLOW_REUSE 59843100 59843102 59843101\n")
    #expect(used != text)
    let token = try GoogleAuthenticatorFile.parse(used)
    #expect(token.disallowReuse)
    #expect(token.lastUsedStep == 59_843_102)
  }

  /// A small valid file; its secret is "Hello!" followed by DE AD BE EF.
  static let sample =
    "JBSWY3DPEHPK3PXP\n\" RATE_LIMIT 3 30 1700000000\n\" WINDOW_SIZE 17\n\" DISALLOW_REUSE 56666666 56666660\n"
    + "\" TOTP_AUTH\n\" STEP_SIZE 30\n\" TIME_SKEW -2\n12345678\n87654321\n"

  @Test("a hand-written file gives exactly the values it states")
  func handWritten() throws {
    let token = try GoogleAuthenticatorFile.parse(Self.sample)
    #expect(bytes(of: token.secret) == hexBytes("48656c6c6f21deadbeef"))
    #expect(token.parameters == .standard)
    #expect(token.windowSize == 17)
    #expect(token.suggestedWindow == 8)
    #expect(token.disallowReuse)
    #expect(token.lastUsedStep == 56_666_666)
    #expect(token.timeSkew == -2)
    #expect(token.scratchCodes == [utf8("12345678"), utf8("87654321")])
  }

  @Test("CRLF line endings and trailing blanks read the same as LF")
  func crlf() throws {
    let lf = try GoogleAuthenticatorFile.parse(Self.sample)
    let crlf = try GoogleAuthenticatorFile.parse(Self.sample.replacingOccurrences(of: "\n", with: "  \r\n"))
    #expect(bytes(of: crlf.secret) == bytes(of: lf.secret))
    #expect(crlf.parameters == lf.parameters)
    #expect(crlf.windowSize == 17)
    #expect(crlf.lastUsedStep == 56_666_666)
    #expect(crlf.scratchCodes == [utf8("12345678"), utf8("87654321")])
  }

  @Test("defaults: no WINDOW_SIZE means 3, no STEP_SIZE means 30, HOTP_COUNTER makes it HOTP")
  func defaults() throws {
    let totp = try GoogleAuthenticatorFile.parse("JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n")
    #expect(totp.windowSize == nil)
    #expect(totp.suggestedWindow == 1)
    #expect(totp.parameters.period == 30)
    #expect(totp.scratchCodes.isEmpty)
    #expect(!totp.disallowReuse)
    let hotp = try GoogleAuthenticatorFile.parse("JBSWY3DPEHPK3PXP\n\" HOTP_COUNTER 42\n")
    #expect(hotp.parameters.kind == .hotp)
    #expect(hotp.counter == 42)
    #expect(hotp.suggestedLookahead == 2)
  }

  @Test(
    "a TOTP window of N codes suggests window=(N-1)/2, capped at 10",
    arguments: [(1, 0), (2, 0), (3, 1), (4, 1), (5, 2), (17, 8), (21, 10), (22, 10), (100, 10)])
  func suggestedWindow(_ size: Int, _ expected: Int) throws {
    let token = try GoogleAuthenticatorFile.parse("JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" WINDOW_SIZE \(size)\n")
    #expect(token.windowSize == size)
    #expect(token.suggestedWindow == expected)
  }

  @Test(
    "an HOTP window of N codes suggests lookahead=N-1",
    arguments: [(1, 0), (3, 2), (17, 16), (100, 99)])
  func suggestedLookahead(_ size: Int, _ expected: Int) throws {
    let token = try GoogleAuthenticatorFile.parse("JBSWY3DPEHPK3PXP\n\" HOTP_COUNTER 1\n\" WINDOW_SIZE \(size)\n")
    #expect(token.suggestedLookahead == expected)
  }

  struct WarningCase: Sendable, CustomTestStringConvertible {
    var text: String
    var fragment: String
    var testDescription: String { fragment }
  }

  @Test(
    "ignored or unusual content becomes a warning, not an error",
    arguments: [
      WarningCase(text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" FROBNICATE 1\n", fragment: "unknown option 'FROBNICATE'"),
      WarningCase(text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" LAST0 10.0.0.1 1700000000\n", fragment: "grace-period"),
      WarningCase(
        text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" WINDOW_SIZE 3\n\" WINDOW_SIZE 9\n", fragment: "appears again"),
      WarningCase(text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n12345678\n12345678\n", fragment: "appears twice"),
      WarningCase(text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n01234567\n", fragment: "starting with 0"),
      WarningCase(text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n1234567\n", fragment: "not a scratch code"),
      WarningCase(text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" HOTP_COUNTER 3\n", fragment: "imported as HOTP"),
      WarningCase(text: "JBSWY3DPEHPK3PXP\n", fragment: "neither 'TOTP_AUTH' nor 'HOTP_COUNTER'"),
      WarningCase(text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" WINDOW_SIZE 30\n", fragment: "wider than lockstep allows"),
      WarningCase(text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n", fragment: "less than the 128"),
    ])
  func warnings(_ testCase: WarningCase) throws {
    let token = try GoogleAuthenticatorFile.parse(testCase.text)
    #expect(token.warnings.contains { $0.contains(testCase.fragment) }, "\(token.warnings)")
  }

  @Test("duplicates and invalid scratch codes are not imported")
  func scratchCodeFiltering() throws {
    let token = try GoogleAuthenticatorFile.parse(
      "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n12345678\n12345678\n01234567\n99999999\n")
    #expect(token.scratchCodes == [utf8("12345678"), utf8("99999999")])
  }

  struct ErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var line: Int
    var testDescription: String { name }
  }

  static let errorCases: [ErrorCase] = [
    ErrorCase(name: "empty", text: "", line: 0),
    ErrorCase(name: "only a newline", text: "\n", line: 1),
    ErrorCase(name: "missing secret", text: "\" TOTP_AUTH\n12345678\n", line: 1),
    ErrorCase(name: "blank first line", text: "\n\" TOTP_AUTH\n", line: 1),
    ErrorCase(name: "not base32", text: "JBSWY3DPEHPK3PX!\n\" TOTP_AUTH\n", line: 1),
    ErrorCase(name: "garbage", text: "<html><body>Not found</body></html>\n", line: 1),
    ErrorCase(name: "garbage line later", text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\nhello there\n", line: 3),
    ErrorCase(name: "HOTP_COUNTER 0", text: "JBSWY3DPEHPK3PXP\n\" HOTP_COUNTER 0\n", line: 2),
    ErrorCase(
      name: "HOTP_COUNTER overflow", text: "JBSWY3DPEHPK3PXP\n\" HOTP_COUNTER 999999999999999999999999\n", line: 2),
    ErrorCase(name: "HOTP_COUNTER negative", text: "JBSWY3DPEHPK3PXP\n\" HOTP_COUNTER -1\n", line: 2),
    ErrorCase(name: "WINDOW_SIZE 0", text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" WINDOW_SIZE 0\n", line: 3),
    ErrorCase(name: "WINDOW_SIZE 101", text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" WINDOW_SIZE 101\n", line: 3),
    ErrorCase(name: "WINDOW_SIZE missing", text: "JBSWY3DPEHPK3PXP\n\" WINDOW_SIZE\n", line: 2),
    ErrorCase(name: "STEP_SIZE 61", text: "JBSWY3DPEHPK3PXP\n\" STEP_SIZE 61\n", line: 2),
    ErrorCase(name: "STEP_SIZE word", text: "JBSWY3DPEHPK3PXP\n\" STEP_SIZE thirty\n", line: 2),
    ErrorCase(name: "DISALLOW_REUSE word", text: "JBSWY3DPEHPK3PXP\n\" DISALLOW_REUSE 1 x\n", line: 2),
    ErrorCase(name: "TIME_SKEW huge", text: "JBSWY3DPEHPK3PXP\n\" TIME_SKEW -99999999\n", line: 2),
    ErrorCase(
      name: "too many scratch codes",
      text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n" + (10_000_000..<10_000_101).map { "\($0)\n" }.joined(), line: 103),
    ErrorCase(
      name: "huge", text: "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n" + String(repeating: "\" X\n", count: 20_000), line: 0),
  ]

  @Test("bad files are refused with the line at fault", arguments: errorCases)
  func errors(_ testCase: ErrorCase) {
    #expect(throws: LineError.self) { try GoogleAuthenticatorFile.parse(testCase.text) }
    do throws(LineError) {
      _ = try GoogleAuthenticatorFile.parse(testCase.text)
    } catch {
      #expect(error.line == testCase.line, "\(error)")
      #expect(!error.reason.isEmpty)
      #expect(!error.description.contains("JBSWY3DPEHPK3PX"), "the error quotes the secret")
    }
  }

  @Test("no message quotes the secret or a scratch code")
  func messagesAreClean() throws {
    let token = try GoogleAuthenticatorFile.parse(
      "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" WEIRD\n12345678\n12345678\n01234567\n")
    #expect(!token.warnings.isEmpty)
    for warning in token.warnings {
      #expect(!warning.contains("JBSWY3DPEHPK3PXP"))
      #expect(!warning.contains("12345678"))
      #expect(!warning.contains("01234567"))
    }
  }

  @Test("random bytes never crash the parser")
  func randomInput() {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    let alphabet = Array("JBSWY3DP\" \n\r0123456789TOTP_AUTHWINDOW_SIZE-\u{0}\u{ff}".utf8)
    for _ in 0..<2000 {
      let length = Int.random(in: 0...200, using: &generator)
      var input = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
      if Bool.random(using: &generator) { input = utf8("JBSWY3DPEHPK3PXP\n") + input }
      _ = try? GoogleAuthenticatorFile.parse(bytes: input)
    }
  }
}
