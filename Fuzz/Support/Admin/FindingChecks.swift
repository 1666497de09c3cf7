import LockstepAdmin
import LockstepCore

/// Checks what every configuration audit promises of its findings: they come in the order
/// `ordered` defines, they are about a line the text has (or the whole file, line 0), and their
/// message and fix are each one safe line. Returns the number of lines of `text`.
@discardableResult
func checkFindings(_ findings: [Finding], of text: String, ordered: (Finding, Finding) -> Bool) -> Int {
  let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
  require(zip(findings, findings.dropFirst()).allSatisfy(ordered), "findings out of order: \(findings)")
  for finding in findings {
    require((0...lines).contains(finding.line), "a finding on line \(finding.line) of \(lines)")
    require(isOneSafeLine(finding.message) && isOneSafeLine(finding.fix), "not one safe line: \(finding)")
  }
  return lines
}
