/// Where lockstepd serves `/metrics` (`metrics =` in lockstepd.conf): a loopback address and
/// port, or a Unix socket. Nothing else is accepted: the agent answers logins and must not be
/// reachable from the network; a Prometheus elsewhere scrapes through a proxy, or reads
/// `lockstep metrics --textfile` through node_exporter.
public enum MetricsAddress: Sendable, Equatable, CustomStringConvertible {
  /// `127.0.0.1:9477` (any of 127.0.0.0/8) or `[::1]:9477`.
  case loopback(host: String, port: Int)
  /// `unix:/run/lockstep/metrics.sock`.
  case unix(path: String)

  /// The value of `metrics =`, or why it cannot be used.
  public init(parsing value: String) throws(MetricsAddressError) {
    if value.hasPrefix("unix:") {
      let path = String(value.dropFirst("unix:".count))
      guard path.hasPrefix("/"), path.utf8.count < 108, !path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f })
      else { throw MetricsAddressError("'unix:' needs an absolute path of fewer than 108 bytes, without spaces") }
      self = .unix(path: path)
      return
    }
    guard let colon = value.lastIndex(of: ":") else { throw Self.expected }
    var host = String(value[..<colon])
    guard let port = Int(value[value.index(after: colon)...]), (1...65535).contains(port) else {
      throw MetricsAddressError("the port must be a number from 1 to 65535")
    }
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard Self.isLoopback(host) else {
      throw MetricsAddressError(
        "'\(host)' is not a loopback address; metrics are served on this host only (127.0.0.1:PORT, [::1]:PORT or unix:/PATH)"
      )
    }
    self = .loopback(host: host, port: port)
  }

  public var description: String {
    switch self {
    case .loopback(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    case .unix(let path): "unix:\(path)"
    }
  }

  private static let expected = MetricsAddressError("expected 127.0.0.1:PORT, [::1]:PORT or unix:/PATH")

  /// `::1`, or a dotted IPv4 address in 127.0.0.0/8; names (even `localhost`) are not looked up.
  private static func isLoopback(_ host: String) -> Bool {
    if host == "::1" { return true }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "127" else { return false }
    return parts.allSatisfy { part in part.allSatisfy { ("0"..."9").contains($0) } && UInt8(part) != nil }
  }
}

/// Why a `metrics =` value cannot be used.
public struct MetricsAddressError: Error {
  /// For the configuration error.
  public let reason: String

  init(_ reason: String) {
    self.reason = reason
  }
}
