import Glibc
import LockstepCore
import Prometheus
import Synchronization

/// What Lockstep's log says, counted in Prometheus' text format: the one mapping from a log
/// line's fields (pam_lockstep(8), LOG FORMAT) to metrics. lockstepd feeds it every event as it
/// logs it (its `/metrics`); `lockstep metrics --textfile` feeds it the lines it reads back from
/// the journal. The module's `event=login` and the agent's `event=verify` count alike, so a
/// host's counts come from whichever of the two decided its logins: feed one, not both.
///
/// No label holds a user name or a remote host: their number has no bound, and a metrics
/// endpoint is no place for who logged in from where (the log is). Every other label takes only
/// the words Lockstep logs (`LabelVocabulary`), and `service=` at most `serviceLimit` names
/// (`ServiceLabels`). The families and their meaning are listed in lockstepd(8), METRICS.
/// Safe to use from any thread.
public final class LockstepMetrics: Sendable {
  /// How many distinct `service` label values are kept before the rest count as `other`.
  public static let serviceLimit = 32
  /// The bounds of `lockstep_send_duration_seconds`, in seconds: providers answer within tens
  /// of milliseconds to tens of seconds (the agent's `send-timeout` is at most 30).
  public static let sendDurationBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30]

  private let registry = PrometheusCollectorRegistry()
  private let services = ServiceLabels(limit: LockstepMetrics.serviceLimit)
  /// Whether an `event=database` line has been seen: a store agent has no database, and shows
  /// no `lockstep_database_up` at all.
  private let databaseSeen = Mutex(false)

  /// Metrics with nothing counted yet; the families without labels are there from the start,
  /// at zero.
  public init() {
    _ = registry.makeCounter(descriptor: MetricFamily.backupCodesUsed.descriptor)
    _ = registry.makeCounter(descriptor: MetricFamily.clockBehind.descriptor)
  }

  /// Counts one event, given its fields with their values unescaped (`LogLine.fields(of:)`);
  /// `time` is when it was logged, in seconds since 1970 (now, when not given), used by
  /// `lockstep_agent_start_time_seconds` only. Fields of anything but a Lockstep event count
  /// nothing.
  public func observe(_ fields: [(key: String, value: String)], at time: Double? = nil) {
    func value(_ key: String) -> String? { fields.first { $0.key == key }?.value }
    let outcome = value("outcome")
    switch value("event") {
    case "login", "verify":
      let service = ("service", services.label(value("service")))
      switch outcome {
      case "accepted":
        let method = LabelVocabulary.methods.label(value("method"))
        count(.loginsAccepted, [("method", method), service])
        if method == "backup" { count(.backupCodesUsed) }
      case "refused":
        let reason = LabelVocabulary.refusals.label(value("reason"))
        count(.loginsRefused, [("reason", reason), service])
        if reason == "replay" || reason == "enrollment-replay" { count(.replays, [service]) }
      case "error": count(.loginErrors, [("reason", LabelVocabulary.errors.label(value("reason"))), service])
      default: break
      }
      if value("event") == "verify" && outcome != nil { database(up: true, fromDatabaseEvent: false) }
    case "lockout": count(.lockouts, [("service", services.label(value("service")))])
    case "delivery":
      let channel = ("channel", LabelVocabulary.channels.label(value("channel")))
      let sendOutcome = LabelVocabulary.sendOutcomes.label(outcome)
      count(.sends, [channel, ("outcome", sendOutcome)])
      if sendOutcome == "refused" {
        count(.sendRefusals, [("reason", LabelVocabulary.sendRefusals.label(value("reason")))])
      }
      if sendOutcome != "refused", let milliseconds = value("ms").flatMap(Int.init), milliseconds >= 0 {
        registry.makeValueHistogram(
          descriptor: MetricFamily.sendDuration.descriptor, labels: [channel], buckets: Self.sendDurationBuckets
        )
        .record(Double(milliseconds) / 1000)
      }
    case "database":
      let databaseOutcome = LabelVocabulary.databaseOutcomes.label(outcome)
      count(.databaseEvents, [("outcome", databaseOutcome)])
      if databaseOutcome == "unavailable" { database(up: false, fromDatabaseEvent: true) }
      if databaseOutcome == "failover" { database(up: true, fromDatabaseEvent: true) }
    case "agent":
      if outcome == "started" {
        registry.makeGauge(descriptor: MetricFamily.startTime.descriptor).set(to: time ?? Self.now())
      } else {
        count(.agentErrors, [("outcome", LabelVocabulary.agentErrors.label(outcome))])
      }
    case "clock": count(.clockBehind)
    default: break
    }
  }

  /// Counts one of lockstepd's events as it is logged.
  public func observe(_ line: LogLine) {
    if let fields = LogLine.fields(of: line.text) { observe(fields) }
  }

  /// Everything counted so far, in Prometheus' text format (version 0.0.4).
  public func exposition() -> String { registry.emitToString() }

  private func count(_ family: MetricFamily, _ labels: [(String, String)] = []) {
    if labels.isEmpty {
      registry.makeCounter(descriptor: family.descriptor).increment()
    } else {
      registry.makeCounter(descriptor: family.descriptor, labels: labels).increment()
    }
  }

  /// Sets `lockstep_database_up`, which an `event=database` line makes exist: a verdict alone
  /// (a store agent's) does not.
  private func database(up: Bool, fromDatabaseEvent: Bool) {
    let known = databaseSeen.withLock { seen in
      if fromDatabaseEvent { seen = true }
      return seen
    }
    if known { registry.makeGauge(descriptor: MetricFamily.databaseUp.descriptor).set(to: up ? 1.0 : 0.0) }
  }

  private static func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
  }
}
