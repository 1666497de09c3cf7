import Foundation
import LockstepCore
import LockstepPlatform

/// One host that sends codes by email, for a test: the sandbox's module asks a lockstepd
/// (`store =`, with a host key) that mails codes through a real sendmail program, msmtp with a
/// configuration of its own, to a real SMTP server (the mail sink) on loopback. Both wall
/// clocks are frozen at each login's time, so that a test can move them across cooldowns,
/// windows and expiry: the module's by libfaketime (as in every module test), the agent's by
/// datefudge, with the agent restarted when the time changes. (Under libfaketime, which
/// rewrites the environment as it starts, a Swift program finds no command-line arguments.)
final class SentCodeWorld {
  let sandbox: Sandbox
  let agent: AgentProcess
  /// The mail sink, when it runs (a test of a provider that is down starts none).
  let sink: StandIn?
  /// Where the sink puts each message it receives.
  var mailbox: String { sandbox.root + "/mail" }
  /// The time the agent's clock is frozen at.
  private var agentTime = SentCodeWorld.start
  /// What the agent logged before its last restart.
  private var earlierLog = ""
  /// Everything the agent logged.
  var agentLog: String { earlierLog + agent.log }
  /// The service the module runs in.
  static let service = "lockstep-sent"
  /// The time the tests start at (2026-01-30).
  static let start: Int64 = 1_769_800_000

  /// Starts the sink (with `sinkArguments`, unless `sinkRunning` is false), and an agent with
  /// `lines` added to its configuration; the module gets `arguments` besides `agent=`.
  init(
    lines: [String] = [], arguments: [String] = [], sinkArguments: [String] = [], sinkRunning: Bool = true
  )
    throws
  {
    sandbox = try Sandbox()
    try FileManager.default.createDirectory(atPath: sandbox.root + "/mail", withIntermediateDirectories: false)
    let sink =
      sinkRunning
      ? try StandIn("mail-sink.py", [sandbox.root + "/mail"] + sinkArguments, in: sandbox.root, name: "sink") : nil
    self.sink = sink
    // msmtp refuses a configuration that others can read.
    let msmtprc = sandbox.root + "/msmtprc"
    let rc = "account default\nhost 127.0.0.1\nport \(sink?.port ?? 9)\nfrom lockstep@test.invalid\nauth off\ntls off\n"
    guard
      FileManager.default.createFile(atPath: msmtprc, contents: Data(rc.utf8), attributes: [.posixPermissions: 0o600])
    else { throw TestFailure("cannot write \(msmtprc)") }
    let hostKey = sandbox.root + "/host.key"
    guard let key = SystemRandom.bytes(count: 32),
      FileManager.default.createFile(atPath: hostKey, contents: Data(key), attributes: [.posixPermissions: 0o400])
    else { throw TestFailure("cannot write \(hostKey)") }
    agent = try AgentProcess(
      in: sandbox.root, name: "agent",
      lines: [
        "store = \(sandbox.store)", "host-key = \(hostKey)", "email = sendmail",
        "sendmail = /usr/bin/msmtp -C \(msmtprc) -t", "email-from = lockstep@test.invalid",
      ] + lines,
      environment: Self.frozen(at: Self.start))
    try sandbox.configure(arguments: ["agent=\(agent.socket)"] + arguments, service: Self.service)
  }

  /// datefudge's environment for a clock frozen at `time` (its monotonic clock runs on).
  static func frozen(at time: Int64) -> [String: String] {
    ["LD_PRELOAD": Paths.datefudge, "DATEFUDGE": String(time), "DATEFUDGE_DOSTATIC": "1", "TZ": "UTC"]
  }

  deinit {
    agent.stop()
    sink?.stop()
  }

  /// Enrolls `user` with codes sent to `contact`: alone (`kind delivered`), or beside the
  /// sandbox's authenticator secret.
  func enroll(_ user: String, contact: Contact = .email("alice@example.com"), alone: Bool = true) throws {
    let parameters = alone ? TokenParameters(kind: .delivered, algorithm: .sha1, digits: 6, period: 30) : .standard
    guard let name = UserName(user), let secret = Base32.decode(Sandbox.secret) else {
      throw TestFailure("bad test input")
    }
    var record = UserRecord(parameters: parameters, secret: alone ? SecretBytes([]) : secret, enrolled: Self.start)
    record.contact = contact
    let store = try Store(path: sandbox.store)
    let lock = try store.lock(name)
    try store.write(record, holding: lock)
  }

  /// A login of `user` at `time` (the agent's clock too), from `rhost`, answering `answers`.
  func login(
    _ user: String = "alice", answers: [String], at time: Int64 = SentCodeWorld.start, rhost: String = "192.0.2.7"
  ) throws -> Login {
    if time != agentTime {
      agent.stop()
      earlierLog += agent.log
      agent.environment = Self.frozen(at: time)
      try agent.start()
      agentTime = time
    }
    var request = LoginRequest(user: user, answers: [], rhost: rhost, time: time, service: Self.service)
    for answer in answers {
      request.extraArguments += answer.hasPrefix("/") ? ["--answer-command", answer] : ["--answer", answer]
    }
    request.timeLimit = 60
    let login = try sandbox.login(request)
    for line in login.lines where line.hasPrefix("commanded ") { sandbox.noteTyped(String(line.dropFirst(10))) }
    return login
  }

  /// The answer that types the code of the `count`th message received.
  func code(_ count: Int) -> String {
    "\(StandIn.python) \(StandIn.directory)/latest-code.py \(mailbox) --count \(count)"
  }

  /// The messages received so far, in no particular order.
  func messages() throws -> [String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: mailbox).filter { !$0.hasPrefix(".") }
    return try names.map { try String(contentsOfFile: mailbox + "/" + $0, encoding: .utf8) }
  }

  /// The code the driver typed (printed as `commanded CODE`).
  static func typed(_ login: Login) -> String? {
    login.lines.first { $0.hasPrefix("commanded ") }.map { String($0.dropFirst(10)) }
  }
}
