import Foundation

/// One finding of `lockstep check`.
struct CheckFinding {
  var rule: String
  var severity: String
  var message: String
}

extension Sandbox {
  /// Runs the administration CLI (`build/lockstep`) on this sandbox's store.
  func lockstep(_ arguments: [String]) throws -> CommandResult {
    try runCommand(Paths.cli, arguments + ["--store", store])
  }

  /// Starts the administration CLI on this sandbox's store without waiting for it.
  func startLockstep(_ arguments: [String], output: String) throws -> Child {
    try Child(Paths.cli, arguments + ["--store", store], output: root + "/" + output)
  }

  /// Writes `base32` to a file for `lockstep enroll --secret-file` and returns its path.
  func secretFile(_ base32: String) throws -> String {
    noteSecret(base32)
    let path = root + "/secret-\(UUID().uuidString.prefix(8))"
    try base32.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// What `lockstep check` finds about this sandbox's store (the PAM and sshd parts are pointed
  /// at places with nothing in them).
  func storeFindings() throws -> [CheckFinding] {
    let empty = root + "/pam-empty"
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    let run = try lockstep(["check", "--json", "--pam-directory", empty, "--sshd-config", root + "/no-sshd-config"])
    guard let object = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any],
      let findings = object["findings"] as? [[String: Any]]
    else { throw TestFailure("lockstep check printed no JSON: \(run.output) \(run.error)") }
    return findings.compactMap { finding in
      guard let rule = finding["rule"] as? String, rule.hasPrefix("store."),
        let severity = finding["severity"] as? String, let message = finding["message"] as? String
      else { return nil }
      return CheckFinding(rule: rule, severity: severity, message: message)
    }
  }

  /// The rules of the store findings that are errors.
  func storeErrors() throws -> [String] {
    try storeFindings().filter { $0.severity == "error" }.map(\.rule)
  }
}
