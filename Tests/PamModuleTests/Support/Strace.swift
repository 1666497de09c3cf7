import Foundation

/// One system call a process made, as strace names it, and which call of that name it was,
/// counted from the start of the process the way strace's `inject=...:when=N` counts.
struct SystemCall: CustomStringConvertible {
  var name: String
  var ordinal: Int
  /// strace's line for it, for messages.
  var line: String

  var description: String { "\(name) #\(ordinal): \(line.prefix(100))" }
}

/// What strace saw of one driver run.
struct SystemCallTrace {
  var calls: [SystemCall] = []
  /// The traced process.
  var pid: pid_t?

  init(parsing text: String) {
    var counts: [String: Int] = [:]
    for line in text.split(separator: "\n").map(String.init) {
      // "1234  openat(AT_FDCWD, ...) = 3"; signal and exit lines have no call.
      let rest = line.drop { $0.isNumber }.drop { $0 == " " }
      let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
      guard !name.isEmpty, rest.dropFirst(name.count).first == "(" else { continue }
      pid = pid ?? pid_t(line.prefix { $0.isNumber })
      counts[name, default: 0] += 1
      calls.append(SystemCall(name: name, ordinal: counts[name] ?? 0, line: line))
    }
  }

  /// The calls after the driver printed the module's prompt (its standard output is
  /// line-buffered, so that is one `write(1, "prompt ...")`): the rest of the login, from
  /// reading the answer to the process's exit.
  var afterPrompt: ArraySlice<SystemCall> {
    guard let prompt else { return [] }
    return calls[(prompt + 1)...]
  }

  /// Whether the driver printed the module's prompt.
  var hasPrompt: Bool { prompt != nil }

  /// How many calls named `name` came before the prompt (all of them when there was none).
  func beforePrompt(named name: String) -> Int {
    calls[..<(prompt ?? calls.count)].filter { $0.name == name }.count
  }

  /// The index of the driver's `write(1, "prompt ...")`.
  private var prompt: Int? {
    calls.firstIndex { $0.name == "write" && $0.line.contains("(1, \"prompt ") }
  }
}

extension Sandbox {
  /// Runs a login under strace and returns what the driver saw and every system call it made.
  func traceLogin(_ request: LoginRequest) throws -> (Login, SystemCallTrace) {
    let (run, trace) = try runTraced(request, strace: [])
    return (Login(parsing: run), trace)
  }

  /// Runs a login under strace, which sends the driver SIGKILL as it enters `call`, and returns
  /// the exit status (strace ends the way the driver did: 128 + 9 when it was killed) and the
  /// calls made up to the kill.
  func loginKilled(_ request: LoginRequest, at call: SystemCall) throws -> (status: Int32, trace: SystemCallTrace) {
    let (run, trace) = try runTraced(request, strace: ["-e", "inject=\(call.name):signal=KILL:when=\(call.ordinal)"])
    if let pid = trace.pid { removeFaketimeLeftovers(of: pid) }
    return (run.status, trace)
  }

  private func runTraced(_ request: LoginRequest, strace options: [String]) throws -> (CommandResult, SystemCallTrace) {
    // A leftover under the pid the driver gets would change libfaketime's calls at its exit.
    removeFaketimeLeftoversOfEndedProcesses()
    let traceFile = root + "/strace.out"
    // strace passes the environment on to the driver only (-E), so that it does not run under
    // libfaketime itself.
    let environment = request.environment.flatMap { ["-E", "\($0.key)=\($0.value)"] }
    let run = try Child(
      Paths.strace,
      ["-f", "-qq", "-o", traceFile] + environment + options + ["--", Paths.driver] + driverArguments(request),
      output: root + "/strace.stdout"
    ).wait()
    let text = try String(contentsOfFile: traceFile, encoding: .utf8)
    try FileManager.default.removeItem(atPath: traceFile)
    return (run, SystemCallTrace(parsing: text))
  }
}
