import Foundation
import LockstepCore
import Testing

/// Nasty answers, user names and records through real libpam, one table: each gets its expected
/// PAM code and changes nothing (every file under the sandbox and /etc/shadow are compared byte
/// for byte before and after). Answers are built from the right code, so a lax parser that
/// found the code inside one would let it in.
@Suite struct HostileInputTests {
  static let now = LoginTests.now

  /// What a case does to the sandbox before the login.
  enum Plant: Sendable {
    case nothing
    /// The record replaced by a symbolic link to this path.
    case symlink(String)
    /// The record replaced by a symbolic link to a valid copy of itself outside the store.
    case symlinkToACopy
    case fifo
    case hardLink
    case directory
    case mode(Int)
    case owner(uid_t)
    /// A valid copy of alice's record at this path, relative to the store, for names that
    /// would reach it if they escaped.
    case copy(String)
  }

  /// One row of the table.
  struct Case: CustomStringConvertible, Sendable {
    var description: String
    var user = "alice"
    /// The driver's answer arguments, given the right code.
    var answer: @Sendable (String) -> [String] = { ["--answer", $0] }
    var plant = Plant.nothing
    var result = "PAM_AUTH_ERR"
    /// Whether the module prompts at all.
    var prompts = true
    /// Something the module must log.
    var logged: String?
  }

  static let notACode = "the answer is not a code"
  static let unusableName = "refusing an unusable user name"

  /// A case of a damaged record, which the module refuses to read.
  static func record(_ description: String, _ plant: Plant, logged: String) -> Case {
    Case(
      description: "record " + description, plant: plant, result: "PAM_AUTHINFO_UNAVAIL", prompts: false, logged: logged
    )
  }

  static let cases: [Case] = [
    Case(description: "empty answer", answer: { _ in ["--answer", ""] }, logged: notACode),
    Case(description: "10 MB answer", answer: { _ in ["--answer-repeat", "10485760:7"] }, logged: notACode),
    Case(
      description: "NUL inside the code",
      answer: { ["--answer-hex", hex($0.prefix(3)) + "00" + hex($0.dropFirst(3))] },
      logged: notACode),
    Case(description: "not UTF-8", answer: { ["--answer-hex", "fffe" + hex($0)] }, logged: notACode),
    Case(description: "five digits of the code", answer: { ["--answer", String($0.prefix(5))] }, logged: notACode),
    Case(description: "the code and a seventh digit", answer: { ["--answer", $0 + "0"] }, logged: notACode),
    Case(description: "the code and three more digits", answer: { ["--answer", $0 + "000"] }, logged: notACode),
    Case(description: "plus sign", answer: { ["--answer", "+" + $0] }, logged: notACode),
    Case(description: "full-width digits", answer: { ["--answer", fullWidth($0)] }, logged: notACode),
    Case(description: "format string", answer: { _ in ["--answer", "%s%n%x%p"] }, logged: notACode),
    // Spaces are what people type around codes: the one case that is let in.
    Case(description: "leading and trailing spaces", answer: { ["--answer", "  \($0)\t "] }, result: "PAM_SUCCESS"),
    Case(description: "user ../root", user: "../root", plant: .copy("../root"), prompts: false, logged: unusableName),
    Case(description: "user a/b", user: "a/b", plant: .copy("a/b"), prompts: false, logged: unusableName),
    Case(
      description: "user of 300 characters", user: String(repeating: "x", count: 300), prompts: false,
      logged: unusableName),
    Case(description: "user /etc/passwd", user: "/etc/passwd", prompts: false, logged: unusableName),
    Case(description: "user .alice.state", user: ".alice.state", prompts: false, logged: unusableName),
    Case(description: "user with a control character", user: "al\u{1}ice", prompts: false, logged: unusableName),
    record("is a symlink to /etc/shadow", .symlink("/etc/shadow"), logged: "symbolic link"),
    record("is a symlink to a valid record", .symlinkToACopy, logged: "symbolic link"),
    record("is a FIFO", .fifo, logged: "not a regular file"),
    record("has a hard link", .hardLink, logged: "2 hard links"),
    record("is a directory", .directory, logged: "not a regular file"),
    record("is group-readable", .mode(0o640), logged: "accessible by group or others"),
    record("is group-writable", .mode(0o660), logged: "accessible by group or others"),
    record("is readable by others", .mode(0o604), logged: "accessible by group or others"),
    record("is writable by others", .mode(0o606), logged: "accessible by group or others"),
    record("is owned by the user", .owner(65534), logged: "not owned by root"),
  ]

