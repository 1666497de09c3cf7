#if canImport(Glibc)
  import Glibc
#endif

/// Runs another program and collects what it prints, for the few system tools the CLI asks
/// (such as `sshd -T`).
enum Subprocess {
  /// What one run printed, and how it ended.
  struct Result {
    /// The exit status, or 128 plus the signal that ended it; `nil` when it could not start.
    var status: Int32?
    /// Standard output.
    var output: String
    /// Standard error.
    var error: String
  }

  /// Runs `program` (an absolute path) with `arguments` and an empty environment, standard
  /// input from `/dev/null`, and waits for it.
  static func run(_ program: String, _ arguments: [String]) -> Result {
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    guard pipe(&outPipe) == 0 else { return Result(status: nil, output: "", error: "") }
    guard pipe(&errPipe) == 0 else {
      outPipe.forEach { close($0) }
      return Result(status: nil, output: "", error: "")
    }
    // The child gets them as its descriptors 1 and 2 only; nothing else inherits them.
    for descriptor in outPipe + errPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    let argv = ([program] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var environment: [UnsafeMutablePointer<CChar>?] = [nil]
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, program, &actions, nil, argv, &environment)
    close(outPipe[1])
    close(errPipe[1])
    defer {
      close(outPipe[0])
      close(errPipe[0])
    }
    guard spawned == 0 else {
      return Result(status: nil, output: "", error: String(cString: strerror(spawned)))
    }
    let (output, error) = readBoth(outPipe[0], errPipe[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return Result(status: code, output: output, error: error)
  }

  /// Reads two pipes to their ends at once, so that a child filling one never blocks on it.
  private static func readBoth(_ first: Int32, _ second: Int32) -> (String, String) {
    var texts: [[UInt8]] = [[], []]
    var descriptors = [
      pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0),
    ]
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while descriptors.contains(where: { $0.fd >= 0 }) {
      if poll(&descriptors, nfds_t(descriptors.count), -1) < 0 {
        if errno == EINTR { continue }
        break
      }
      for index in descriptors.indices where descriptors[index].fd >= 0 && descriptors[index].revents != 0 {
        let n = chunk.withUnsafeMutableBytes { read(descriptors[index].fd, $0.baseAddress, $0.count) }
        if n > 0 {
          texts[index] += chunk[0..<n]
        } else if n == 0 || errno != EINTR {
          descriptors[index].fd = -1
        }
      }
    }
    return (String(decoding: texts[0], as: UTF8.self), String(decoding: texts[1], as: UTF8.self))
  }
}
