import Foundation

/// A program started in the background with `posix_spawn(3)`, its standard output and error
/// going to a file, and waited for with `waitpid(2)`.
///
/// Foundation's `Process` is avoided here because these children block on locks and are
/// killed on purpose; plain process ids keep that simple and observable (in `/proc/locks`).
final class Child {
  let pid: pid_t
  /// Where standard output and standard error go.
  let outputPath: String
  private var status: Int32?

  /// Starts `executable` with `arguments`; `environment` is added to this process's environment.
  init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], output: String) throws {
    outputPath = output
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // Nothing else this process has open reaches the child: tests run in parallel, and a
    // descriptor inherited by a long-lived child keeps another test's pipe from reaching end of
    // file or its freshly written file from being executed.
    guard let addCloseFrom = Self.addCloseFrom, addCloseFrom(&actions, 3) == 0 else {
      throw TestFailure("posix_spawn_file_actions_addclosefrom_np is missing or failed")
    }
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    // The child starts with no signal blocked, whichever thread of the test runner spawns it:
    // a worker thread blocks signals, and a daemon that inherited a blocked SIGTERM (rsyslogd
    // waits for signals with that mask) would never stop.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    var child: pid_t = 0
    let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
    guard result == 0 else { throw TestFailure("posix_spawn \(executable): \(String(cString: strerror(result)))") }
    pid = child
  }

  /// The C type of glibc's `posix_spawn_file_actions_addclosefrom_np`.
  private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

  /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time
  /// (`RTLD_DEFAULT` is a null handle) because the Glibc module does not import it.
  private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
    unsafeBitCast($0, to: AddCloseFrom.self)
  }

  /// Whether the child has exited (it is reaped if so).
  var hasExited: Bool {
    if status != nil { return true }
    var raw: Int32 = 0
    if waitpid(pid, &raw, WNOHANG) == pid { status = Self.decode(raw) }
    return status != nil
  }

  /// Waits for the child to exit and returns its status (128 + the signal if it was killed)
  /// and everything it printed.
  func wait() -> CommandResult {
    if status == nil {
      var raw: Int32 = 0
      while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
      status = Self.decode(raw)
    }
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return CommandResult(status: status ?? -1, output: output, error: "")
  }

  /// Ends the child with `SIGTERM` and waits for it to exit; returns its status. One that has
  /// not exited after `seconds` is killed (status 137), so that a daemon that ignores the
  /// signal fails the test instead of hanging it.
  @discardableResult
  func terminate(seconds: Int = 30) -> Int32 {
    if !hasExited { Glibc.kill(pid, SIGTERM) }
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !hasExited && ContinuousClock.now < deadline { usleep(10_000) }
    kill()
    return wait().status
  }

  /// Kills the child with `SIGKILL` and reaps it; for clean-up after a failed test.
  func kill() {
    if !hasExited {
      Glibc.kill(pid, SIGKILL)
      _ = wait()
      removeFaketimeLeftovers(of: pid)
    }
  }

  private static func decode(_ raw: Int32) -> Int32 {
    let signal = raw & 0x7f
    return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
  }
}

/// A start line for races: processes say "ready" with one byte on one FIFO and then wait for
/// end-of-file on another, which `release()` gives all of them at once. The driver does this
/// with `--ready-fifo`/`--start-fifo` (before `pam_start`, or with `--sync-at prompt` inside
/// the conversation, mid-login).
final class StartLine {
  let ready: String
  let start: String
  private let readyFD: Int32
  private var startFD: Int32

  /// Creates the two FIFOs in `directory`, named after `name`.
  init(in directory: String, name: String = "race") throws {
    ready = directory + "/\(name).ready"
    start = directory + "/\(name).start"
    guard mkfifo(ready, 0o600) == 0, mkfifo(start, 0o600) == 0 else { throw TestFailure("mkfifo failed") }
    // Held open read-write, so that neither open blocks and the waiters' reads wait for us.
    readyFD = open(ready, O_RDWR | O_CLOEXEC)
    startFD = open(start, O_RDWR | O_CLOEXEC)
    guard readyFD >= 0, startFD >= 0 else { throw TestFailure("cannot open the FIFOs") }
  }

