/// How serious an audit finding is; ordered so that the worst of a list is its maximum.
public enum Severity: Int, Comparable, Sendable, CustomStringConvertible {
  /// Worth knowing; nothing is wrong.
  case info
  /// Probably not what was meant, or weaker than it looks.
  case warning
  /// Logins are not protected as intended, or the module will refuse to run.
  case error

  /// Orders by seriousness: `info < warning < error`.
  public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

  /// `info`, `warning` or `error`.
  public var description: String {
    switch self {
    case .info: return "info"
    case .warning: return "warning"
    case .error: return "error"
    }
  }
}

/// One thing a configuration audit found: how serious it is, where, what, and how to fix it.
public struct Finding: Equatable, Sendable, CustomStringConvertible {
  /// How serious it is.
  public var severity: Severity
  /// A short stable name of the rule that found it (such as `pam.sufficient`), for tests and
  /// scripts; the message may be reworded, the rule name is not.
  public var rule: String
  /// The line it concerns, counted from 1; 0 when it concerns the file as a whole.
  public var line: Int
  /// The file the line is in, when it is not the file audited (an included file); else empty.
  public var file: String
  /// One sentence saying what is wrong.
  public var message: String
  /// One sentence saying how to fix it.
  public var fix: String

  /// A finding with the given fields.
  public init(severity: Severity, rule: String, line: Int, message: String, fix: String, file: String = "") {
    self.severity = severity
    self.rule = rule
    self.line = line
    self.file = file
    self.message = message
    self.fix = fix
  }

  /// `severity: line N: message fix`, for a terminal.
  public var description: String {
    let place = line > 0 ? "line \(line): " : ""
    return "\(severity): \(place)\(message) \(fix)"
  }
}
