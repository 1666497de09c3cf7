import Foundation
import LockstepConfiguration
import LockstepCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// The database could not be used for a request; the reason is for the log and the module.
struct DatabaseUnavailable: Error, CustomStringConvertible {
  let description: String
}

/// A few open connections to the fleet's primary, shared by every request.
///
/// A connection is made to the first host of the URL that answers within `connect_timeout`
/// and, with `target_session_attrs=read-write`, accepts writes (`transaction_read_only` is
/// off): after a failover the old primary is gone or read-only, and the promoted standby is
/// found the same way. TLS always verifies the server's certificate against the URL's CA and
/// the host's name or address (`sslmode=verify-full`). Nothing comes from the environment.
actor DatabasePool {
  private let url: DatabaseURL
  private let password: String?
  private let tls: NIOSSLContext
  private let size: Int
  private let logger: Logger
  private let events: AgentEvents
  private var idle: [PostgresConnection] = []
  private var nextID = 0
  /// The host that answered last, tried first next time.
  private var preferred = 0

  init(url: DatabaseURL, password: String?, size: Int, logger: Logger, events: AgentEvents) throws {
    self.events = events
    self.url = url
    self.password = url.password ?? password
    self.size = size
    self.logger = logger
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.minimumTLSVersion = .tlsv12
    configuration.certificateVerification = .fullVerification
    configuration.trustRoots = .file(url.rootCertificate)
    if let certificate = url.clientCertificate, let key = url.clientKey {
      configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
      configuration.privateKey = .file(key)
    }
    tls = try NIOSSLContext(configuration: configuration)
  }

  /// Runs `body` on a connection until `deadline`. When the connection fails (not a statement:
  /// the server went away, a failover), `body` runs once more on a new connection, told that it
  /// is a retry, if time is left: it must then find out whether its first run took effect.
  func run<T>(
    until deadline: ContinuousClock.Instant,
    _ body: @escaping @Sendable (PostgresConnection, _ retry: Bool) async throws -> T
  ) async throws -> T {
    var retry = false
    while true {
      let connection = try await checkOut(until: deadline)
      let isRetry = retry
      do {
        let value = try await withDeadline(deadline, onTimeout: { connection.abandon() }) {
          try await body(connection, isRetry)
        }
        checkIn(connection)
        return value
      } catch let error as PSQLError where error.code != .server && !retry {
        connection.abandon()
        events.record(
          .warning,
          LogLine(
            "database connection lost (\(Self.describe(error))); retrying on a new connection", event: "database",
            outcome: "lost"))
        retry = true
      } catch {
        connection.abandon()
        throw error
      }
    }
  }

  /// Closes every idle connection (at shutdown).
  func closeAll() {
    for connection in idle { connection.abandon() }
    idle = []
  }

  private func checkOut(until deadline: ContinuousClock.Instant) async throws -> PostgresConnection {
    while let connection = idle.popLast() {
      if !connection.isClosed { return connection }
    }
    return try await connect(until: deadline)
  }

  private func checkIn(_ connection: PostgresConnection) {
    if !connection.isClosed && idle.count < size {
      idle.append(connection)
    } else {
      connection.abandon()
    }
  }

  /// A new connection to the first host, starting with the last one that worked, that answers
  /// and (with `read-write`) accepts writes.
  private func connect(until deadline: ContinuousClock.Instant) async throws -> PostgresConnection {
    var problems: [String] = []
    for offset in 0..<url.hosts.count {
      let index = (preferred + offset) % url.hosts.count
      let host = url.hosts[index]
      let hostDeadline = min(deadline, ContinuousClock.now + .seconds(url.connectTimeoutSeconds))
      guard ContinuousClock.now < hostDeadline else { break }
      nextID += 1
      let configuration = configuration(for: host)
      let id = nextID
      let logger = logger
      do {
        let connection = try await withDeadline(hostDeadline) {
          try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        }
        if url.requireReadWrite {
          let readOnly = try await withDeadline(hostDeadline, onTimeout: { connection.abandon() }) {
            try await connection.query("SHOW transaction_read_only", logger: logger).collect().first?.decode(
              String.self)
          }
          guard readOnly == "off" else {
            connection.abandon()
            problems.append("\(host) accepts no writes (a standby)")
            continue
          }
        }
        if index != preferred {
          events.record(
            .notice,
            LogLine("database: now using \(host)", event: "database", outcome: "failover").with("host", "\(host)"))
        }
        preferred = index
        return connection
      } catch {
        problems.append("\(host): \(Self.describe(error))")
      }
    }
    throw DatabaseUnavailable(description: "no database server usable: " + problems.joined(separator: "; "))
  }

  private func configuration(for host: DatabaseURL.Host) -> PostgresConnection.Configuration {
    var configuration = PostgresConnection.Configuration(
      host: host.name, port: host.port, username: url.user, password: password, database: url.database,
      tls: .require(tls))
    configuration.options.connectTimeout = .seconds(Int64(url.connectTimeoutSeconds))
    return configuration
  }

  /// An error in words for the log, without a statement's bound values.
  static func describe(_ error: Error) -> String {
    if let error = error as? PSQLError {
      if let message = error.serverInfo?[.message] {
        return "server: \(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
      }
      if let underlying = error.underlying { return "\(error.code): \(underlying)" }
      return "\(error.code)"
    }
    return "\(error)"
  }
}

extension PostgresConnection {
  /// Closes the connection without waiting for it: one that failed or ran out of time, whose
  /// pending statement then fails at once.
  func abandon() {
    let closing: EventLoopFuture<Void> = close()
    closing.whenComplete { _ in }
  }
}
