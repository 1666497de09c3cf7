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
      name: "Debian 12's shipped sshd_config",
      text: """
        Include /etc/ssh/sshd_config.d/*.conf
        #PasswordAuthentication yes
        #PermitEmptyPasswords no
        KbdInteractiveAuthentication no
        UsePAM yes
        X11Forwarding yes
        PrintMotd no
        AcceptEnv LANG LC_*
        Subsystem\tsftp\t/usr/lib/openssh/sftp-server
        """,
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
