import LockstepAdmin
import LockstepCore
import LockstepPlatform

#if canImport(Glibc)
  import Glibc
#endif

/// One of Lockstep's lines read from a log: when it was written, and the line from the
/// program's message on (the fields are after its last `; `, for `LogLine.fields(of:)`).
struct LogEntry {
  /// The Unix time the log gives the line.
  var time: Int64
  /// The message, without the syslog timestamp, host and tag.
  var line: String
}

/// Where `lockstep report` (and other commands that read the log) find Lockstep's lines: the
/// systemd journal through `journalctl`, or a syslog text file such as `/var/log/auth.log`.
///
/// Only Lockstep's lines are kept: the module's (their message holds `pam_lockstep(`) and the
/// agent's (from the program `lockstepd`), and of those only the ones that carry the log
/// format's fields.
enum LogSource {
  /// The journal: the system's, or the journal files given (`journalctl --file`).
  case journal(files: [String])
  /// A syslog text file (a rotated one too, but not compressed).
  case file(String)

  /// journald's socket: the journal is where this host's logs go when it exists.
  static let journalSocket = "/run/systemd/journal/socket"
  /// The program that reads the journal.
  static let journalctl = "/usr/bin/journalctl"
  /// Where Debian's syslog daemon writes authentication messages.
  static let authLog = "/var/log/auth.log"
  /// The largest syslog file read whole.
  static let fileLimit = 1 << 30

  /// This host's log: the journal when journald runs and `journalctl` is installed, else
  /// `/var/log/auth.log`.
  static var standard: LogSource {
    access(journalSocket, F_OK) == 0 && access(journalctl, X_OK) == 0 ? .journal(files: []) : .file(authLog)
  }

  /// The source as the report names it.
  var name: String {
    switch self {
    case .journal(let files): files.isEmpty ? "the journal" : "journal file " + files.joined(separator: ", ")
    case .file(let path): path
    }
  }

  /// Lockstep's lines in all of `sources`, written at `since` or later (all of them for `nil`),
  /// oldest first.
  static func entries(of sources: [LogSource], since: Int64?) throws(Failure) -> [LogEntry] {
    var all: [LogEntry] = []
    for source in sources { all += try source.entries(since: since) }
    return all.sorted { $0.time < $1.time }
  }

  /// Lockstep's lines in this source, written at `since` or later (all of them for `nil`).
  func entries(since: Int64?) throws(Failure) -> [LogEntry] {
    let found: [LogEntry]
    switch self {
    case .journal(let files): found = try Journal.entries(files: files, since: since)
    case .file(let path): found = try Self.syslogEntries(path)
    }
    guard let since else { return found }
    return found.filter { $0.time >= since }
  }

  /// Whether a line from `program` with `message` is one of Lockstep's, in the log format.
  static func isLockstep(program: String, message: String) -> Bool {
    (message.contains("pam_lockstep(") || program == "lockstepd") && LogLine.fields(of: message) != nil
  }

  /// Lockstep's lines in the syslog file at `path`.
  private static func syslogEntries(_ path: String) throws(Failure) -> [LogEntry] {
    let text = try Input.file(path: path, limit: fileLimit)
    let now = SystemClock.now()
    var entries: [LogEntry] = []
    for line in text.split(separator: UInt8(ascii: "\n")) {
      guard let parsed = SyslogLine(String(decoding: line, as: UTF8.self), now: now, utcOffset: localOffset),
        isLockstep(program: parsed.program, message: parsed.message)
      else { continue }
      entries.append(LogEntry(time: parsed.time, line: parsed.message))
    }
    return entries
  }

  /// The local time zone's offset east of UTC, in seconds, at `unixTime` (`TZ` and
  /// `/etc/localtime`, as the syslog daemon that wrote the file used them).
  private static func localOffset(_ unixTime: Int64) -> Int64 {
    var seconds = time_t(unixTime)
    var parts = tm()
    guard localtime_r(&seconds, &parts) != nil else { return 0 }
    return Int64(parts.tm_gmtoff)
  }
}
