import Glibc
import LockstepConfiguration
import LockstepPlatform

/// `email = sendmail`: the configured command, started with `posix_spawn` (no shell), exactly
/// as `sendmail =` gives it; the message, recipients in its headers (`-t`), on its standard input.
/// Nothing of the message (the code least of all) is ever in its arguments, which are fixed
/// configuration. A command still running at the deadline is killed (`SIGKILL`) and reaped.
enum Sendmail {
  static func send(_ mail: MailMessage, command: [String], deadline: UInt64) throws(DeliveryError) -> DeliveryReceipt {
    guard let program = command.first, program.hasPrefix("/") else {
      throw DeliveryError("sendmail: the command needs an absolute path")
    }
    let result: Result
    do {
      result = try run(command, input: mail.text(newline: "\n"), deadline: deadline)
    } catch {
      throw DeliveryError("sendmail: \(error.reason)")
    }
    guard result.status == 0 else {
      let line = result.errorOutput.split(separator: "\n").first.map(String.init) ?? ""
      let what =
        result.status > 128 ? "was killed by signal \(result.status - 128)" : "exited with status \(result.status)"
      throw DeliveryError("sendmail: \(program) \(what)" + (line.isEmpty ? "" : ": " + printable(line)))
    }
    return DeliveryReceipt(provider: "sendmail", messageID: mail.messageID)
  }

  /// What a finished command left: its exit status (128 + a signal) and the start of its standard error.
  struct Result {
    let status: Int32
    let errorOutput: String
  }

  /// Runs `command` (the sendmail command, or `alert-command`) with `input` on its standard input (a socket, as its standard error is, so that a command that exits
  /// without reading it cannot raise `SIGPIPE` here), its standard output to /dev/null and its
  /// standard error collected (the first 4 KiB), until it exits or `deadline` passes.
  static func run(_ command: [String], input: [UInt8], deadline: UInt64) throws(DeliveryError) -> Result {
    var inputPair: [Int32] = [-1, -1]
    var errorPipe: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &inputPair) == 0 else {
      throw DeliveryError("socketpair: \(String(cString: strerror(errno)))")
    }
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &errorPipe) == 0 else {
      let reason = String(cString: strerror(errno))
      close(inputPair[0])
      close(inputPair[1])
      throw DeliveryError("socketpair: \(reason)")
    }
    let (input0, input1, error0, error1) = (inputPair[0], inputPair[1], errorPipe[0], errorPipe[1])
    defer {
      close(input0)
      close(error0)
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, input1, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, error1, 2)
    // Nothing else the agent has open (its socket, database connections) reaches the command.
    if let addCloseFrom { _ = addCloseFrom(&actions, 3) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // The command starts with every signal at its default and none blocked, whatever the agent's threads set.
    var all = sigset_t()
    var none = sigset_t()
    sigfillset(&all)
    sigemptyset(&none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    let argv = command.map { strdup($0) } + [nil]
    let environment: [String] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]
    let envp = environment.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
    close(input1)
    close(error1)
    guard spawned == 0 else {
      throw DeliveryError("cannot run \(command[0]): \(String(cString: strerror(spawned)))")
    }

    _ = fcntlSetNonBlocking(input0)
    _ = fcntlSetNonBlocking(error0)
    var written = 0
    var inputOpen = true
    var errorOutput: [UInt8] = []
    var errorOpen = true
    var timedOut = false
    while inputOpen || errorOpen {
      let now = MonotonicClock.now()
      guard now < deadline else {
        timedOut = true
        break
      }
      var fds: [pollfd] = []
      if inputOpen { fds.append(pollfd(fd: input0, events: Int16(POLLOUT), revents: 0)) }
      if errorOpen { fds.append(pollfd(fd: error0, events: Int16(POLLIN), revents: 0)) }
      let milliseconds = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
      let ready = poll(&fds, nfds_t(fds.count), milliseconds)
      if ready < 0 && errno != EINTR { break }
      for entry in fds where entry.revents != 0 {
        if entry.fd == input0 {
          let count = input[written...].withUnsafeBytes { bytes in
            Glibc.send(input0, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
          }
          if count > 0 {
            written += count
          } else if count < 0 && errno != EAGAIN && errno != EINTR {
            inputOpen = false  // the command closed its input; its status says why
          }
          if written == input.count {
            shutdown(input0, Int32(SHUT_WR))
            inputOpen = false
          }
        } else {
          var buffer = [UInt8](repeating: 0, count: 4096)
          let count = read(error0, &buffer, buffer.count)
          if count > 0 {
            if errorOutput.count < 4096 { errorOutput += buffer[..<min(count, 4096 - errorOutput.count)] }
          } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
            errorOpen = false
          }
        }
      }
    }
    // Its standard error is closed: it has exited or is about to. Wait for that until the deadline.
    var raw: Int32 = 0
    while !timedOut {
      let reaped = waitpid(pid, &raw, WNOHANG)
      if reaped == pid { break }
      if reaped < 0 && errno != EINTR {
        throw DeliveryError("waitpid: \(String(cString: strerror(errno)))")
      }
      if MonotonicClock.now() >= deadline {
        timedOut = true
      } else {
        MonotonicClock.sleep(until: deadline, longest: 2_000_000)
      }
    }
    if timedOut {
      kill(pid, SIGKILL)
      while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
      throw DeliveryError("\(command[0]) did not finish in time and was killed")
    }
    let signal = raw & 0x7f
    let status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    return Result(status: status, errorOutput: String(decoding: errorOutput, as: UTF8.self))
  }

  private static func fcntlSetNonBlocking(_ descriptor: Int32) -> Bool {
    var one: Int32 = 1
    return ioctl(descriptor, UInt(FIONBIO), &one) == 0
  }

  /// The C type of glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later).
  private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

  /// Looked up at run time (`RTLD_DEFAULT` is a null handle): the Glibc module does not import
  /// it. Without it, the agent's own descriptors are all close-on-exec anyway.
  private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
    unsafeBitCast($0, to: AddCloseFrom.self)
  }
}

/// `text` with control characters made spaces and cut to 300 characters: what a provider or a
/// command said, fit for one log line.
func printable(_ text: String) -> String {
  let cleaned = String(
    String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : $0 }))
  let trimmed = cleaned.trimmingWhitespace()
  return trimmed.count > 300 ? String(trimmed.prefix(300)) + "…" : trimmed
}
