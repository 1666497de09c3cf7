import Foundation
import LockstepCore

/// Two hosts of one fleet for a test: one PostgreSQL (with a synchronous standby if asked),
/// two agents with their own host names sharing one fleet key, and a PAM service on each
/// (`host-a`, `host-b`) that runs the module with `agent=` pointing at that host's agent.
final class Fleet {
  let server: PostgresServer
  let sandbox: Sandbox
  /// The fleet key both agents hold.
  let keyPath: String
  let a: AgentProcess
  let b: AgentProcess

  init(synchronousStandby: Bool = false, moduleArguments: [String] = []) throws {
    server = try PostgresServer(synchronousStandby: synchronousStandby)
    sandbox = try Sandbox()
    keyPath = sandbox.root + "/fleet.key"
    try AgentProcess.writeFleetKey(at: keyPath)
    a = try AgentProcess(fleet: server, in: sandbox.root, name: "host-a", fleetKey: keyPath)
    b = try AgentProcess(fleet: server, in: sandbox.root, name: "host-b", fleetKey: keyPath)
    for agent in [a, b] {
      try sandbox.configure(arguments: ["agent=\(agent.socket)"] + moduleArguments, service: name(of: agent))
    }
  }

  /// The PAM service of `agent`'s host.
  func name(of agent: AgentProcess) -> String { agent === a ? "host-a" : "host-b" }

  /// Enrolls `user` (as the sandbox's local store would hold the record) into the fleet
  /// through host A; returns the record.
  @discardableResult
  func enroll(
    _ user: String = "alice", secret: String = Sandbox.secret, parameters: TokenParameters = .standard,
    change: (inout UserRecord) -> Void = { _ in }
  ) throws -> UserRecord {
    let record = try sandbox.enroll(user, secret: secret, parameters: parameters, change: change)
    try a.store(record, for: user)
    return record
  }

  /// One login on `agent`'s host, answering `answer`.
  func login(_ user: String = "alice", on agent: AgentProcess, answer: String) throws -> Login {
    try sandbox.login(request(user, on: agent, answer: answer))
  }

  /// The driver's request for one login on `agent`'s host, killed if it takes over 30 s.
  func request(_ user: String = "alice", on agent: AgentProcess, answer: String) -> LoginRequest {
    var request = LoginRequest(user: user, answers: [answer], service: name(of: agent))
    request.timeLimit = 30
    return request
  }

  /// The current TOTP code of `secret` by the real clock, from oathtool.
  static func currentCode(_ secret: String = Sandbox.secret) throws -> String {
    try oathtool(secret: secret, at: Int64(Date().timeIntervalSince1970))
  }
}
