import Foundation

/// A real syslog daemon (rsyslog, Debian's `rsyslog`) for one test: it listens on a Unix socket
/// in the sandbox (`imuxsock`, not the system's `/dev/log`) and writes every line to the
/// sandbox's `syslog` file in one of its file formats, as it writes `/var/log/auth.log`. The
/// driver sends to it with `--syslog-socket`.
///
/// It is ready when it says so (`NotifySocket`), and all it received is in the file once
/// `stop()` has waited for it to exit: rsyslog flushes and closes its files when it is ended
/// with `SIGTERM`. It is stopped, by its pid, when released too.
final class Rsyslog: LogDaemon {
  /// `RSYSLOG_TraditionalFileFormat`: `Dec  3 12:00:00 host tag: message`.
  static let traditional = "RSYSLOG_TraditionalFileFormat"
  /// `RSYSLOG_FileFormat`: RFC 3339 timestamps, `2026-12-03T12:00:00.123456+00:00 host tag: message`.
  static let rfc3339 = "RSYSLOG_FileFormat"

  /// The socket the daemon receives on.
  let socket: String
  /// The file it writes.
  let file: String
  private let child: Child

  /// Starts rsyslogd writing to `sandbox.syslog` with `template`, and waits until it is ready.
  init(in sandbox: Sandbox, template: String) throws {
    socket = sandbox.root + "/log.sock"
    file = sandbox.syslog
    let work = sandbox.root + "/rsyslog"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)
    let configuration = """
      global(workDirectory="\(work)")
      module(load="imuxsock" SysSock.Use="off")
      input(type="imuxsock" Socket="\(socket)" RateLimit.Interval="0")
      *.* action(type="omfile" file="\(file)" template="\(template)")

      """
    try configuration.write(toFile: work + "/rsyslog.conf", atomically: true, encoding: .utf8)
    child = try NotifySocket.start(
      "/usr/sbin/rsyslogd", ["-n", "-f", work + "/rsyslog.conf", "-i", work + "/rsyslogd.pid"], in: sandbox,
      output: work + "/output")
  }

  deinit { child.kill() }

  /// Ends the daemon and waits for it (`Child.terminate`): then every line it received is in
  /// `file`.
  @discardableResult
  func stop() -> Int32 { child.terminate() }

  /// Where `lockstep report` reads what it wrote.
  var reportArguments: [String] { ["--file", file] }
}
