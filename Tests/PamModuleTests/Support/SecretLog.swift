import Foundation
import LockstepCore
import Testing

/// Nothing secret is ever logged: every sandbox remembers the secrets it enrolled and every code
/// typed into it, and when it is released it looks for each of them in everything the module
/// logged during the test. So every test that logs in through a sandbox checks this too.
extension Sandbox {
  /// Notes a base32 secret: its text and its bytes in hex must never be logged.
  func noteSecret(_ base32: String) {
    secretTexts.insert(base32)
    if let key = Base32.decode(base32) {
      let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
      secretTexts.formUnion([hex, hex.uppercased()])
    }
  }

  /// Notes an answer typed at the prompt: if it is a code or backup code (digits, perhaps with
  /// spaces and hyphens as people type them), it must never be logged.
  func noteTyped(_ answer: String) {
    let digits = answer.filter { $0 != " " && $0 != "\t" && $0 != "-" }
    if (5...10).contains(digits.count) && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) {
      typedCodes.insert(digits)
    }
  }

  /// The noted secrets and codes that appear in the log.
  func secretsInTheLog() -> [String] {
    guard let log = try? String(contentsOfFile: syslog, encoding: .utf8) else { return [] }
    return secretTexts.filter { log.contains($0) }.sorted() + typedCodes.filter { containsNumber(log, $0) }.sorted()
  }

  /// Records a test issue for every noted secret or code found in the log.
  func reportSecretsInTheLog() {
    for leaked in secretsInTheLog() {
      Issue.record("the module logged a secret or a typed code: \(leaked) (log: \(syslog))")
    }
  }
}
