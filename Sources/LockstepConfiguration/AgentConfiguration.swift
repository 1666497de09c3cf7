import LockstepCore
import LockstepPlatform

/// lockstepd's configuration, from `/etc/lockstep/lockstepd.conf`: `key = value` lines, `#`
/// comments. The file must be root's alone (mode 0600 or 0400), since it names the database's
/// password file and the fleet key. Every key is checked; an unknown key or a bad value stops
/// the agent with the line number, so that a typo never leaves a setting silently at its default.
/// `lockstep` reads the same file to find the agent's socket (or, for `store =`, the directory).
public struct AgentConfiguration: Sendable {
  /// The default place of the file.
  public static let defaultPath = "/etc/lockstep/lockstepd.conf"

  /// `socket =`: where clients connect.
  public var socket = AgentProtocol.defaultSocket
  /// `store =`: a local store directory (one host), or
  public var store: String?
  /// `host-key =`: with `store`, the host key that seals its secrets (default
  /// `HostKey.defaultPath`, used when the file exists).
  public var hostKey: String?
  /// `database =`: the fleet's PostgreSQL, as a `postgresql://` URL.
  public var database: DatabaseURL?
  /// `database-password-file =`: a root-only file holding the password, when the URL has none.
  public var passwordFile: String?
  /// `host-name =`: this host's name in the fleet store (who used a code, who failed).
  public var hostName: String?
  /// `fleet-key =`: the 32-byte key that seals every secret in the database (root, 0400).
  public var fleetKey: String?
  /// `timeout =`: seconds one request may take in all, database included (default 4, below the
  /// module's `agent_timeout` of 5, so that the module hears why rather than timing out).
  public var timeoutSeconds = 4
  /// `pool-size =`: database connections kept open.
  public var poolSize = 4
  /// `metrics =`: where `/metrics` is served (`MetricsAddress`: loopback or a Unix socket); off
  /// when not given.
  public var metrics: MetricsAddress?
  /// Email and SMS delivery of codes, and its limits (`DeliverySettings`; off unless `email =`
  /// or `sms =` is given).
  public var delivery = DeliverySettings()
  /// Alerts to an administrator (`AlertSettings`; off unless `alert-command =` or
  /// `alert-email =` is given).
  public var alerts = AlertSettings()

  /// Reads and checks the file at `path`.
  public static func load(_ path: String) throws(ConfigurationError) -> AgentConfiguration {
    let text: SecretBytes
    do {
      text = try RootOnlyFile.read(path, limit: 64 * 1024)
    } catch {
      throw ConfigurationError(path: path, line: 0, error.description)
    }
    return try text.withUnsafeBytes { bytes throws(ConfigurationError) in
      try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }
  }

  /// Parses the text of a configuration file.
  public static func parse(_ text: String, path: String) throws(ConfigurationError) -> AgentConfiguration {
    var configuration = AgentConfiguration()
    var seen: [String] = []
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = rawLine.trimmingWhitespace()
      if line.isEmpty || line.hasPrefix("#") { continue }
      func fail(_ reason: String) -> ConfigurationError { ConfigurationError(path: path, line: index + 1, reason) }
      guard let equals = line.firstIndex(of: "=") else { throw fail("expected 'key = value'") }
      let key = String(line[..<equals]).trimmingWhitespace()
      let value = String(line[line.index(after: equals)...]).trimmingWhitespace()
      guard !value.isEmpty else { throw fail("'\(key)' has no value") }
      guard !seen.contains(key) else { throw fail("'\(key)' is given twice") }
      seen.append(key)
      switch key {
      case "socket": configuration.socket = try absolutePath(value, key, fail)
      case "store": configuration.store = try absolutePath(value, key, fail)
      case "host-key": configuration.hostKey = try absolutePath(value, key, fail)
      case "database":
        do {
          configuration.database = try DatabaseURL(parsing: value)
        } catch {
          throw fail("'database': \(error.reason)")
        }
      case "database-password-file": configuration.passwordFile = try absolutePath(value, key, fail)
      case "host-name":
        guard value.utf8.count <= 255, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
          throw fail("'host-name' needs printable ASCII without spaces, at most 255 characters")
        }
        configuration.hostName = value
      case "fleet-key": configuration.fleetKey = try absolutePath(value, key, fail)
      case "timeout": configuration.timeoutSeconds = try number(value, key, 1...60, fail)
      case "pool-size": configuration.poolSize = try number(value, key, 1...64, fail)
      case "metrics":
        do {
          configuration.metrics = try MetricsAddress(parsing: value)
        } catch {
          throw fail("'metrics': \(error.reason)")
        }
      default:
        if try !configuration.alerts.set(key, value, fail) { try configuration.delivery.set(key, value, fail) }
      }
    }
    func missing(_ reason: String) -> ConfigurationError { ConfigurationError(path: path, line: 0, reason) }
    switch (configuration.store, configuration.database) {
    case (nil, nil): throw missing("needs 'database =' (a fleet) or 'store =' (one host)")
    case (.some, .some): throw missing("'database' and 'store' exclude each other")
    case (.some, nil):
      if configuration.fleetKey != nil || configuration.hostName != nil || configuration.passwordFile != nil {
        throw missing("'fleet-key', 'host-name' and 'database-password-file' go with 'database', not 'store'")
      }
    case (nil, .some(let url)):
      if configuration.hostKey != nil { throw missing("'host-key' goes with 'store', not 'database'") }
      guard configuration.hostName != nil else { throw missing("a fleet needs 'host-name ='") }
      guard configuration.fleetKey != nil else { throw missing("a fleet needs 'fleet-key ='") }
      if url.password != nil && configuration.passwordFile != nil {
        throw missing("the password is in the 'database' URL and in 'database-password-file'; give one")
      }
    }
    if configuration.metrics == .unix(path: configuration.socket) {
      throw missing("'metrics' names the agent's own socket; give it a path of its own")
    }
    if !configuration.alerts.isEnabled, let key = seen.first(where: { $0.hasPrefix("alert-") }) {
      throw missing("'\(key)' goes with 'alert-command =' or 'alert-email ='")
    }
    try configuration.delivery.validate(missing, mailsAlerts: configuration.alerts.email != nil)
    return configuration
  }

  private static func absolutePath(
    _ value: String, _ key: String, _ fail: (String) -> ConfigurationError
  ) throws(ConfigurationError) -> String {
    guard value.hasPrefix("/"), !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
      throw fail("'\(key)' needs an absolute path")
    }
    return value
  }

  /// `value` as a whole number in `range`, or the error that names `key` and the range: the one
  /// check of every number in the file (the delivery and alert settings use it too).
  static func number(
    _ value: String, _ key: String, _ range: ClosedRange<Int>, _ fail: (String) -> ConfigurationError
  ) throws(ConfigurationError) -> Int {
    guard let n = Int(value), range.contains(n) else {
      throw fail("'\(key)' needs a whole number from \(range.lowerBound) to \(range.upperBound)")
    }
    return n
  }
}

/// A configuration that cannot be used: where, and why.
public struct ConfigurationError: Error, CustomStringConvertible {
  public let path: String
  /// 0 when the problem is the file as a whole.
  public let line: Int
  public let reason: String

  public init(path: String, line: Int, _ reason: String) {
    self.path = path
    self.line = line
    self.reason = reason
  }

  public var description: String { line == 0 ? "\(path): \(reason)" : "\(path):\(line): \(reason)" }
}

extension StringProtocol {
  /// The text without spaces and tabs at either end.
  public func trimmingWhitespace() -> String {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
      return ""
    }
    return String(self[first...last])
  }
}
