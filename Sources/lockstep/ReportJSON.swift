import LockstepAdmin

/// `lockstep report --json`: the report as one JSON object whose keys are documented in
/// lockstep(8) and stay stable for scripts. Times are Unix times; names and addresses are as
/// the log gives them, unescaped.
enum ReportJSON {
  /// The whole report.
  static func object(_ report: LoginReport, _ context: ReportContext) -> [String: Any] {
    [
      "now": context.now,
      "since": Output.orNull(context.since),
      "first": Output.orNull(report.first),
      "last": Output.orNull(report.last),
      "sources": context.sources,
      "store": Output.orNull(context.store.place),
      "storeProblem": Output.orNull(context.store.problem),
      "sprayUsers": context.sprayUsers,
      "logins": [
        "accepted": report.accepted, "refused": report.refused, "errors": report.errors,
        "byMethod": report.byMethod, "byReason": report.byReason, "byError": report.byError,
      ] as [String: Any],
      "users": report.users.keys.sorted().map { tally("user", $0, report.users[$0]) },
      "rhosts": report.sources.keys.sorted().map { tally("rhost", $0, report.sources[$0]) },
      "replays": report.replays.map(event),
      "lockouts": report.lockouts.map(event),
      "backupCodesUsed": report.backupCodesUsed.map(event),
      "lowBackupCodes": report.lowBackupCodesLeft.map { ["user": $0.user, "left": $0.left] as [String: Any] },
      "sends": ["sent": report.sent, "refused": report.sendsRefused, "errors": report.sendErrors] as [String: Any],
      "failingSources": report.failingSources.map {
        ["rhost": $0.rhost, "failures": $0.failures, "users": $0.users, "spraying": $0.spraying] as [String: Any]
      },
      "clockWarnings": report.clockWarnings.map(event),
      "agentProblems": report.agentProblems.map(event),
      "neverLoggedIn": Output.orNull(report.neverLoggedIn),
    ]
  }

  /// The logins of one user or source, under `key`.
  private static func tally(_ key: String, _ name: String, _ tally: LoginReport.Tally?) -> [String: Any] {
    [key: name, "accepted": tally?.accepted ?? 0, "refused": tally?.refused ?? 0]
  }

  /// One event: its time, user and source, and its details (numbers as numbers).
  private static func event(_ event: LoginReport.Event) -> [String: Any] {
    var object: [String: Any] = ["time": event.time, "user": event.user, "rhost": event.rhost]
    for (key, value) in event.details { object[key] = Int64(value).map { $0 as Any } ?? value }
    return object
  }
}
