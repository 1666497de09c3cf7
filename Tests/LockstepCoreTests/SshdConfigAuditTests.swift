import LockstepAdmin
import LockstepCore
import Testing

/// The rules of the sshd_config audit, one hand-written configuration each.
@Suite("SshdConfigAudit")
struct SshdConfigAuditTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    /// Rule, severity and line of every finding.
    var expected: [String]
    var testDescription: String { name }
  }

  /// Debian 12's sshd_config, without its comments but for two, and the lines that do not matter here.
  static let debian = """
    Include /etc/ssh/sshd_config.d/*.conf
    #PasswordAuthentication yes
    #PermitEmptyPasswords no
    KbdInteractiveAuthentication no
    UsePAM yes
    X11Forwarding yes
    PrintMotd no
    AcceptEnv LANG LC_*
    Subsystem\tsftp\t/usr/lib/openssh/sftp-server
    """

  /// pam.d-examples/sshd_config-key-then-code without its comments, which the README puts in
  /// /etc/ssh/sshd_config.d/lockstep.conf.
  static let keyThenCode = """
    UsePAM yes
    PubkeyAuthentication yes
    KbdInteractiveAuthentication yes
    PasswordAuthentication no
    AuthenticationMethods publickey,keyboard-interactive
    """

  /// An `Include` reader over `files` (path → text; `nil` for one that cannot be read) that
  /// expands a trailing `*.conf` in sorted order, and records the patterns it was asked for.
  final class Files: @unchecked Sendable {
    let files: [String: String?]
    var asked: [String] = []
    init(_ files: [String: String?]) { self.files = files }

    func read(_ pattern: String) -> [(path: String, text: String?)] {
      asked.append(pattern)
      let matches =
        pattern.hasSuffix("/*.conf")
        ? files.keys.filter { $0.hasPrefix(String(pattern.dropLast(6))) && $0.hasSuffix(".conf") }.sorted()
        : files.keys.filter { $0 == pattern }
      return matches.map { ($0, files[$0] ?? nil) }
    }
  }

  @Test("the README's layout: the lines in sshd_config.d/lockstep.conf win over Debian's file")
  func readmeLayout() {
    let files = Files(["/etc/ssh/sshd_config.d/lockstep.conf": Self.keyThenCode])
    #expect(SshdConfigAudit.audit(text: Self.debian, include: files.read).isEmpty)
    #expect(files.asked == ["/etc/ssh/sshd_config.d/*.conf"])
    // Control: the same lines at the end of sshd_config lose to Debian's earlier "no".
    let appended = SshdConfigAudit.audit(text: Self.debian + "\n" + Self.keyThenCode, include: Files([:]).read)
    #expect(appended.map(\.rule) == ["sshd.kbdinteractive"])
    #expect(appended.first?.line == 4 && appended.first?.file == "")
  }

  @Test("included files are read in place and in order, and findings name the file and line they are in")
  func includeOrder() {
    let files = Files([
      "/etc/ssh/sshd_config.d/10-a.conf": "# a\nPasswordAuthentication yes\n",
      "/etc/ssh/sshd_config.d/20-b.conf":
        "PasswordAuthentication no\nMatch User x\n  AuthenticationMethods publickey\n",
    ])
    let text = "UsePAM yes\nInclude /etc/ssh/sshd_config.d/*.conf\nAuthenticationMethods keyboard-interactive\n"
    let findings = SshdConfigAudit.audit(text: text, include: files.read)
    let got = findings.map { "\($0.rule) \($0.file):\($0.line)" }
    #expect(
      got.sorted() == [
        "sshd.match /etc/ssh/sshd_config.d/20-b.conf:3", "sshd.password /etc/ssh/sshd_config.d/10-a.conf:2",
      ])
    // A setting in the including file before the Include line wins over the included one.
    let first = SshdConfigAudit.parse("PasswordAuthentication no\n" + text, include: files.read)
    #expect(first.word("passwordauthentication")?.value == "no")
    #expect(first.origin(of: first.word("authenticationmethods")?.line ?? 0) == ("", 4))
  }

  @Test("an Include that cannot be read is noted; one that includes itself stops at sshd's depth")
  func includeProblems() {
    let unreadable = SshdConfigAudit.audit(text: "Include /x.conf\n" + Self.good, include: Files(["/x.conf": nil]).read)
    #expect(unreadable.map { "\($0.rule) \($0.line)" } == ["sshd.include 1"])
    let files = Files(["/loop.conf": "Include /loop.conf\n"])
    let looping = SshdConfigAudit.audit(text: "Include /loop.conf\n" + Self.good, include: files.read)
    #expect(files.asked.count == SshdConfigAudit.maximumIncludeDepth)
    #expect(looping.map(\.rule) == ["sshd.include"])
    #expect(looping.first?.file == "/loop.conf")
    // Files that each include all of them would be read 4^16 times without a budget.
    let names = (1...4).map { "/d/\($0).conf" }
    let crossed = Files(Dictionary(uniqueKeysWithValues: names.map { ($0, "Include /d/*.conf\n" as String?) }))
    let budget = SshdConfigAudit.parse("Include /d/*.conf\n" + Self.good, include: crossed.read)
    #expect(crossed.asked.count <= SshdConfigAudit.maximumIncludedFiles + 1)
    #expect(!budget.includes.isEmpty)
    #expect(budget.word("usepam")?.value == "yes")
  }

  @Test("sshd's effective configuration decides, placed where the files set each value")
  func effective() {
    let effective = """
      usepam yes
      kbdinteractiveauthentication yes
      passwordauthentication no
      authenticationmethods publickey,keyboard-interactive
      pubkeyauthentication yes
      """
    #expect(SshdConfigAudit.audit(text: Self.debian, effective: effective).isEmpty)
    let defaults = effective.replacingOccurrences(of: "publickey,keyboard-interactive", with: "any")
      .replacingOccurrences(of: "kbdinteractiveauthentication yes", with: "kbdinteractiveauthentication no")
    let findings = SshdConfigAudit.audit(text: Self.debian, effective: defaults)
    #expect(findings.map { "\($0.rule) \($0.line)" } == ["sshd.kbdinteractive 4", "sshd.authmethods-missing 0"])
  }

  static let good = """
    UsePAM yes
    KbdInteractiveAuthentication yes
    PasswordAuthentication no
    AuthenticationMethods publickey,keyboard-interactive
    """

  static let cases: [Case] = [
    Case(name: "the README's settings are clean", text: good, expected: []),
    Case(
      name: "keyboard-interactive alone, with a PAM submethod, is clean",
      text: "UsePAM yes\nPasswordAuthentication no\nAuthenticationMethods keyboard-interactive:pam\n", expected: []),
    Case(
      name: "keywords in any case, '=' separators and quotes",
      text:
        "usepam=yes\nKBDINTERACTIVEAUTHENTICATION = yes\npasswordauthentication \"no\"\nAuthenticationMethods=publickey,keyboard-interactive\n",
      expected: []),
    Case(
      name: "UsePAM missing defaults to no",
      text: "PasswordAuthentication no\nAuthenticationMethods publickey,keyboard-interactive\n",
      expected: ["sshd.usepam error 0"]),
    Case(
      name: "UsePAM no", text: "UsePAM no\nPasswordAuthentication no\nAuthenticationMethods keyboard-interactive\n",
      expected: ["sshd.usepam error 1"]),
    Case(
      name: "the first value wins",
      text: "UsePAM no\nUsePAM yes\nPasswordAuthentication no\nAuthenticationMethods keyboard-interactive\n",
      expected: ["sshd.usepam error 1"]),
    Case(
      name: "the first value wins the other way too",
      text: "UsePAM yes\nUsePAM no\nPasswordAuthentication no\nAuthenticationMethods keyboard-interactive\n",
      expected: []),
    Case(
      name: "Debian's shipped KbdInteractiveAuthentication no",
      text:
        "UsePAM yes\nKbdInteractiveAuthentication no\nPasswordAuthentication no\nAuthenticationMethods keyboard-interactive\n",
      expected: ["sshd.kbdinteractive error 2"]),
    Case(
      name: "the deprecated ChallengeResponseAuthentication no",
      text:
        "UsePAM yes\nChallengeResponseAuthentication no\nPasswordAuthentication no\nAuthenticationMethods keyboard-interactive\n",
      expected: ["sshd.kbdinteractive error 2", "sshd.challengeresponse info 2"]),
    Case(
      name: "the alias shares the first-value-wins slot",
      text:
        "UsePAM yes\nChallengeResponseAuthentication yes\nKbdInteractiveAuthentication no\nPasswordAuthentication no\nAuthenticationMethods keyboard-interactive\n",
      expected: ["sshd.challengeresponse info 2"]),
    Case(
      name: "no AuthenticationMethods", text: "UsePAM yes\nPasswordAuthentication no\n",
      expected: ["sshd.authmethods-missing warning 0"]),
    Case(
      name: "AuthenticationMethods any", text: "UsePAM yes\nPasswordAuthentication no\nAuthenticationMethods any\n",
      expected: ["sshd.authmethods-missing warning 3"]),
    Case(
      name: "a list without keyboard-interactive",
      text:
        "UsePAM yes\nPasswordAuthentication no\nAuthenticationMethods publickey,keyboard-interactive publickey,password\n",
      expected: ["sshd.authmethods-list error 3"]),
    Case(
      name: "no list with keyboard-interactive",
      text: "UsePAM yes\nPasswordAuthentication no\nAuthenticationMethods publickey\n",
      expected: ["sshd.authmethods-list error 3"]),
    Case(
      name: "PasswordAuthentication absent defaults to yes",
      text: "UsePAM yes\nAuthenticationMethods publickey,keyboard-interactive\n",
      expected: ["sshd.password warning 0"]),
    Case(
      name: "PasswordAuthentication yes",
      text: "UsePAM yes\nPasswordAuthentication yes\nAuthenticationMethods publickey,keyboard-interactive\n",
      expected: ["sshd.password warning 2"]),
    Case(
      name: "Match blocks are noted, not applied",
      text: good + "\nMatch User backup\n  AuthenticationMethods publickey\n  PasswordAuthentication yes\n",
      expected: ["sshd.match info 6", "sshd.match info 7"]),
    Case(
      name: "Include is noted", text: "Include /etc/ssh/sshd_config.d/*.conf\n" + good,
      expected: ["sshd.include info 1"]),
    Case(
      name: "comments and blank lines are skipped",
      text: "# UsePAM no\n\n   # KbdInteractiveAuthentication no\n" + good, expected: []),
    Case(
      name: "Debian 12's shipped sshd_config", text: debian,
      expected: ["sshd.include info 1", "sshd.kbdinteractive error 4", "sshd.authmethods-missing warning 0"]),
  ]

  @Test("each rule fires exactly where it should", arguments: cases)
  func rules(_ testCase: Case) {
    let findings = SshdConfigAudit.audit(text: testCase.text)
    let got = findings.map { "\($0.rule) \($0.severity) \($0.line)" }
    #expect(got.sorted() == testCase.expected.sorted())
    for finding in findings {
      #expect(finding.message.hasSuffix(".") && finding.fix.hasSuffix("."), "\(finding)")
    }
  }

  @Test("findings come worst first")
  func order() {
    let findings = SshdConfigAudit.audit(text: "Include x\nUsePAM no\n")
    #expect(findings.map(\.severity) == findings.map(\.severity).sorted(by: >))
    #expect(findings.first?.severity == .error)
  }

  @Test("settings keep the first value and the Match overrides")
  func settings() {
    let settings = SshdConfigAudit.parse("UsePAM yes\nusepam no\nMatch all\nUsePAM no\nPasswordAuthentication no\n")
    #expect(settings.word("usepam")?.value == "yes")
    #expect(settings.word("usepam")?.line == 1)
    #expect(settings.word("passwordauthentication") == nil)
    #expect(settings.matchOverrides == ["usepam": 4, "passwordauthentication": 5])
  }

  @Test("random text never crashes the audit")
  func randomInput() {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    let pieces = ["UsePAM", "AuthenticationMethods", "yes", "no", "=", "\"", " ", "\n", ",", ":", "Match", "#", "\r"]
    for _ in 0..<2000 {
      let count = Int.random(in: 0...30, using: &generator)
      let text = (0..<count).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &generator)] }.joined()
      _ = SshdConfigAudit.audit(text: text)
    }
  }
}
