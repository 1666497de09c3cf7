import LockstepAdmin
import LockstepCore

/// Any text through the audit of `sshd_config` that `lockstep check` runs.
///
/// Properties: findings are most serious first, then in line order, about lines the file has,
/// and one safe line each; the rules the README promises hold for the settings read: `UsePAM`
/// other than `yes` (or absent) and keyboard-interactive turned off are errors, and every
/// `AuthenticationMethods` list without keyboard-interactive is an error; and a setting read
/// is the first of its keyword outside `Match` blocks.
func fuzz(_ input: UnsafeRawBufferPointer) {
  let text = String(decoding: UnsafeRawBufferPointer(rebasing: input.prefix(1 << 16)), as: UTF8.self)
  let findings = SshdConfigAudit.audit(text: text)
  let lines = checkFindings(findings, of: text) { ($1.severity, $0.line) <= ($0.severity, $1.line) }

  let settings = SshdConfigAudit.parse(text)
  let rules = Set(findings.map(\.rule))
  require((settings.word("usepam")?.value != "yes") == rules.contains("sshd.usepam"), "UsePAM misjudged")
  let kbd = settings.word("kbdinteractiveauthentication")
  require((kbd.map { $0.value != "yes" } ?? false) == rules.contains("sshd.kbdinteractive"), "kbd misjudged")
  if let methods = settings.values["authenticationmethods"], methods.arguments.map({ $0.lowercased() }) != ["any"] {
    let missing = methods.arguments.filter { list in
      !list.lowercased().split(separator: ",").contains { $0.split(separator: ":").first == "keyboard-interactive" }
    }
    require(
      findings.filter { $0.rule == "sshd.authmethods-list" }.count == missing.count,
      "method lists without keyboard-interactive misjudged: \(methods.arguments)")
  }
  for (keyword, value) in settings.values {
    require(keyword == keyword.lowercased(), "a keyword not folded to lower case")
    require(value.line >= 1 && value.line <= lines, "a setting from line \(value.line)")
    require(settings.matchOverrides[keyword].map { $0 > value.line } ?? true, "a Match setting read as global")
  }
}