  @Test(arguments: cases)
  func nastyInput(_ nasty: Case) throws {
    let sandbox = try Sandbox()
    let enrolled = try sandbox.enroll("alice")
    try plant(nasty.plant, in: sandbox)
    let before = try Self.snapshot(sandbox.root)
    let shadow = try Self.snapshot("/etc/shadow")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(
      LoginRequest(user: nasty.user, extraArguments: nasty.answer(code), time: Self.now, timeLimit: 60))
    #expect(login.status == 0)
    #expect(login.result == nasty.result)
    #expect(login.prompts.count == (nasty.prompts ? 1 : 0))
    if let logged = nasty.logged {
      #expect(sandbox.logLines().contains { $0.contains(logged) }, "\(sandbox.logLines())")
    }
    #expect(try Self.snapshot("/etc/shadow") == shadow)
    if nasty.result == "PAM_SUCCESS" {
      let record = try #require(try sandbox.record("alice"))
      #expect(record.lastStep == Self.now / 30)
      #expect(record.failures == 0 && record.backupCodes == enrolled.backupCodes)
    } else {
      #expect(try Self.snapshot(sandbox.root).filter { $0.key != "/syslog" } == before.filter { $0.key != "/syslog" })
    }
  }

  /// Damages the sandbox as `plant` says.
  func plant(_ plant: Plant, in sandbox: Sandbox) throws {
    let record = sandbox.store + "/alice"
    let files = FileManager.default
    switch plant {
    case .nothing: break
    case .symlink(let target):
      try files.removeItem(atPath: record)
      try files.createSymbolicLink(atPath: record, withDestinationPath: target)
    case .symlinkToACopy:
      try files.moveItem(atPath: record, toPath: sandbox.root + "/copy")
      try files.createSymbolicLink(atPath: record, withDestinationPath: sandbox.root + "/copy")
    case .fifo:
      try files.removeItem(atPath: record)
      guard mkfifo(record, 0o600) == 0 else { throw TestFailure("mkfifo failed") }
    case .hardLink: try files.linkItem(atPath: record, toPath: sandbox.root + "/copy")
    case .directory:
      try files.removeItem(atPath: record)
      try files.createDirectory(
        atPath: record, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    case .mode(let mode): try setMode(record, mode)
    case .owner(let uid): try setOwner(record, uid: uid)
    case .copy(let relative):
      let path = sandbox.store + "/" + relative
      try files.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
      try files.copyItem(atPath: record, toPath: path)
    }
  }

  /// Every file under `path` (or `path` itself): its kind, mode, owner, link target and bytes,
  /// keyed by its path relative to `path`. FIFOs are not opened.
  static func snapshot(_ path: String) throws -> [String: String] {
    var result: [String: String] = [:]
    let names = (FileManager.default.subpaths(atPath: path) ?? []).map { "/" + $0 } + [""]
    for name in names {
      var st = stat()
      guard lstat(path + name, &st) == 0 else { throw TestFailure("lstat \(path + name) failed") }
      var entry = "mode=\(String(st.st_mode, radix: 8)) uid=\(st.st_uid) links=\(st.st_nlink) inode=\(st.st_ino)"
      switch st.st_mode & S_IFMT {
      case S_IFREG:
        entry += " bytes=" + ((try? Data(contentsOf: URL(fileURLWithPath: path + name)))?.base64EncodedString() ?? "?")
      case S_IFLNK:
        entry += " target=" + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path + name)) ?? "?")
      default: break
      }
      result[name] = entry
    }
    return result
  }

  @Test func missingConversationIsAConversationError() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let login = try sandbox.login(LoginRequest(extraArguments: ["--no-conv"], time: Self.now))
    #expect(login.result == "PAM_CONV_ERR")
    #expect(try sandbox.record("alice")?.failures == 0)
  }

  @Test func failingConversationIsAConversationError() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let login = try sandbox.login(LoginRequest(extraArguments: ["--fail-conv"], time: Self.now))
    #expect(login.result == "PAM_CONV_ERR")
    #expect(try sandbox.record("alice")?.failures == 0)
  }

  @Test func conversationWithoutAnAnswerIsAConversationError() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    #expect(try sandbox.login(answers: [], at: Self.now).result == "PAM_CONV_ERR")
  }

  @Test(arguments: ["bogus", "window=eleven", "window=11", "max_failures=0", "store=relative/path", "nullok=1"])
  func badModuleArgumentIsRefused(argument: String) throws {
    let sandbox = try Sandbox(arguments: [argument])
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(answers: [code], at: Self.now)
    #expect(login.result == "PAM_SERVICE_ERR")
    #expect(login.prompts.isEmpty)
    #expect(sandbox.logLines().contains { $0.contains("configuration error") && $0.contains("<83>") })
  }

  @Test func userNameAskedThroughTheConversation() throws {
    // With no PAM_USER set, pam_get_user asks for it through the conversation first.
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(LoginRequest(user: nil, answers: ["alice", code], time: Self.now))
    #expect(login.result == "PAM_SUCCESS")
    #expect(login.prompts.count == 2)
  }
}

/// The bytes of `text` in hex, for `--answer-hex`.
func hex<S: StringProtocol>(_ text: S) -> String {
  text.utf8.map { String(format: "%02x", $0) }.joined()
}

/// `text` with its ASCII digits replaced by full-width ones (U+FF10 to U+FF19).
func fullWidth(_ text: String) -> String {
  String(String.UnicodeScalarView(text.unicodeScalars.map { Unicode.Scalar($0.value - 0x30 + 0xFF10) ?? $0 }))
}
