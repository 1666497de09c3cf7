import LockstepAdmin
import LockstepCore
import Testing

/// The rules of the /etc/pam.d audit, one hand-written stack each.
@Suite("PamConfigAudit")
struct PamConfigAuditTests {
  /// A finding reduced to what the rules promise: rule, severity and line.
  struct Expected: Equatable, Sendable, CustomStringConvertible {
    var rule: String
    var severity: Severity
    var line: Int
    init(_ rule: String, _ severity: Severity, _ line: Int) {
      self.rule = rule
      self.severity = severity
      self.line = line
    }
    var description: String { "\(rule) \(severity) @\(line)" }
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var fileName = "sudo"
    var text: String
    var expected: [Expected]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "the README's sudo stack is clean", text: "auth required pam_lockstep.so\n@include common-auth\n",
      expected: []),
    Case(
      name: "full path, requisite and valid arguments are clean",
      text: "auth requisite /lib/x86_64-linux-gnu/security/pam_lockstep.so window=2 store=/srv/otp debug\n",
      expected: []),
    Case(
      name: "a bracketed control that fails on a wrong code is clean",
      text: "auth [success=ok new_authtok_reqd=ok ignore=ignore default=bad] pam_lockstep.so\n", expected: []),
    Case(
      name: "no lockstep line", text: "# nothing\nauth required pam_unix.so\n",
      expected: [Expected("pam.not-loaded", .info, 0)]),
    Case(
      name: "a commented-out lockstep line is not loaded",
      text: "#auth required pam_lockstep.so\n  # auth sufficient pam_lockstep.so\n",
      expected: [Expected("pam.not-loaded", .info, 0)]),
    Case(
      name: "a different module with a similar name is not lockstep",
      text: "auth required pam_lockstep.so.bak\nauth required /x/not_pam_lockstep.so\n",
      expected: [Expected("pam.not-loaded", .info, 0)]),
    Case(
      name: "sufficient", text: "auth sufficient pam_lockstep.so\n@include common-auth\n",
      expected: [Expected("pam.sufficient", .error, 1)]),
    Case(
      name: "control keywords are case-insensitive", text: "AUTH Sufficient pam_lockstep.so\n",
      expected: [Expected("pam.sufficient", .error, 1)]),
    Case(
      name: "success=done acts like sufficient", text: "auth [success=done default=die] pam_lockstep.so\n",
      expected: [Expected("pam.sufficient", .error, 1)]),
    Case(
      name: "sufficient with nullok", text: "auth sufficient pam_lockstep.so nullok\n",
      expected: [
        Expected("pam.sufficient", .error, 1), Expected("pam.nullok-sufficient", .error, 1),
        Expected("pam.nullok", .info, 1),
      ]),
    Case(name: "optional", text: "auth optional pam_lockstep.so\n", expected: [Expected("pam.optional", .error, 1)]),
    Case(
      name: "a bracketed control that ignores a wrong code",
      text: "auth [success=ok default=ignore] pam_lockstep.so\n", expected: [Expected("pam.optional", .error, 1)]),
    Case(
      name: "a bracketed control that ignores a lockout",
      text: "auth [success=ok maxtries=ignore default=bad] pam_lockstep.so\n",
      expected: [Expected("pam.optional", .error, 1)]),
    Case(name: "nullok", text: "auth required pam_lockstep.so nullok\n", expected: [Expected("pam.nullok", .info, 1)]),
    Case(
      name: "invitations after a password are clean",
      text: "@include common-auth\nauth required pam_lockstep.so invitations\n", expected: []),
    Case(
      name: "invitations with no password before them",
      text: "auth required pam_lockstep.so invitations\n@include common-auth\n",
      expected: [Expected("pam.invitations", .warning, 1)]),
    Case(
      name: "wrong types", text: "account required pam_lockstep.so\nsession optional pam_lockstep.so\n",
      expected: [Expected("pam.type", .error, 1), Expected("pam.type", .error, 2)]),
    Case(
      name: "unknown and invalid arguments", text: "auth required pam_lockstep.so windw=3 window=99\n",
      expected: [Expected("pam.argument", .error, 1), Expected("pam.argument", .error, 1)]),
    Case(
      name: "a bracketed argument with spaces and an escaped bracket is one argument",
      text: "auth required pam_lockstep.so [prompt=Your code \\] here: ] debug\n", expected: []),
    Case(
      name: "a bracketed argument that is not valid", text: "auth required pam_lockstep.so [store=relative dir]\n",
      expected: [Expected("pam.argument", .error, 1)]),
    Case(
      name: "an unclosed bracket", text: "auth required pam_lockstep.so [prompt=Code: \n",
      expected: [Expected("pam.syntax", .error, 1), Expected("pam.not-loaded", .info, 0)]),
    Case(
      name: "too few fields", text: "auth required\nauth required pam_lockstep.so\n",
      expected: [Expected("pam.syntax", .error, 1)]),
    Case(
      name: "-auth", text: "-auth required pam_lockstep.so\n", expected: [Expected("pam.quiet", .warning, 1)]),
    Case(
      name: "a line continued with a backslash is one line, reported at its first line",
      text: "auth \\\n  sufficient \\\n  pam_lockstep.so \\\n  nullok\nauth required pam_unix.so\n",
      expected: [
        Expected("pam.sufficient", .error, 1), Expected("pam.nullok-sufficient", .error, 1),
        Expected("pam.nullok", .warning, 1),
      ]),
    Case(
      name: "a comment ends the line, continuation or not",
      text: "auth required pam_lockstep.so # nullok\n", expected: []),
    Case(
      name: "pam_unix sufficient before lockstep",
      text: "auth sufficient pam_unix.so\nauth required pam_lockstep.so\n",
      expected: [Expected("pam.skippable", .warning, 2)]),
    Case(
      name: "pam_unix sufficient after lockstep is fine",
      text: "auth required pam_lockstep.so\nauth sufficient pam_unix.so\n", expected: []),
    Case(
      name: "a jump that lands on lockstep's line skips it",
      text: "auth [success=1 default=ignore] pam_unix.so\nauth required pam_lockstep.so\nauth requisite pam_deny.so\n",
      expected: [Expected("pam.skippable", .warning, 2)]),
    Case(
      name: "a jump that stops short of lockstep does not",
      text:
        "auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\nauth required pam_permit.so\nauth required pam_lockstep.so\n",
      expected: []),
    Case(
      name: "a jump counts only auth lines",
      text:
        "auth [success=1 default=ignore] pam_unix.so\naccount required pam_unix.so\nauth requisite pam_deny.so\nauth required pam_lockstep.so\n",
      expected: []),
    Case(
      name: "su's pam_rootok before lockstep only lets root through",
      text: "auth sufficient pam_rootok.so\n@include common-auth\nauth required pam_lockstep.so nullok\n",
      expected: [Expected("pam.nullok", .warning, 3)]),
    Case(
      name: "nullok after a password module lets an unenrolled user in on the password alone",
      text: "auth required pam_unix.so\nauth required pam_lockstep.so nullok\n",
      expected: [Expected("pam.nullok", .warning, 2)]),
    Case(
      name: "nullok with only pam_rootok and pam_deny beside it lets no one in without a code",
      text: "auth sufficient pam_rootok.so\nauth required pam_lockstep.so nullok\nauth requisite pam_deny.so\n"
        + "@include common-account\n",
      expected: [Expected("pam.nullok", .info, 2)]),
    Case(
      name: "success=done before lockstep",
      text: "auth [success=done default=ignore] pam_sss.so\nauth required pam_lockstep.so\n",
      expected: [Expected("pam.skippable", .warning, 2)]),
    Case(
      name: "sshd with common-auth asks for the password too", fileName: "/etc/pam.d/sshd",
      text: "@include common-auth\nauth required pam_lockstep.so\n",
      expected: [Expected("pam.sshd-common-auth", .info, 1)]),
    Case(
      name: "sshd with 'auth include common-auth'", fileName: "sshd-lockstep",
      text: "auth required pam_lockstep.so\nauth include common-auth\n",
      expected: [Expected("pam.sshd-common-auth", .info, 2)]),
    Case(
      name: "common-auth in sudo is expected", fileName: "sudo",
      text: "auth required pam_lockstep.so\n@include common-auth\n", expected: []),
    Case(
      name: "CRLF", text: "auth sufficient pam_lockstep.so\r\nauth required pam_unix.so\r\n",
      expected: [Expected("pam.sufficient", .error, 1)]),
  ]

  @Test("each rule fires exactly where it should", arguments: cases)
  func rules(_ testCase: Case) {
    let findings = PamConfigAudit.audit(fileName: testCase.fileName, text: testCase.text)
    let got = findings.map { Expected($0.rule, $0.severity, $0.line) }
    #expect(
      got.sorted { $0.description < $1.description } == testCase.expected.sorted { $0.description < $1.description })
    for finding in findings {
      #expect(!finding.message.isEmpty && !finding.fix.isEmpty)
      #expect(finding.message.hasSuffix(".") && finding.fix.hasSuffix("."), "\(finding)")
    }
  }

  @Test("lines are split as Linux-PAM splits them")
  func parsing() {
    let (lines, errors) = PamConfigAudit.parse(
      "-Auth [success=2 default=ignore] /lib/security/pam_lockstep.so [prompt=A ]B: ] nullok # x\n")
    #expect(errors.isEmpty)
    #expect(
      lines == [
        PamConfigAudit.Line(
          number: 1, type: "auth", quiet: true, control: "success=2 default=ignore", bracketed: true,
          module: "/lib/security/pam_lockstep.so", arguments: ["prompt=A ", "B:", "]", "nullok"])
      ])
    #expect(lines.first?.action(for: "success") == "2")
    #expect(lines.first?.action(for: "auth_err") == "ignore")
    #expect(lines.first?.loadsLockstep == true)
  }

  @Test("severities are ordered so the worst is the maximum")
  func severityOrder() {
    #expect(Severity.info < .warning)
    #expect(Severity.warning < .error)
    #expect([Severity.warning, .error, .info].max() == .error)
  }

  @Test("a huge file is refused without being read")
  func huge() {
    let findings = PamConfigAudit.audit(
      fileName: "sshd", text: String(repeating: "auth sufficient pam_lockstep.so\n", count: 40_000))
    #expect(findings.map(\.rule) == ["pam.too-large"])
  }

  @Test("random text never crashes the audit")
  func randomInput() {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    let pieces = [
      "auth", "-auth", "required", "sufficient", "[", "]", "\\]", "\\", "\n", " ", "pam_lockstep.so", "=", "success",
      "done", "1", "#", "@include", "window=", "nullok", "\r",
    ]
    for _ in 0..<2000 {
      let count = Int.random(in: 0...30, using: &generator)
      let text = (0..<count).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &generator)] }.joined()
      _ = PamConfigAudit.audit(fileName: "sshd", text: text)
    }
  }
}
