import LockstepConfiguration
import LockstepCore

/// One alert for an administrator: what happened, when, to whom and from where, as the JSON
/// object that `alert-command` reads on its standard input. It holds what the log line held
/// and nothing secret: no code, no secret, no password ever reaches an event.
public struct Alert: Sendable {
  /// `lockout`, `replay`, `backup-code`, `spray` or `send-spike`.
  public let kind: String
  /// Unix time of the event.
  public let time: Int64
  /// One line for people: the mail's subject, and the JSON's `summary`.
  public let summary: String
  /// The event's own facts, in order: text (`user`, `rhost`, `service`) or numbers.
  public let facts: [(key: String, value: Fact)]
  /// Alerts left out by the rate limit since the last one that went.
  public var suppressed = 0

  /// A fact's value: JSON text or a JSON number or boolean.
  public enum Fact: Sendable, Equatable {
    case text(String)
    case number(Int64)
    case flag(Bool)
  }

  /// The JSON object, on one line: `alert`, `host`, `time` (ISO 8601 UTC), `unix`,
  /// `summary`, the facts, and `suppressed`.
  public func json(host: String) -> String {
    var members = [
      ("alert", JSONText.quoted(kind)), ("host", JSONText.quoted(host)),
      ("time", JSONText.quoted(UTCTime.iso8601(time))),
      ("unix", "\(time)"), ("summary", JSONText.quoted(summary)),
    ]
    for (key, value) in facts {
      switch value {
      case .text(let text): members.append((key, JSONText.quoted(text)))
      case .number(let number): members.append((key, "\(number)"))
      case .flag(let flag): members.append((key, flag ? "true" : "false"))
      }
    }
    members.append(("suppressed", "\(suppressed)"))
    return "{" + members.map { JSONText.quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
  }
}

/// Which of the agent's events make alerts, and how many may go out: the rules of
/// lockstepd(8), ALERTS, with no I/O. Not thread-safe: the agent calls it under a lock.
///
/// - a lockout (`event=lockout`), a replayed code (`reason=replay`), and a backup code used
///   (`method=backup`, `low` when `alert-backup-codes-left` or fewer are left) each make one;
/// - a source address refused for `alert-spray-users` distinct users within
///   `alert-spray-window` makes a `spray` alert, and no other for that address until the window
///   has passed;
/// - `alert-sends` codes sent within `alert-sends-window` make a `send-spike` alert, and no
///   other until the window has passed;
/// - at most `alert-limit` alerts go out per `alert-window`; the rest are counted.
public struct AlertRules {
  /// What became of an event: an alert to send, or one left out by the rate limit.
  public enum Decision: Sendable {
    case send(Alert)
    case suppressed(kind: String)
  }

  private let settings: AlertSettings
  /// When each alert that went out in the current `alert-window` went.
  private var sentTimes: [Int64] = []
  private var suppressedSinceLast = 0
  /// Per source address, the users it was refused for lately, with when.
  private var failuresBySource: [String: [(user: String, time: Int64)]] = [:]
  /// Until when each source address raises no second `spray` alert.
  private var quietSources: [String: Int64] = [:]
  private var sendTimes: [Int64] = []
  private var quietSendsUntil: Int64 = 0
  /// The most source addresses tracked at once: past it, the oldest are forgotten, so that a
  /// flood of addresses cannot grow the agent without bound.
  static let trackedSources = 10_000

  public init(settings: AlertSettings) {
    self.settings = settings
  }

