import LockstepAdmin
import LockstepCore

#if canImport(Glibc)
  import Glibc
#endif

extension Check {
  /// Where sshd is installed; when it is, `sshd -T` gives the configuration it would use.
  static let sshdProgram = "/usr/sbin/sshd"
  /// The directory sshd resolves a relative `Include` path against.
  static let sshdDirectory = "/etc/ssh"

  /// The sshd configuration as sshd would use it: `sshd -T` when sshd is installed; otherwise
  /// (or if it fails) the file and the files its `Include` lines name, read as sshd reads them.
  func auditSshd() -> [Located] {
    guard let text = readText(sshdConfig) else {
      return [
        Located(
          file: sshdConfig,
          finding: Finding(
            severity: .info, rule: "sshd.absent", line: 0,
            message: "There is no readable sshd configuration, so SSH logins were not checked.",
            fix: "Give the file with --sshd-config if sshd is configured elsewhere."))
      ]
    }
    var findings: [Located] = []
    var effective: String?
    if access(Self.sshdProgram, X_OK) == 0 {
      let run = Subprocess.run(Self.sshdProgram, ["-T", "-f", sshdConfig])
      if run.status == 0 {
        effective = run.output
      } else {
        let reason = run.error.split(separator: "\n").first.map(String.init) ?? "exit status \(run.status ?? -1)"
        findings.append(
          Located(
            file: sshdConfig,
            finding: Finding(
              severity: .info, rule: "sshd.effective", line: 0,
              message:
                "'sshd -T' could not report the configuration (\(LogText.escape(Array(reason.utf8)))), so the files were read instead.",
              fix: "Run 'sshd -t -f \(sshdConfig)' to see what sshd objects to.")))
      }
    }
    let results = SshdConfigAudit.audit(text: text, include: Self.readIncluded, effective: effective)
    findings += results.map { Located(file: $0.file.isEmpty ? sshdConfig : $0.file, finding: $0) }
    return findings
  }

  /// The files an `Include` argument names, as sshd finds them: relative to /etc/ssh unless
  /// absolute, with glob patterns expanded in sorted order; a pattern that matches nothing
  /// names no file.
  static func readIncluded(_ pattern: String) -> [(path: String, text: String?)] {
    let absolute = pattern.hasPrefix("/") ? pattern : sshdDirectory + "/" + pattern
    var matches = glob_t()
    defer { globfree(&matches) }
    guard glob(absolute, 0, nil, &matches) == 0 else { return [] }
    return (0..<Int(matches.gl_pathc)).compactMap { index in
      guard let path = matches.gl_pathv[index].map({ String(cString: $0) }) else { return nil }
      return (path, readText(path))
    }
  }
}

/// The text of the file at `path`, or `nil` if it cannot be read or is far larger than the
/// audit reads.
func readText(_ path: String) -> String? {
  guard let bytes = try? Input.file(path: path, limit: 4 * SshdConfigAudit.maximumSize) else { return nil }
  return String(decoding: bytes, as: UTF8.self)
}
