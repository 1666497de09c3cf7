import Foundation

/// What the driver saw during one `pam_authenticate`.
struct Login {
  /// The PAM code's name, e.g. `PAM_SUCCESS`.
  var result: String
  /// The prompts shown, with whether input was echoed.
  var prompts: [(echo: Bool, text: String)]
  /// Other lines the driver printed (messages, memory figures).
  var lines: [String]
  /// The driver's exit status.
  var status: Int32
}

/// One way of running a login through the driver.
struct LoginRequest {
  var user: String? = "alice"
  var answers: [String] = []
  /// Extra raw driver arguments, such as `--answer-hex` or `--no-conv`.
  var extraArguments: [String] = []
  var rhost: String? = "192.0.2.7"
  /// The Unix time the driver's clock is frozen at; the real clock if nil.
  var time: Int64?
  var service = "lockstep-test"
  /// A watchdog: the driver is killed after this many seconds (for logins that could hang).
  var timeLimit: Int?

  /// The environment that freezes the driver's wall clock at `time` with libfaketime. The
  /// monotonic clock keeps running, as it does on a real machine: the module's deadlines and
  /// delays are measured on it.
  var environment: [String: String] {
    guard let time else { return [:] }
    return [
      "LD_PRELOAD": Paths.faketime, "FAKETIME_FMT": "%s", "FAKETIME": String(time), "TZ": "UTC",
      "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    ]
  }
}

extension Sandbox {
  /// The driver's arguments for `request`. The answers are noted as secrets that must never
  /// appear in this sandbox's log.
  func driverArguments(_ request: LoginRequest) -> [String] {
    var arguments = ["--confdir", confdir, "--service", request.service, "--syslog", syslog]
    if let user = request.user { arguments += ["--user", user] } else { arguments.append("--no-user") }
    for answer in request.answers {
      arguments += ["--answer", answer]
      noteTyped(answer)
    }
    arguments += request.extraArguments
    for (option, value) in zip(request.extraArguments, request.extraArguments.dropFirst()) where option == "--answer" {
      noteTyped(value)
    }
    if let rhost = request.rhost { arguments += ["--rhost", rhost] }
    return arguments
  }

  /// Runs one login through the real libpam and the built module.
  func login(_ request: LoginRequest) throws -> Login {
    let arguments = driverArguments(request)
    let run: CommandResult
    if let limit = request.timeLimit {
      run = try runCommand(
        "/usr/bin/timeout", ["--signal=KILL", String(limit), Paths.driver] + arguments, environment: request.environment
      )
    } else {
      run = try runCommand(Paths.driver, arguments, environment: request.environment)
    }
    return Login(parsing: run)
  }

  /// Runs a login answering `answers` at `time`.
  func login(_ user: String = "alice", answers: [String], at time: Int64? = nil) throws -> Login {
    try login(LoginRequest(user: user, answers: answers, time: time))
  }
}

extension Login {
  init(parsing run: CommandResult) {
    result = "(none)"
    prompts = []
    lines = []
    status = run.status
    for line in run.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line.hasPrefix("result ") {
        result = String(line.dropFirst(7))
      } else if line.hasPrefix("prompt echo=") {
        let rest = line.dropFirst("prompt echo=".count)
        prompts.append((rest.hasPrefix("on"), String(rest.drop { $0 != " " }.dropFirst())))
      } else if !line.isEmpty {
        lines.append(line)
      }
    }
  }
}
