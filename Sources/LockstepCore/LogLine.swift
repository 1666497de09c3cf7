/// One line of Lockstep's log, in the documented format that log tools read (pam_lockstep(8),
/// LOG FORMAT): a message for people, then `; `, then `key=value` fields for programs.
///
///     refused: wrong verification code; failure 2 of 5; event=login outcome=refused reason=wrong-code failures=2 max=5 service=sshd rhost=203.0.113.9 user=alice
///
/// The fields are the text after the line's last `; `. Every value is escaped by
/// `LogText.field`, so that no value holds a space, `;` or `=`: nothing a user controls can end
/// a field early, add one, or add a `; `. `event=` comes first; `service=`, `rhost=` and
/// `user=` come last. `fields(of:)` is the one parser, used by `lockstep report` and
/// `lockstep metrics`.
public struct LogLine {
  /// The text for people, before the fields.
  public var message: String
  /// The fields, in the order they are written; values already escaped.
  public private(set) var fields: [(key: String, value: String)]

  /// A line about `event` (`login`, `lockout`, `send`, …) with its `outcome`, if it has one.
  public init(_ message: String, event: String, outcome: String? = nil) {
    self.message = message
    fields = [("event", event)]
    if let outcome { fields.append(("outcome", outcome)) }
  }

  /// Adds a field whose value is Lockstep's own words or numbers (a reason, a count).
  public func with(_ key: String, _ value: String) -> LogLine {
    var line = self
    line.fields.append((key, LogText.field(Array(value.utf8))))
    return line
  }

  /// Adds a number field.
  public func with(_ key: String, _ value: Int64) -> LogLine { with(key, "\(value)") }

  /// Adds a number field.
  public func with(_ key: String, _ value: Int) -> LogLine { with(key, "\(value)") }

  /// Adds the fields that end every line about a login: `service=`, `rhost=` and `user=`,
  /// each already escaped as a field (`-` when unknown).
  public func by(service: String, rhost: String, user: String) -> LogLine {
    var line = self
    line.fields += [("service", service), ("rhost", rhost), ("user", user)]
    return line
  }

  /// The whole line.
  public var text: String {
    var out = message + ";"
    for field in fields { out += " " + field.key + "=" + field.value }
    return out
  }

  /// The fields of a log line, values unescaped (a cut value keeps its `\...` mark), or `nil`
  /// when the line carries no Lockstep fields: no `; ` followed by `event=`.
  public static func fields(of line: String) -> [(key: String, value: String)]? {
    let bytes = Array(line.utf8)
    let marker = Array("; event=".utf8)
    var start: Int?
    var index = bytes.count - marker.count
    while index >= 0 {
      if bytes[index] == marker[0], Array(bytes[index..<index + marker.count]) == marker {
        start = index + 2
        break
      }
      index -= 1
    }
    guard let start else { return nil }
    var result: [(key: String, value: String)] = []
    for word in bytes[start...].split(separator: UInt8(ascii: " ")) {
      guard let equals = word.firstIndex(of: UInt8(ascii: "=")), equals > word.startIndex else { return nil }
      let key = String(decoding: word[word.startIndex..<equals], as: UTF8.self)
      result.append((key, unescaped(word[(equals + 1)...])))
    }
    return result
  }

  /// `LogText`'s `\xNN` escapes turned back into bytes.
  private static func unescaped(_ value: ArraySlice<UInt8>) -> String {
    var out: [UInt8] = []
    var index = value.startIndex
    while index < value.endIndex {
      if value[index] == UInt8(ascii: "\\"), index + 3 < value.endIndex, value[index + 1] == UInt8(ascii: "x"),
        let high = hexValue(value[index + 2]), let low = hexValue(value[index + 3])
      {
        out.append(high << 4 | low)
        index += 4
      } else {
        out.append(value[index])
        index += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    default: nil
    }
  }
}

extension LogLine {
  /// A line about a checked answer: `outcome=accepted` with the `method=` (`totp`, `hotp`,
  /// `backup`, `sent`) and its `step=` or the backup codes `left=`; or `outcome=refused` with
  /// the `reason=` (`wrong-code`, `replay`, `enrollment-replay`, `not-a-code`, `locked-out`)
  /// and the consecutive `failures=` it counts, the replayed `step=`, or the lockout's `until=`.
  /// The module writes these as `event=login`, the agent as `event=verify`.
  public init(_ message: String, event: String, verdict: VerificationOutcome, kind: TokenKind) {
    switch verdict {
    case .accepted(let by):
      self = LogLine(message, event: event, outcome: "accepted")
      switch by {
      case .code(let step): self = with("method", kind.rawValue).with("step", step)
      case .backupCode(let remaining): self = with("method", "backup").with("left", remaining)
      case .sentCode: self = with("method", "sent")
      }
    case .rejected(let reason, let failures, _):
      self = LogLine(message, event: event, outcome: "refused")
      switch reason {
      case .wrongCode: self = with("reason", "wrong-code").with("failures", failures)
      case .replayedCode(let step): self = with("reason", "replay").with("step", step).with("failures", failures)
      case .replayedEnrollmentCode(let step): self = with("reason", "enrollment-replay").with("step", step)
      case .notACode: self = with("reason", "not-a-code")
      }
    case .lockedOut(let until):
      self = LogLine(message, event: event, outcome: "refused").with("reason", "locked-out").with("until", until)
    }
  }

  /// The line that says a refusal just started a lockout (`event=lockout`), with the
  /// `failures=` that caused it and its `until=`.
  public static func lockout(_ message: String, failures: Int, until: Int64) -> LogLine {
    LogLine(message, event: "lockout").with("failures", failures).with("until", until)
  }
}
