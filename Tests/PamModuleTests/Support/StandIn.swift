import Foundation

/// A stand-in server of `Tests/PamModuleTests/StandIns` (a Python script: the mail sink,
/// Twilio, Vonage or a webhook), started with `Child` for one test and stopped by pid
/// (SIGTERM) when released, even when the test fails.
///
/// Its output goes to a FIFO in the test's directory: `init` returns once the script has
/// printed `ready PORT` (it listens by then), with a watchdog of 30 seconds, and a thread
/// keeps reading what else it prints (for `output`) until it exits.
final class StandIn {
  /// The port it listens on, on 127.0.0.1.
  let port: Int
  private let child: Child
  private let log = OutputLog()

  /// The stand-ins' folder.
  static let directory = Paths.root + "/Tests/PamModuleTests/StandIns"
  /// Debian's Python, which has aiosmtpd (python3-aiosmtpd); not whatever `python3` is on PATH.
  static let python = "/usr/bin/python3"

  /// Starts `script` with `arguments`; `name` names its FIFO in `directory`.
  init(_ script: String, _ arguments: [String], in directory: String, name: String) throws {
    let fifo = directory + "/\(name).out"
    unlink(fifo)
    guard mkfifo(fifo, 0o600) == 0 else { throw TestFailure("mkfifo \(fifo): \(String(cString: strerror(errno)))") }
    // Opened before the child, without waiting for a writer, so that the child's open of it
    // (a file action of posix_spawn, done before posix_spawn returns) does not wait either.
    let reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard reader >= 0 else { throw TestFailure("open \(fifo): \(String(cString: strerror(errno)))") }
    do {
      child = try Child(Self.python, [Self.directory + "/" + script] + arguments, output: fifo)
    } catch {
      close(reader)
      unlink(fifo)
      throw error
    }
    // Both ends are open now; without the name, `Child.wait` finds no output file to read
    // (reading a FIFO whose writer is gone would wait for ever).
    unlink(fifo)
    var text: [UInt8] = []
    let deadline = monotonicSeconds() + 30
    var found: Int?
    while found == nil {
      if let newline = text.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: text[..<newline], as: UTF8.self)
        text.removeSubrange(...newline)
        if line.hasPrefix("ready "), let number = Int(line.dropFirst(6)) {
          found = number
        } else {
          log.append(Array((line + "\n").utf8))
        }
        continue
      }
      let left = deadline - monotonicSeconds()
      var waiting = pollfd(fd: reader, events: Int16(POLLIN), revents: 0)
      guard left > 0, poll(&waiting, 1, Int32(left * 1000) + 1) >= 0 else { break }
      var buffer = [UInt8](repeating: 0, count: 4096)
      let count = read(reader, &buffer, buffer.count)
      if count > 0 {
        text += buffer[..<count]
      } else if count == 0 {
        break  // the child has exited
      }
    }
    guard let found else {
      close(reader)
      child.kill()
      log.append(text)
      throw TestFailure("\(script) did not say 'ready PORT': \(log.text)")
    }
    port = found
    log.append(text)
    let log = self.log
    let flags = fcntl(reader, F_GETFL)
    _ = fcntl(reader, F_SETFL, flags & ~O_NONBLOCK)
    Thread.detachNewThread {
      var buffer = [UInt8](repeating: 0, count: 4096)
      while true {
        let count = read(reader, &buffer, buffer.count)
        if count > 0 {
          log.append(Array(buffer[..<count]))
        } else if count == 0 || errno != EINTR {
          break
        }
      }
      close(reader)
    }
  }

  deinit { stop() }

  /// Stops it (SIGTERM) and reaps it; one that is still there after 10 seconds is killed.
  func stop() {
    guard !child.hasExited else { return }
    kill(child.pid, SIGTERM)
    let deadline = monotonicSeconds() + 10
    while !child.hasExited && monotonicSeconds() < deadline { usleep(2000) }
    child.kill()
  }

  /// What it printed besides the ready line, so far.
  var output: String { log.text }
}

/// Bytes appended by one thread and read by another.
private final class OutputLog: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes: [UInt8] = []

  func append(_ more: [UInt8]) {
    lock.lock()
    bytes += more.prefix(max(0, 1 << 20 - bytes.count))
    lock.unlock()
  }

  var text: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: bytes, as: UTF8.self)
  }
}
