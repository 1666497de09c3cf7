import FoundationEssentials

/// Lockstep's lines in the systemd journal, read with `journalctl -o json`: one JSON object
/// per entry, whose `MESSAGE` is a string, or an array of its bytes when it is not UTF-8 text,
/// and whose `__REALTIME_TIMESTAMP` is the time in microseconds, as a string.
///
/// `journalctl` is asked only for the authentication facility (where pam_syslog writes the
/// module's lines) and for the agent's identifier, `lockstepd`; `LogSource.isLockstep` then
/// keeps the lines that are Lockstep's.
enum Journal {
  /// pam_syslog's facility, `LOG_AUTHPRIV`, as the journal's `SYSLOG_FACILITY`.
  static let authenticationFacility = "10"

  /// `journalctl`'s arguments for the entries of `files` (the system journal when empty)
  /// since `since`.
  static func arguments(files: [String], since: Int64?) -> [String] {
    var arguments = ["--output=json", "--no-pager", "--quiet", "--all", "--output-fields=MESSAGE,SYSLOG_IDENTIFIER"]
    if let since { arguments.append("--since=@\(since)") }
    arguments += files.map { "--file=" + $0 }
    return arguments + ["SYSLOG_FACILITY=" + authenticationFacility, "+", "SYSLOG_IDENTIFIER=lockstepd"]
  }

  /// Lockstep's entries in the journal (or in `files`) since `since`.
  static func entries(files: [String], since: Int64?) throws(Failure) -> [LogEntry] {
    let run = Subprocess.run(LogSource.journalctl, arguments(files: files, since: since))
    guard run.status == 0 else {
      let why = run.error.split(separator: "\n").first.map(String.init) ?? "it could not be run"
      throw Failure("cannot read the journal with \(LogSource.journalctl): \(why)", code: Exit.storeUnusable)
    }
    return run.output.split(separator: "\n").compactMap { entry(String($0)) }
  }

  /// The Lockstep line in one line of `journalctl -o json`, or `nil` when it holds none.
  static func entry(_ json: String) -> LogEntry? {
    guard let object = try? JSONDecoder().decode([String: Field].self, from: Data(json.utf8)),
      let message = object["MESSAGE"]?.text,
      let microseconds = object["__REALTIME_TIMESTAMP"]?.text.flatMap({ Int64($0) }),
      LogSource.isLockstep(program: object["SYSLOG_IDENTIFIER"]?.text ?? "", message: message)
    else { return nil }
    return LogEntry(time: microseconds / 1_000_000, line: message)
  }

  /// One field's value as `journalctl -o json` writes it: text, the bytes of a value that is
  /// not UTF-8, an array of these for a field the entry has more than once (the first one is
  /// taken), or `null` for one too large to show.
  enum Field: Decodable {
    case text(String)
    case none

    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let text = try? container.decode(String.self) {
        self = .text(text)
      } else if let bytes = try? container.decode([UInt8].self) {
        self = .text(String(decoding: bytes, as: UTF8.self))
      } else if let values = try? container.decode([Field].self), let first = values.first {
        self = first
      } else {
        self = .none
      }
    }

    /// The value as text (bytes that are not UTF-8 become U+FFFD), or `nil` for `null`.
    var text: String? {
      if case .text(let text) = self { return text }
      return nil
    }
  }
}
