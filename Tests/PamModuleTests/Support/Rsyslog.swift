import Foundation

/// A real syslog daemon (rsyslog, Debian's `rsyslog`) for one test: it listens on a Unix socket
/// in the sandbox (`imuxsock`, not the system's `/dev/log`) and writes every line to the
/// sandbox's `syslog` file in one of its file formats, as it writes `/var/log/auth.log`. The
/// driver sends to it with `--syslog-socket`.
///
/// It is ready when it says so (`READY=1` on `NOTIFY_SOCKET`, as systemd starts it), and all it
/// received is in the file once `stop()` has waited for it to exit: rsyslog flushes and closes
/// its files when it is ended with `SIGTERM`. It is stopped, by its pid, when released too.
final class Rsyslog {
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
    let rsyslogd = "/usr/sbin/rsyslogd"
    guard FileManager.default.isExecutableFile(atPath: rsyslogd) else {
      throw TestFailure("\(rsyslogd) is missing: run `make test-deps` (Debian's rsyslog)")
    }
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
    let notify = try NotifySocket(path: sandbox.root + "/notify.sock")
    defer { notify.close() }
    child = try Child(
      rsyslogd, ["-n", "-f", work + "/rsyslog.conf", "-i", work + "/rsyslogd.pid"],
      environment: ["NOTIFY_SOCKET": notify.path], output: work + "/output")
    guard notify.waitForReady(seconds: 30) else {
      child.kill()
      let output = (try? String(contentsOfFile: work + "/output", encoding: .utf8)) ?? ""
      throw TestFailure("rsyslogd did not become ready: \(output)")
    }
  }

  deinit { child.kill() }

  /// Ends the daemon with `SIGTERM` and waits for it to exit, so that every line it received is
  /// in `file`; returns its exit status. One that has not exited after 30 seconds is killed
  /// (status 137), so that a daemon that ignores the signal fails the test instead of hanging it.
  @discardableResult
  func stop() -> Int32 {
    if !child.hasExited { kill(child.pid, SIGTERM) }
    let deadline = ContinuousClock.now + .seconds(30)
    while !child.hasExited && ContinuousClock.now < deadline { usleep(10_000) }
    child.kill()
    return child.wait().status
  }
}

/// The socket on which a daemon started with `NOTIFY_SOCKET` says `READY=1` (sd_notify(3)).
private struct NotifySocket {
  let path: String
  let descriptor: Int32

  init(path: String) throws {
    self.path = path
    descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard descriptor >= 0, bound == 0 else {
      throw TestFailure("cannot bind \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Waits up to `seconds` for a message holding `READY=1`.
  func waitForReady(seconds: Int32) -> Bool {
    var message = [UInt8](repeating: 0, count: 4096)
    var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    while poll(&waiting, 1, seconds * 1000) == 1 {
      let count = recv(descriptor, &message, message.count, 0)
      guard count > 0 else { return false }
      if String(decoding: message[0..<count], as: UTF8.self).split(separator: "\n").contains("READY=1") { return true }
    }
    return false
  }

  func close() {
    _ = Glibc.close(descriptor)
  }
}
