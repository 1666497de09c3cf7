import LockstepAdmin
import LockstepCore

/// Any text through the audit of `/etc/pam.d` files that `lockstep check` runs.
///
/// Input: a byte choosing the service file's name, then the file.
///
/// Properties: findings are in line order, about lines the file has, and one safe line each;
/// logical lines come in order with their type and control in lower case; and the rules the
/// README promises hold for every line that loads the module: each argument problem is an
/// error on that line, `sufficient` is an error, a type other than `auth` is an error, and a
/// file that never loads the module says so.
func fuzz(_ input: UnsafeRawBufferPointer) {
  var reader = FuzzInput(input)
  let names = ["sshd", "sudo", "/etc/pam.d/sshd-lockstep", "login"]
  let fileName = names[Int(reader.byte()) % names.count]
  let text = String(decoding: reader.rest(), as: UTF8.self)
  let findings = PamConfigAudit.audit(fileName: fileName, text: text)
  checkFindings(findings, of: text) { ($0.line, $0.severity) <= ($1.line, $1.severity) }
  if text.utf8.count > PamConfigAudit.maximumSize {
    require(findings.map(\.rule) == ["pam.too-large"], "an over-large file was read")
    return
  }

  let (lines, _) = PamConfigAudit.parse(text)
  require(zip(lines, lines.dropFirst()).allSatisfy { $0.number < $1.number }, "logical lines out of order")
  func rules(at line: Int) -> [String] { findings.filter { $0.line == line }.map(\.rule) }
  for line in lines {
    require(line.type == line.type.lowercased() && line.control == line.control.lowercased(), "case not folded")
    guard line.loadsLockstep else { continue }
    let problems = ModuleOptions(arguments: line.arguments).problems
    let here = rules(at: line.number)
    require(here.filter { $0 == "pam.argument" }.count == problems.count, "argument problems \(problems) missed")
    if line.type != "auth" {
      require(here.contains("pam.type"), "a '\(line.type)' line not flagged")
    } else if !line.bracketed && line.control == "sufficient" {
      require(here.contains("pam.sufficient"), "a sufficient line not flagged")
    }
  }
  require(
    lines.contains(where: \.loadsLockstep) != findings.contains { $0.rule == "pam.not-loaded" },
    "pam.not-loaded disagrees with the lines")
}
