import Foundation

/// A `powercut-fs` mount (Tests/PamModuleTests/PowerCut): a directory whose unsynced writes
/// vanish when the power is cut. The daemon is killed by pid and the mount detached when this
/// object dies, also when a test fails; every wait has a deadline.
final class PowerCutDisk {
  /// How a cut treats what was pending (see the file system's README.md).
  enum Mode: String, CaseIterable, Sendable {
    case drop, prefix, blocks
  }

  /// The sandbox whose store this disk is mounted on; it outlives the mount.
  let sandbox: Sandbox
  /// The directory that holds the durable state between mounts.
  let backing: String
  /// Where the file system is mounted.
  let mountPoint: String
  private let control: String
  private let reply: String
  private let log: String
  private let controlFD: Int32
  private let replyFD: Int32
  private var replyBuffer = ""
  private var daemon: Child?
  /// How long a mount, a cut or an unmount may take before the test fails.
  static let deadline: TimeInterval = 20

  /// Prepares a disk for `sandbox`'s store: the backing directory (root-only, like a store)
  /// and the control FIFOs beside it; nothing is mounted yet. The store starts empty.
  init(on sandbox: Sandbox) throws {
    self.sandbox = sandbox
    let directory = sandbox.root
    guard FileManager.default.isExecutableFile(atPath: Paths.powerCutFS) else {
      throw TestFailure("\(Paths.powerCutFS) is missing: run `make test` (or `make build/powercut-fs`)")
    }
    backing = directory + "/backing"
    mountPoint = sandbox.store
    control = directory + "/powercut.control"
    reply = directory + "/powercut.reply"
    log = directory + "/powercut.log"
    try FileManager.default.createDirectory(
      atPath: backing, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    guard mkfifo(control, 0o600) == 0, mkfifo(reply, 0o600) == 0 else { throw TestFailure("mkfifo failed") }
    // Held open for as long as this object lives: the daemon exits by itself when the control
    // FIFO loses its last writer, so a test process that dies takes its mounts with it.
    controlFD = open(control, O_RDWR | O_CLOEXEC)
    replyFD = open(reply, O_RDWR | O_NONBLOCK | O_CLOEXEC)
    guard controlFD >= 0, replyFD >= 0 else { throw TestFailure("cannot open the control FIFOs") }
  }

  deinit {
    if let daemon, !daemon.hasExited { kill(daemon.pid, SIGKILL) }
    _ = umount2(mountPoint, Int32(MNT_DETACH))
    daemon?.kill()
    close(controlFD)
    close(replyFD)
  }

  /// Whether the file system is mounted now.
  var isMounted: Bool { daemon.map { !$0.hasExited } ?? false }

  /// Starts the daemon on the backing directory and waits until the kernel has mounted it.
  /// With `ignoringSyncs`, fsync makes nothing durable: a disk that does not honour flushes.
  func mount(block: Int = 512, ignoringSyncs: Bool = false) throws {
    guard daemon == nil else { throw TestFailure("powercut-fs is already mounted on \(mountPoint)") }
    let started = try Child(
      Paths.powerCutFS,
      ["--block", String(block)] + (ignoringSyncs ? ["--ignore-syncs"] : [])
        + ["--control", control, "--reply", reply, backing, mountPoint],
      output: log)
    daemon = started
    let line = try nextReply()
    guard line == "ready" else { throw TestFailure("powercut-fs said \(line) instead of ready: \(daemonLog)") }
  }

  /// Counts the operations that change something from now on, and pauses the file system just
  /// before the `change`th of them (0: never), until a cut.
  func arm(atChange change: Int) throws {
    try send("arm \(change)")
    var line = try nextReply()
    while line == "unpaused" || line.hasPrefix("paused ") { line = try nextReply() }
    guard line == "armed \(change)" else { throw TestFailure("powercut-fs answered an arm with \(line)") }
  }

  /// The operation the file system has paused before and the process that asked for it, if it
  /// has said so (without waiting).
  func pausedOperation() throws -> (operation: String, process: pid_t)? {
    guard let line = try nextReply(waiting: false) else { return nil }
    let words = line.split(separator: " ")
    guard words.count == 3, words[0] == "paused", let process = pid_t(words[2]) else {
      throw TestFailure("powercut-fs said \(line) unasked")
    }
    return (String(words[1]), process)
  }

  /// Fails the paused operation and goes on, the power still on: its process crashed there.
  func resume() throws {
    try send("resume")
    var line = try nextReply()
    while line == "unpaused" || line.hasPrefix("paused ") { line = try nextReply() }
    guard line == "resumed" else { throw TestFailure("powercut-fs answered a resume with \(line)") }
  }

  /// Cuts the power: what was not synced goes as `mode` says, and every operation on the mount
  /// fails from now on. Returns the daemon's account of what was pending and kept.
  @discardableResult
  func cut(_ mode: Mode, seed: UInt64) throws -> String {
    try send("cut \(mode.rawValue) \(seed)")
    var line = try nextReply()
    while line == "unpaused" || line.hasPrefix("paused ") { line = try nextReply() }
    guard line.hasPrefix("cut "), !line.contains("backing-failed") else {
      throw TestFailure("powercut-fs answered the cut with \(line): \(daemonLog)")
    }
    return line
  }

  /// Unmounts and waits for the daemon to exit (having written the backing directory); kills it
  /// if it does not within the deadline, and fails then.
  func unmount() throws {
    guard let running = daemon else { return }
    daemon = nil
    let detached = umount2(mountPoint, Int32(MNT_DETACH)) == 0
    let deadline = monotonicSeconds() + Self.deadline
    while !running.hasExited && monotonicSeconds() < deadline {
      // Polls for the daemon's exit; its unmount takes a few milliseconds.
      usleep(1000)
    }
    if !running.hasExited {
      running.kill()
      throw TestFailure("powercut-fs did not exit within \(Self.deadline) s of the unmount: \(daemonLog)")
    }
    guard detached else { throw TestFailure("umount2 \(mountPoint): \(String(cString: strerror(errno)))") }
  }

  /// The daemon's own messages.
  var daemonLog: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

  private func send(_ command: String) throws {
    let bytes = Array((command + "\n").utf8)
    guard write(controlFD, bytes, bytes.count) == bytes.count else { throw TestFailure("cannot send \(command)") }
  }

  /// The next line on the reply FIFO, waiting at most `deadline` (and failing early if the
  /// daemon exits).
  private func nextReply() throws -> String {
    guard let line = try nextReply(waiting: true) else { throw TestFailure("powercut-fs said nothing") }
    return line
  }

  /// The next line on the reply FIFO; without `waiting`, nil if there is none yet.
  private func nextReply(waiting: Bool) throws -> String? {
    let deadline = monotonicSeconds() + Self.deadline
    while true {
      if let newline = replyBuffer.firstIndex(of: "\n") {
        let line = String(replyBuffer[..<newline])
        replyBuffer.removeSubrange(...newline)
        return line
      }
      var readable = pollfd(fd: replyFD, events: Int16(POLLIN), revents: 0)
      if poll(&readable, 1, waiting ? 50 : 0) == 1 {
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = read(replyFD, &bytes, bytes.count)
        if count > 0 { replyBuffer += String(decoding: bytes.prefix(count), as: UTF8.self) }
        continue
      }
      if !waiting { return nil }
      if let daemon, daemon.hasExited {
        throw TestFailure("powercut-fs exited with status \(daemon.wait().status): \(daemonLog)")
      }
      if monotonicSeconds() > deadline {
        throw TestFailure("powercut-fs did not answer within \(Self.deadline) s: \(daemonLog)")
      }
    }
  }
}