  /// The decisions `fields` (one event's, values unescaped, as `LogLine.fields(of:)` gives
  /// them) leads to at `now`.
  public mutating func consider(_ fields: [(key: String, value: String)], now: Int64) -> [Decision] {
    func value(_ key: String) -> String? { fields.first { $0.key == key }?.value }
    func number(_ key: String) -> Int64? { value(key).flatMap { Int64($0) } }
    let who: [(key: String, value: Alert.Fact)] = ["user", "rhost", "service"].compactMap { key in
      value(key).map { (key, .text($0)) }
    }
    let user = value("user") ?? "-"
    let rhost = value("rhost") ?? "-"
    var alerts: [Alert] = []
    switch (value("event"), value("outcome"), value("reason"), value("method")) {
    case ("lockout", _, _, _):
      alerts.append(
        Alert(
          kind: "lockout", time: now, summary: "\(user) is locked out after failures from \(rhost)",
          facts: who + [("failures", .number(number("failures") ?? 0)), ("until", .number(number("until") ?? 0))]))
    case ("verify", "accepted", _, "backup"):
      let left = number("left") ?? 0
      let low = left <= Int64(settings.backupCodesLeft)
      alerts.append(
        Alert(
          kind: "backup-code", time: now,
          summary: "\(user) used a backup code; \(left) left" + (low ? ", which is few" : ""),
          facts: who + [("left", .number(left)), ("low", .flag(low))]))
    case ("verify", "refused", let reason?, _):
      if reason == "replay" {
        alerts.append(
          Alert(
            kind: "replay", time: now, summary: "a used code of \(user) was replayed from \(rhost)",
            facts: who + [("step", .number(number("step") ?? 0))]))
      }
      if ["wrong-code", "replay", "not-enrolled"].contains(reason), rhost != "-",
        let users = sprayed(from: rhost, user: user, now: now)
      {
        alerts.append(
          Alert(
            kind: "spray", time: now,
            summary: "\(rhost) was refused for \(users) users within \(settings.sprayWindowSeconds) seconds",
            facts: [
              ("rhost", .text(rhost)), ("users", .number(Int64(users))),
              ("window", .number(Int64(settings.sprayWindowSeconds))),
            ]))
      }
    case ("delivery", "sent", _, _) where value("confirm") == nil:
      sendTimes = sendTimes.filter { $0 > now - Int64(settings.sendsWindowSeconds) } + [now]
      if sendTimes.count >= settings.sends, now >= quietSendsUntil {
        quietSendsUntil = now + Int64(settings.sendsWindowSeconds)
        alerts.append(
          Alert(
            kind: "send-spike", time: now,
            summary: "\(sendTimes.count) codes were sent within \(settings.sendsWindowSeconds) seconds",
            facts: [
              ("sends", .number(Int64(sendTimes.count))),
              ("window", .number(Int64(settings.sendsWindowSeconds))),
            ]))
      }
    default: break
    }
    return alerts.map { limited($0, now: now) }
  }

  /// The number of distinct users `rhost` was refused for within the spray window, once that
  /// reaches `alert-spray-users` and the address is not quiet; otherwise `nil`.
  private mutating func sprayed(from rhost: String, user: String, now: Int64) -> Int? {
    let since = now - Int64(settings.sprayWindowSeconds)
    if failuresBySource[rhost] == nil, failuresBySource.count >= Self.trackedSources {
      failuresBySource = failuresBySource.filter { $0.value.contains { $0.time > since } }
      quietSources = quietSources.filter { $0.value > now }
      if failuresBySource.count >= Self.trackedSources { failuresBySource.removeAll() }
    }
    var recent = (failuresBySource[rhost] ?? []).filter { $0.time > since && $0.user != user }
    recent.append((user, now))
    failuresBySource[rhost] = recent
    guard recent.count >= settings.sprayUsers, (quietSources[rhost] ?? 0) <= now else { return nil }
    quietSources[rhost] = now + Int64(settings.sprayWindowSeconds)
    return recent.count
  }

  /// `alert`, if the rate limit lets it go (carrying the count left out before it), or its
  /// suppression.
  private mutating func limited(_ alert: Alert, now: Int64) -> Decision {
    sentTimes = sentTimes.filter { $0 > now - Int64(settings.windowSeconds) }
    guard sentTimes.count < settings.limit else {
      suppressedSinceLast += 1
      return .suppressed(kind: alert.kind)
    }
    sentTimes.append(now)
    var alert = alert
    alert.suppressed = suppressedSinceLast
    suppressedSinceLast = 0
    return .send(alert)
  }
}
