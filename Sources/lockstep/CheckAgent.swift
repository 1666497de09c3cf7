import LockstepAdmin
import LockstepCore

extension Check {
  /// What the agent (lockstepd) says about its store, one finding per line of its `.status`:
  /// information when the line is healthy, else a warning, or an error for the database (every
  /// login through the agent then fails closed). An agent that cannot be asked is an error, for
  /// the same reason.
  func auditAgent(_ socket: String) -> [Located] {
    let client = AgentClient(socket: socket, timeoutSeconds: agentTimeout)
    func failed(_ rule: String, _ message: String, fix: String) -> [Located] {
      [Located(file: socket, finding: Finding(severity: .error, rule: rule, line: 0, message: message, fix: fix))]
    }
    let reply: AgentReply
    do { reply = try client.send(.status) } catch {
      return failed(
        "agent.unreachable", Self.sentence(error.message) + ", so no login through it can succeed.",
        fix: "Check that lockstepd runs and answers (systemctl status lockstepd, and its log), or name the socket "
          + "its configuration gives: lockstep check --agent SOCKET.")
    }
    switch reply {
    case .status(let lines):
      guard !lines.isEmpty else {
        return [
          Located(
            file: socket,
            finding: Finding(
              severity: .info, rule: "agent.status", line: 0, message: "The agent answers, and reports nothing.",
              fix: "Nothing to do."))
        ]
      }
      return lines.map { line in
        let name = AgentClient.printable(line.name)
        let severity: Severity = line.healthy ? .info : name == "database" ? .error : .warning
        return Located(
          file: socket,
          finding: Finding(
            severity: severity, rule: "agent.\(name)", line: 0,
            message: "The agent reports \(name): \(AgentClient.printable(line.detail)).",
            fix: line.healthy ? "Nothing to do." : Self.agentFix(name)))
      }
    case .unavailable(let reason):
      return failed(
        "agent.unavailable",
        "The agent at \(client.place) cannot reach its store: \(AgentClient.printable(reason)), so every login through it fails.",
        fix: Self.agentFix("database"))
    case .refused(let reason):
      return failed(
        "agent.refused", "The agent at \(client.place) refused to report its status: \(AgentClient.printable(reason)).",
        fix: "Check that lockstepd and lockstep are of the same release.")
    default:
      return failed(
        "agent.refused", "The agent at \(client.place) answered the status request with a reply of another kind.",
        fix: "Check that lockstepd and lockstep are of the same release.")
    }
  }

  /// How to mend what an unhealthy status line reports.
  static func agentFix(_ name: String) -> String {
    switch name {
    case "database":
      "Check the agent's 'database =' URL and password file (lockstepd.conf), that PostgreSQL runs and that this "
        + "host can reach it; see the agent's log."
    case "tls":
      "Give the 'database =' URL sslmode=verify-full and the database's CA certificate, so that records and codes "
        + "never cross the network in clear text."
    case "replication":
      "Set synchronous_standby_names on the primary (and keep synchronous_commit on), so that a failover cannot "
        + "lose an accepted code and let it be used again."
    case "clock-skew":
      "Synchronise the clocks of this host and the database server (chrony, systemd-timesyncd or ntpd)."
    default: "See the agent's log and lockstepd(8)."
    }
  }

  /// `text` with its first letter capitalised, as a finding's message starts.
  static func sentence(_ text: String) -> String {
    text.prefix(1).uppercased() + text.dropFirst()
  }
}