  deinit {
    close(readyFD)
    release()
    unlink(ready)
    unlink(start)
  }

  /// The driver's arguments for waiting at this line.
  var driverArguments: [String] { ["--ready-fifo", ready, "--start-fifo", start] }

  /// Waits until all of `children` have said they are ready; fails as soon as one of them
  /// exits instead, or after a minute (a watchdog, not a timing assumption).
  func waitUntilReady(_ children: [Child]) throws {
    var byte: UInt8 = 0
    let deadline = Date().addingTimeInterval(60)
    var ready = 0
    while ready < children.count {
      var waiting = pollfd(fd: readyFD, events: Int16(POLLIN), revents: 0)
      if poll(&waiting, 1, 100) == 1 && read(readyFD, &byte, 1) == 1 {
        ready += 1
      } else if let gone = children.first(where: { $0.hasExited }) {
        throw TestFailure("process \(gone.pid) exited before the start line: \(gone.wait().output)")
      } else if Date() > deadline {
        throw TestFailure("\(children.count - ready) processes did not reach the start line within a minute")
      }
    }
  }

  /// Lets every waiting process go at once.
  func release() {
    if startFD >= 0 { close(startFD) }
    startFD = -1
  }
}

/// The processes among `pids` that are waiting for a user's lock. The store tries the lock
/// with `flock(LOCK_NB)` and pauses between tries, so a process waiting for it is asleep in
/// `clock_nanosleep` or `nanosleep` (system calls 230 and 35 on x86-64, from
/// `/proc/PID/syscall`) while it has a state file (`.USER.state`) open; nothing else the module
/// or the CLI does before taking the lock sleeps.
func processesWaitingForALock(among pids: [pid_t]) -> Set<pid_t> {
  var waiting: Set<pid_t> = []
  for pid in pids {
    guard let call = try? String(contentsOfFile: "/proc/\(pid)/syscall", encoding: .utf8),
      let number = call.split(separator: " ").first, number == "230" || number == "35",
      let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
    else { continue }
    let holdsStateFile = descriptors.contains {
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)"))?.hasSuffix(".state") == true
    }
    if holdsStateFile { waiting.insert(pid) }
  }
  return waiting
}

/// Waits until every one of `children` is blocked on a lock. Fails if one exits first, or after
/// a minute (a watchdog).
func waitUntilBlockedOnALock(_ children: [Child]) throws {
  let deadline = Date().addingTimeInterval(60)
  while processesWaitingForALock(among: children.map(\.pid)).count < children.count {
    if let gone = children.first(where: { $0.hasExited }) {
      throw TestFailure("process \(gone.pid) exited before it waited for the lock: \(gone.wait().output)")
    }
    if Date() > deadline { throw TestFailure("the processes did not all wait for the lock within a minute") }
    // Polls the kernel's lock table; nothing here depends on how long this takes.
    usleep(500)
  }
}

/// Removes the shared memory that libfaketime creates for each process it runs in (named after
/// its pid) and removes at exit, which a process killed with SIGKILL leaves behind. Left
/// there, it makes a later process that happens to get the same pid behave differently (or
/// fail to start).
func removeFaketimeLeftovers(of pid: pid_t) {
  unlink("/dev/shm/sem.faketime_sem_\(pid)")
  unlink("/dev/shm/faketime_shm_\(pid)")
}

/// Removes libfaketime's leftovers of every process that has ended, wherever it was killed (a
/// test of another suite, a tool that exits without running libfaketime's destructor), so that
/// a process that gets one of their pids starts like any other: runs whose system calls are
/// compared (CrashSafetyTests) call this first.
func removeFaketimeLeftoversOfEndedProcesses() {
  let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
  for name in names {
    for prefix in ["faketime_shm_", "sem.faketime_sem_"] where name.hasPrefix(prefix) {
      guard let pid = pid_t(name.dropFirst(prefix.count)) else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { removeFaketimeLeftovers(of: pid) }
    }
  }
}
