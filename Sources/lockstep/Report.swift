import ArgumentParser
import LockstepAdmin
import LockstepCore
import LockstepPlatform

/// `lockstep report`: a summary of Lockstep's log lines (logins, replays, lockouts, backup
/// codes, codes sent, failing and spraying sources, clock warnings), with what the store says
/// about users who never logged in and users short of backup codes.
struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Summarise Lockstep's log: logins, refusals, replays, lockouts, sends and failing sources.",
    discussion: """
      Reads the module's and lockstepd's lines from the journal (journalctl), or from \
      /var/log/auth.log when journald does not run, or from the files given with --file. \
      Logins are counted from the module's lines only. With the store (unless --no-store), it \
      also names the users enrolled who never logged in and those with 2 or fewer backup \
      codes left; a store that cannot be read is noted and the report made from the log \
      alone. Exits with 2 when a file given cannot be read, 4 when the journal cannot be read.
      """)

  @Option(
    name: .long,
    help: ArgumentHelp(
      "How far back to read: 30m, 24h, 7d, an ISO 8601 UTC time (2026-12-03T12:00:00Z), or all.",
      valueName: "when"))
  var since = "24h"

  @OptionGroup var log: LogSourceOptions

  @Option(
    name: .long,
    help: ArgumentHelp(
      "A source is spraying when it failed for this many distinct users or more.", valueName: "n"))
  var sprayUsers = 3

  @Flag(name: .long, help: "Report from the log alone, without reading the store.")
  var noStore = false

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var output: JSONOption

  func validate() throws {
    guard sprayUsers >= 1 else { throw ValidationError("--spray-users must be 1 or more") }
    do { _ = try Self.time(since, now: 0) } catch {
      throw ValidationError("--since takes 30m, 24h, 7d, an ISO 8601 UTC time such as 2026-12-03T12:00:00Z, or all")
    }
  }

  func run() throws {
    let now = SystemClock.now()
    let start = try Self.time(since, now: now)
    let read = log.sources
    let entries = try LogSource.entries(of: read, since: start).compactMap { entry in
      LogLine.fields(of: entry.line).map { LoginReport.Entry(time: entry.time, fields: $0) }
    }
    let store = noStore ? StoreSummary(place: nil, users: nil, problem: nil) : StoreSummary.read(storeOptions)
    let report = LoginReport(entries: entries, enrolled: store.users, sprayUsers: sprayUsers)
    let context = ReportContext(now: now, since: start, sources: read.map(\.name), store: store, sprayUsers: sprayUsers)
    if output.json {
      Output.printJSON(ReportJSON.object(report, context))
    } else {
      ReportText.lines(report, context).forEach { print($0) }
    }
  }

  /// The Unix time `text` names: `now` less `30m`, `24h` or `7d`, an ISO 8601 UTC time or
  /// date, or `nil` for `all`.
  static func time(_ text: String, now: Int64) throws(Failure) -> Int64? {
    if text == "all" { return nil }
    if let seconds = DurationText.seconds(text) { return now - seconds }
    let full = text.count == 10 ? text + "T00:00:00Z" : text
    if let time = SyslogLine.unixTime(rfc3339: full) { return time }
    throw Failure("'\(LogText.escape(Array(text.utf8)))' is not a time for --since", code: Exit.usage)
  }
}

/// What the report says about where it read: the time range, the sources, the store.
struct ReportContext {
  var now: Int64
  var since: Int64?
  var sources: [String]
  var store: StoreSummary
  var sprayUsers: Int
}

/// What the report read from the store: its place, each user's last success and backup codes
/// left, or why it could not be read.
struct StoreSummary {
  /// The store's directory or agent, when it was opened.
  var place: String?
  /// The enrolled users (not those only invited), `nil` when the store was not read.
  var users: [LoginReport.Enrolled]?
  /// Why the store was not read (or some records not), in one sentence.
  var problem: String?

  /// The store of `options`, read as `lockstep list` reads it; a failure is kept as the
  /// problem, not thrown: the report is made from the log alone then.
  static func read(_ options: StoreOptions) -> StoreSummary {
    var place: String?
    do throws(Failure) {
      let store = try options.records()
      place = store.place
      var users: [LoginReport.Enrolled] = []
      var unreadable: [String] = []
      for name in try store.names() {
        do throws(Failure) {
          // An invitation not taken up is no enrollment yet (lockstep list shows it).
          guard let record = try store.read(name), record.invitation == nil else { continue }
          users.append(
            LoginReport.Enrolled(
              user: name.description, lastSuccess: record.lastSuccess,
              backupCodesLeft: record.backupCodes.hashes.isEmpty ? nil : record.backupCodes.hashes.count))
        } catch {
          unreadable.append(error.message)
        }
      }
      let problem = unreadable.first.map { Output.counted(unreadable.count, "record") + " could not be read: " + $0 }
      return StoreSummary(place: place, users: users, problem: problem)
    } catch {
      return StoreSummary(place: place, users: nil, problem: "the store was not read: " + error.message)
    }
  }
}
