import Prometheus

/// Lockstep's metric families: each one's name (`lockstep_` and a unit: `_total` for a
/// counter, `_seconds`), and its help text. lockstepd(8), METRICS, says what each counts.
enum MetricFamily {
  case loginsAccepted, loginsRefused, loginErrors, lockouts, replays, backupCodesUsed, clockBehind, sends, sendRefusals,
    sendDuration, databaseEvents, databaseUp, agentErrors, startTime

  /// The family's name and help, for the registry.
  var descriptor: MetricNameDescriptor {
    let (name, unit, help): (String, String, String) =
      switch self {
      case .loginsAccepted: ("logins_accepted", "total", "Logins a code let in, by method and service.")
      case .loginsRefused: ("logins_refused", "total", "Logins refused, by reason and service.")
      case .loginErrors:
        ("login_errors", "total", "Logins that failed closed (configuration, store, agent), by reason and service.")
      case .lockouts: ("lockouts", "total", "Lockouts started by consecutive failures, by service.")
      case .replays: ("replays", "total", "Refused replays of a code already used, by service.")
      case .backupCodesUsed: ("backup_codes_used", "total", "Backup codes used up by a login.")
      case .clockBehind: ("clock_behind", "total", "Logins that found the clock behind the last accepted time step.")
      case .sends: ("sends", "total", "Codes sent or not by email or SMS, by channel and outcome.")
      case .sendRefusals: ("send_refusals", "total", "Sends refused before any provider, by reason.")
      case .sendDuration:
        ("send_duration", "seconds", "How long the provider took to take or refuse a code, by channel.")
      case .databaseEvents: ("database_events", "total", "Database trouble: unavailable, connection lost, failover.")
      case .databaseUp: ("database", "up", "1 when the fleet database last answered, 0 when it was last unavailable.")
      case .agentErrors:
        ("agent_errors", "total", "Agent errors, refused clients and requests, failed exchanges, by outcome.")
      case .startTime: ("agent_start_time", "seconds", "When lockstepd last started, in Unix time.")
      }
    return MetricNameDescriptor(namespace: "lockstep", metricName: name, unitName: unit, helpText: help)
  }
}
