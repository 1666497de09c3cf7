import Foundation
import LockstepCore
import Testing

/// The module's log lines end in `rhost=HOST user=NAME`, and a log tool reads them with a
/// pattern such as fail2ban's `rhost=<HOST>`, which takes the first match. A user name chosen
/// by whoever connects (`ssh 'root rhost=203.0.113.66'@host`) must never add a field, least of
/// all a `rhost=` that such a pattern would take for the real one.
@Suite struct LogFieldTests {
  static let now = LoginTests.now

  /// What a first-match `rhost=(\S+)` pattern, as fail2ban's filters use, reads from `line`.
  func firstRemoteHost(in line: String) -> String? {
    guard let range = line.range(of: #"rhost=(\S+)"#, options: .regularExpression) else { return nil }
    return String(line[range].dropFirst("rhost=".count))
  }

  @Test(
    arguments: [
      "root rhost=203.0.113.66", "root;rhost=203.0.113.66", "x\u{200B} rhost=203.0.113.66", "a\"b rhost=203.0.113.66",
      "root\u{200F}", "rhost=203.0.113.66",
    ])
  func aForgedNameCannotAddAField(name: String) throws {
    let sandbox = try Sandbox()
    let login = try sandbox.login(LoginRequest(user: name, answers: ["123456"], time: Self.now))
    #expect(login.result == "PAM_AUTH_ERR")
    let lines = sandbox.logLines()
    try #require(!lines.isEmpty)
    for line in lines {
      #expect(firstRemoteHost(in: line) == "192.0.2.7", "\(line)")
      #expect(line.components(separatedBy: "rhost=").count == 2, "\(line)")
      #expect(!line.unicodeScalars.contains { [0x200B, 0x200F].contains($0.value) }, "\(line)")
      // A log tool that parses the fields gets the name back whole, in the one user field.
      let fields = try #require(LogLine.fields(of: line), "\(line)")
      #expect(fields.filter { $0.key == "user" }.map(\.value) == [name], "\(line)")
      #expect(fields.filter { $0.key == "rhost" }.map(\.value) == ["192.0.2.7"], "\(line)")
    }
  }

  /// The fields of pam_lockstep(8), LOG FORMAT, as a log tool reads them, for each outcome.
  @Test func eachOutcomeHasTheDocumentedFields() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let step = Self.now / 30
    let good = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login("alice", answers: ["000000"], at: Self.now).result == "PAM_AUTH_ERR")
    #expect(try sandbox.login("alice", answers: [good], at: Self.now).result == "PAM_SUCCESS")
    #expect(try sandbox.login("alice", answers: [good], at: Self.now).result == "PAM_AUTH_ERR")
    let parsed = sandbox.logLines().compactMap { LogLine.fields(of: $0) }.map { fields in
      fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
    let who = "service=lockstep-test rhost=192.0.2.7 user=alice"
    #expect(
      parsed == [
        "event=login outcome=refused reason=wrong-code failures=1 max=5 \(who)",
        "event=login outcome=accepted method=totp step=\(step) \(who)",
        "event=login outcome=refused reason=replay step=\(step) failures=1 max=5 \(who)",
      ])
  }

  @Test func aNameTooLongToShowWholeSaysItWasCut() throws {
    let sandbox = try Sandbox()
    let long = String(repeating: "a", count: 300)
    #expect(try sandbox.login(LoginRequest(user: long, answers: [], time: Self.now)).result == "PAM_AUTH_ERR")
    #expect(sandbox.logLines().contains { $0.hasSuffix("user=" + String(repeating: "a", count: 256) + "\\...") })
  }
}
