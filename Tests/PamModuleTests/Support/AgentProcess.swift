import Foundation
import LockstepCore
import LockstepPlatform

/// A lockstepd started for one test from the built binary, with its configuration, fleet key
/// and socket in the test's own directory; stopped by pid when released, even when the test
/// fails.
final class AgentProcess {
  /// The agent's socket, for the module's `agent=`.
  let socket: String
  /// Its configuration file.
  let configPath: String
  /// What it printed.
  let logPath: String
  private var child: Child?
  /// The agent's environment (datefudge's, for a test that sets its clock), from its next start.
  var environment: [String: String]

  /// Writes a configuration of `lines` (`key = value`, the socket added) to `directory` and
  /// starts the agent as `name`, in `environment`; returns once it accepts connections.
  init(in directory: String, name: String, lines: [String], environment: [String: String] = [:]) throws {
    self.environment = environment
    socket = directory + "/\(name).sock"
    configPath = directory + "/\(name).conf"
    logPath = directory + "/\(name).log"
    let text = (["socket = \(socket)"] + lines).joined(separator: "\n") + "\n"
    guard
      FileManager.default.createFile(
        atPath: configPath, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    else { throw TestFailure("cannot write \(configPath)") }
    try start()
  }

  /// An agent of the fleet on `server`, as host `name`, with the fleet key at `fleetKey`.
  convenience init(
    fleet server: PostgresServer, in directory: String, name: String, fleetKey: String, url: String? = nil,
    extraLines: [String] = []
  ) throws {
    try self.init(
      in: directory, name: name,
      lines: ["database = \(url ?? server.url())", "host-name = \(name)", "fleet-key = \(fleetKey)"] + extraLines)
  }

  deinit { child?.kill() }

  /// Starts the agent and waits (with a deadline) until its socket answers.
  func start() throws {
    child = try Child(Paths.agent, ["--config", configPath], environment: environment, output: logPath)
    let deadline = MonotonicClock.now() + 20_000_000_000
    while MonotonicClock.now() < deadline {
      if let child, child.hasExited { throw TestFailure("lockstepd exited: \(log)") }
      if (try? AgentConnection.connect(to: socket, deadline: MonotonicClock.now() + 1_000_000_000)) != nil { return }
      MonotonicClock.sleep(nanoseconds: 20_000_000)
    }
    throw TestFailure("lockstepd did not listen on \(socket) within 20 s: \(log)")
  }

  /// Stops the agent (SIGTERM) and reaps it.
  func stop() {
    guard let child else { return }
    Glibc.kill(child.pid, SIGTERM)
    _ = child.wait()
    self.child = nil
  }

  /// One request, as the module or the CLI sends it.
  func exchange(_ request: AgentRequest, seconds: UInt64 = 10) throws -> AgentReply {
    let deadline = MonotonicClock.now() + seconds * 1_000_000_000
    return try AgentConnection.connect(to: socket, deadline: deadline).exchange(request, deadline: deadline)
  }

  /// Puts `record` into the agent's store for `user`.
  func store(_ record: UserRecord, for user: String, mode: StoreMode = .replace) throws {
    guard let name = UserName(user) else { throw TestFailure("bad user name") }
    let reply = try exchange(.store(name, record: RecordFormat.serialize(record), mode: mode))
    guard case .done = reply else { throw TestFailure("the agent did not store \(user): \(reply)") }
  }

  /// The record of `user` as the agent has it.
  func record(_ user: String) throws -> UserRecord? {
    guard let name = UserName(user) else { throw TestFailure("bad user name") }
    guard case .record(let text) = try exchange(.fetch(name)) else {
      throw TestFailure("the agent did not fetch \(user)")
    }
    return try text.map { text in try text.withUnsafeBytes { try RecordFormat.parse($0) } }
  }

  /// Everything the agent printed so far.
  var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  /// Writes a new fleet key, 32 random bytes readable by root alone, to `path`.
  static func writeFleetKey(at path: String) throws {
    guard let key = SystemRandom.bytes(count: Sealing.keyLength),
      FileManager.default.createFile(atPath: path, contents: Data(key), attributes: [.posixPermissions: 0o400])
    else { throw TestFailure("cannot write the fleet key \(path)") }
  }
}
