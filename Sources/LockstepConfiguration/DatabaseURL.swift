/// The fleet database, from a `postgresql://` URL as libpq writes it, restricted to what the
/// agent supports, with every security setting explicit:
///
///     postgresql://USER[:PASSWORD]@HOST[:PORT][,HOST[:PORT]...]/DATABASE?sslmode=verify-full
///       &sslrootcert=/etc/lockstep/db-ca.pem[&sslcert=...&sslkey=...][&target_session_attrs=read-write]
///       [&connect_timeout=SECONDS]
///
/// `sslmode` must be `verify-full`: the server's certificate must chain to `sslrootcert` and
/// name the host connected to. Several hosts are tried in order; with
/// `target_session_attrs=read-write` (the default) only one that accepts writes is kept, which
/// is how the agent follows a failover to the promoted standby. Nothing is read from the
/// environment, `~/.pgpass` or a service file.
public struct DatabaseURL: Equatable, Sendable {
  /// One server to try.
  public struct Host: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var port: Int
    public var description: String { name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)" }
  }

  public var user: String
  public var password: String?
  public var hosts: [Host]
  public var database: String
  /// The CA certificates (PEM) the server's certificate must chain to.
  public var rootCertificate: String
  /// A client certificate and its key (PEM), for certificate authentication.
  public var clientCertificate: String?
  public var clientKey: String?
  /// Whether only a server that accepts writes is used (`read-write`), or any (`any`).
  public var requireReadWrite = true
  /// Seconds to wait for one server to connect, before the next is tried.
  public var connectTimeoutSeconds = 2

  /// Parses `text`; the error names the part that is wrong (never the password).
  public init(parsing text: String) throws(DatabaseURLError) {
    let scheme = ["postgresql://", "postgres://"].first { text.hasPrefix($0) }
    guard let scheme else { throw DatabaseURLError("must start with postgresql://") }
    var rest = Substring(text.dropFirst(scheme.count))
    var query = ""
    if let mark = rest.firstIndex(of: "?") {
      query = String(rest[rest.index(after: mark)...])
      rest = rest[..<mark]
    }
    guard let slash = rest.firstIndex(of: "/") else { throw DatabaseURLError("names no database (…/DATABASE)") }
    database = try Self.decoded(rest[rest.index(after: slash)...], "the database name")
    let authority = rest[..<slash]
    guard let at = authority.lastIndex(of: "@") else { throw DatabaseURLError("names no user (USER@HOST)") }
    let userInfo = authority[..<at]
    if let colon = userInfo.firstIndex(of: ":") {
      user = try Self.decoded(userInfo[..<colon], "the user name")
      password = try Self.decoded(userInfo[userInfo.index(after: colon)...], "the password")
    } else {
      user = try Self.decoded(userInfo, "the user name")
    }
    guard !user.isEmpty, !database.isEmpty else { throw DatabaseURLError("needs a user name and a database name") }
    hosts = try authority[authority.index(after: at)...].split(separator: ",", omittingEmptySubsequences: false).map {
      spec throws(DatabaseURLError) in try Self.host(spec)
    }
    var root: String?
    var sslmode: String?
    for pair in query.split(separator: "&") {
      guard let equals = pair.firstIndex(of: "=") else { throw DatabaseURLError("parameter '\(pair)' has no value") }
      let name = String(pair[..<equals])
      let value = try Self.decoded(pair[pair.index(after: equals)...], "parameter '\(name)'")
      switch name {
      case "sslmode": sslmode = value
      case "sslrootcert": root = value
      case "sslcert": clientCertificate = value
      case "sslkey": clientKey = value
      case "target_session_attrs":
        guard value == "read-write" || value == "any" else {
          throw DatabaseURLError("target_session_attrs must be read-write or any")
        }
        requireReadWrite = value == "read-write"
      case "connect_timeout":
        guard let seconds = Int(value), (1...60).contains(seconds) else {
          throw DatabaseURLError("connect_timeout must be a whole number of seconds from 1 to 60")
        }
        connectTimeoutSeconds = seconds
      default: throw DatabaseURLError("parameter '\(name)' is not supported")
      }
    }
    guard sslmode == "verify-full" else {
      throw DatabaseURLError("needs sslmode=verify-full: the server's certificate is always checked")
    }
    guard let root, root.hasPrefix("/") else { throw DatabaseURLError("needs sslrootcert=/absolute/path/to/ca.pem") }
    rootCertificate = root
    guard (clientCertificate == nil) == (clientKey == nil) else {
      throw DatabaseURLError("sslcert and sslkey go together")
    }
  }

  private static func host(_ spec: Substring) throws(DatabaseURLError) -> Host {
    var name = spec
    var port = 5432
    if spec.hasPrefix("["), let close = spec.firstIndex(of: "]") {
      name = spec[spec.index(after: spec.startIndex)..<close]
      let after = spec[spec.index(after: close)...]
      if after.hasPrefix(":") {
        port = try Self.port(after.dropFirst())
      } else if !after.isEmpty {
        throw DatabaseURLError("host '\(spec)' is not HOST:PORT")
      }
    } else if let colon = spec.lastIndex(of: ":") {
      name = spec[..<colon]
      port = try Self.port(spec[spec.index(after: colon)...])
    }
    guard !name.isEmpty else { throw DatabaseURLError("a host is empty") }
    return Host(name: String(name), port: port)
  }

  private static func port(_ text: Substring) throws(DatabaseURLError) -> Int {
    guard let port = Int(text), (1...65_535).contains(port) else {
      throw DatabaseURLError("port '\(text)' is not a port")
    }
    return port
  }

  /// Percent-decoding of one part.
  private static func decoded(_ part: Substring, _ what: String) throws(DatabaseURLError) -> String {
    var bytes: [UInt8] = []
    var iterator = Array(part.utf8).makeIterator()
    while let byte = iterator.next() {
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard let high = iterator.next(), let low = iterator.next(),
        let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
      else { throw DatabaseURLError("\(what) has a bad percent escape") }
      bytes.append(value)
    }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw DatabaseURLError("\(what) is not UTF-8") }
    return text
  }
}

/// Why a database URL cannot be used.
public struct DatabaseURLError: Error {
  public let reason: String
  init(_ reason: String) { self.reason = reason }
}
