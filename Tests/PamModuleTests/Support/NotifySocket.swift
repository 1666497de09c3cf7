import Foundation

/// A daemon that the tests send the module's log lines to (`--syslog-socket`), as sshd's go to
/// the system's syslog daemon or journald.
protocol LogDaemon {
  /// The Unix datagram socket it receives syslog(3) lines on.
  var socket: String { get }
  /// Ends it and waits until all it received is written; returns its exit status.
  @discardableResult func stop() -> Int32
  /// The arguments that make `lockstep report` read what it wrote.
  var reportArguments: [String] { get }
}

/// The socket on which a daemon started with `NOTIFY_SOCKET` says `READY=1` (sd_notify(3)).
struct NotifySocket {
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

extension NotifySocket {
  /// Starts `executable` with `NOTIFY_SOCKET` set to a socket in the sandbox and waits for it
  /// to say `READY=1`; a daemon that does not within 30 seconds is killed and the test fails.
  static func start(_ executable: String, _ arguments: [String], in sandbox: Sandbox, output: String) throws -> Child {
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw TestFailure("\(executable) is missing: run `make test-deps`")
    }
    let notify = try NotifySocket(path: sandbox.root + "/notify-\(UUID().uuidString.prefix(8)).sock")
    defer { notify.close() }
    let child = try Child(executable, arguments, environment: ["NOTIFY_SOCKET": notify.path], output: output)
    guard notify.waitForReady(seconds: 30) else {
      child.kill()
      let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
      throw TestFailure("\(executable) did not become ready: \(printed)")
    }
    return child
  }
}
