import LockstepAdmin
import LockstepCore

/// `lockstep report` for people: what was read at the top, then one section per subject,
/// each a heading and an aligned table (or "none"). Names and addresses are escaped as the
/// log's fields are, so that a forged name (`root rhost=203.0.113.66`) shows as one cell.
enum ReportText {
  /// The report's lines.
  static func lines(_ report: LoginReport, _ context: ReportContext) -> [String] {
    let from = context.since.map { Output.time($0) } ?? "the start of the log"
    var out = [
      "Lockstep report from \(from) to \(Output.time(context.now))",
      "Read: " + context.sources.joined(separator: ", "),
      "Store: " + (context.store.problem ?? context.store.place ?? "not read (--no-store)"),
    ]
    if let first = report.first, let last = report.last {
      out.append("Lines from \(Output.time(first)) to \(Output.time(last))")
    }
    out += section(
      "Logins",
      [
        ["accepted", String(report.accepted), counts(report.byMethod)],
        ["refused", String(report.refused), counts(report.byReason)],
        ["failed closed", String(report.errors), counts(report.byError)],
      ], headings: [], always: true)
    out += section(
      "By user",
      report.users.keys.sorted().map {
        [shown($0), String(report.users[$0]?.accepted ?? 0), String(report.users[$0]?.refused ?? 0)]
      },
      headings: ["USER", "ACCEPTED", "REFUSED"])
    out += section(
      "By source address",
      report.sources.keys.sorted().map {
        [shown($0), String(report.sources[$0]?.accepted ?? 0), String(report.sources[$0]?.refused ?? 0)]
      }, headings: ["RHOST", "ACCEPTED", "REFUSED"])
    out += section(
      "Failing sources (spraying: failed for \(context.sprayUsers) or more users)",
      report.failingSources.prefix(20).map {
        [shown($0.rhost), String($0.failures), String($0.users), $0.spraying ? "yes" : "no"]
      }, headings: ["RHOST", "FAILURES", "USERS", "SPRAYING"])
    out += section(
      "Replays", report.replays.map { row($0) + [$0.details["reason"] ?? "-"] },
      headings: ["TIME", "USER", "RHOST", "REASON"])
    out += section(
      "Lockouts",
      report.lockouts.map {
        row($0) + [$0.details["failures"] ?? "-", Int64($0.details["until"] ?? "").map { Output.time($0) } ?? "-"]
      }, headings: ["TIME", "USER", "RHOST", "FAILURES", "LOCKED UNTIL"])
    out += section(
      "Backup codes used", report.backupCodesUsed.map { row($0) + [$0.details["left"] ?? "-"] },
      headings: ["TIME", "USER", "RHOST", "LEFT"])
    out += section(
      "Close to running out of backup codes (\(LoginReport.lowBackupCodes) or fewer left)",
      report.lowBackupCodesLeft.map { [shown($0.user), String($0.left)] }, headings: ["USER", "LEFT"])
    out += section(
      "Codes sent",
      [
        ["sent", counts(report.sent)], ["refused", counts(report.sendsRefused)],
        ["failed", String(report.sendErrors)],
      ], headings: [], always: true)
    out += section(
      "Clock warnings",
      report.clockWarnings.map { row($0) + [$0.details["step"] ?? "-", $0.details["last"] ?? "-"] },
      headings: ["TIME", "USER", "RHOST", "STEP", "LAST STEP"])
    out += section(
      "Agent problems",
      report.agentProblems.map { problem in
        [Output.time(problem.time)]
          + ["event", "outcome", "reason", "channel", "provider", "host"].map { problem.details[$0] ?? "-" }
      }, headings: ["TIME", "EVENT", "OUTCOME", "REASON", "CHANNEL", "PROVIDER", "HOST"])
    if let never = report.neverLoggedIn {
      out += section("Enrolled, never logged in", never.map { [shown($0)] }, headings: ["USER"])
    }
    return out
  }

  /// A section: a blank line, the heading, and the table of `rows` under `headings` indented,
  /// or "none" when there are no rows (unless `always`).
  private static func section(
    _ heading: String, _ rows: [[String]], headings: [String], always: Bool = false
  )
    -> [String]
  {
    guard !rows.isEmpty || always else { return ["", heading, "  none"] }
    return ["", heading] + Output.table((headings.isEmpty ? [] : [headings]) + rows).map { "  " + $0 }
  }

  /// The time, user and source of an event, as table cells.
  private static func row(_ event: LoginReport.Event) -> [String] {
    [Output.time(event.time), shown(event.user), shown(event.rhost)]
  }

  /// Counts by word, most first: `wrong-code 5, replay 1`, or `-` for none.
  private static func counts(_ counts: [String: Int]) -> String {
    let sorted = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
    return sorted.isEmpty ? "-" : sorted.map { "\(shown($0.key)) \($0.value)" }.joined(separator: ", ")
  }

  /// A name or address from the log, escaped as a field.
  private static func shown(_ value: String) -> String { LogText.field(Array(value.utf8)) }
}
