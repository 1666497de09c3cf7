import Foundation
import LockstepConfiguration
import LockstepCore
import LockstepDelivery
import LockstepMetrics
import LockstepNettle
import LockstepPlatform
import Logging

// lockstepd: the agent that keeps the records of the PAM module and the CLI in a fleet's
// PostgreSQL database (or one host's store), on a root-only Unix socket. See lockstepd(8).

let usage = """
  usage: lockstepd [--config FILE] [--check-config]

    --config FILE    the configuration (default \(AgentConfiguration.defaultPath))
    --check-config   check the configuration and the keys it names, then exit
  """

// A daemon starts with no signal blocked, whatever its parent had blocked (a blocked SIGTERM
// would make `systemctl stop` wait for the kill timeout); SIGPIPE is ignored, since a client
// that hangs up must not end the agent.
var unblocked = sigset_t()
sigemptyset(&unblocked)
pthread_sigmask(SIG_SETMASK, &unblocked, nil)
signal(SIGPIPE, SIG_IGN)

var configPath = AgentConfiguration.defaultPath
var checkOnly = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--config":
    guard let path = arguments.popFirst() else { fail("--config needs a file", status: 64) }
    configPath = path
  case "--check-config": checkOnly = true
  case "--help", "-h":
    print(usage)
    exit(0)
  default: fail("unknown argument '\(argument)'\n\(usage)", status: 64)
  }
}

LoggingSystem.bootstrap { label in
  var handler = StreamLogHandler.standardError(label: label)
  handler.logLevel = .info
  return handler
}
let logger = Logger(label: "lockstepd")
let events = AgentEvents(logger: logger)

let configuration: AgentConfiguration
let backend: any Backend
// Counted from the first event on, the backend's own included.
let metrics = LockstepMetrics()
do {
  configuration = try AgentConfiguration.load(configPath)
  if configuration.metrics != nil { events.observe { metrics.observe($0) } }
  backend = try makeBackend(configuration, logger: logger, events: events)
} catch {
  fail("\(error)", status: 78)
}
if checkOnly {
  print("\(configPath): configuration OK")
  exit(0)
}

// Serves for as long as the agent runs; listening before the agent's socket does, so that
// whoever sees the agent answer can scrape it.
let metricsServer = configuration.metrics.map { address in
  do {
    return try MetricsServer(address: address, metrics: metrics)
  } catch {
    fail("cannot serve metrics on \(address): \(error)", status: 71)
  }
}
let listener: AgentListener
do {
  listener = try AgentListener(path: configuration.socket)
} catch {
  fail("\(error)", status: 71)
}
if let fleet = backend as? FleetBackend { fleet.startPruning() }
if configuration.alerts.isEnabled {
  let alerter = Alerter(
    settings: configuration.alerts, delivery: configuration.delivery, hostName: localHostName(), events: events)
  events.observe { alerter.observe($0) }
}
events.record(
  .notice,
  LogLine(
    "listening on \(configuration.socket), \(describe(configuration))"
      + (configuration.metrics.map { ", metrics on \($0)" } ?? ""), event: "agent", outcome: "started"))
// A send waits for the provider as well: its deadline is longer.
RequestServer(
  listener: listener, backend: backend,
  requestSeconds: configuration.timeoutSeconds + configuration.delivery.limits.sendTimeoutSeconds, events: events
)
.serve()

/// The backend the configuration names, with its keys read and checked.
func makeBackend(_ configuration: AgentConfiguration, logger: Logger, events: AgentEvents) throws -> any Backend {
  let delivery = configuration.delivery
  if let store = configuration.store {
    let hostKeyPath = configuration.hostKey ?? HostKey.defaultPath
    var deliverer: Deliverer?
    if delivery.email != nil || delivery.sms != nil {
      guard try HostKey(path: hostKeyPath, crypto: NettleCrypto()) != nil else {
        throw ConfigurationError(
          path: configPath, line: 0,
          "sending codes needs the host key \(hostKeyPath), under which their hashes are kept ('lockstep seal' makes it)"
        )
      }
      deliverer = try Deliverer(settings: delivery, limits: delivery.limits, hostName: localHostName())
    }
    return LocalBackend(
      path: store, hostKeyPath: hostKeyPath, timeoutSeconds: configuration.timeoutSeconds, deliverer: deliverer,
      limits: delivery.limits, events: events)
  }
  if delivery.email != nil || delivery.sms != nil {
    throw ConfigurationError(
      path: configPath, line: 0,
      "sending codes ('email =', 'sms =') works with 'store =' only: the fleet store holds no contacts yet")
  }
  guard let url = configuration.database, let hostName = configuration.hostName, let keyPath = configuration.fleetKey
  else { throw ConfigurationError(path: configPath, line: 0, "incomplete fleet configuration") }
  let key = try RootOnlyFile.read(keyPath, limit: Sealing.keyLength)
  guard key.count == Sealing.keyLength else {
    throw ConfigurationError(
      path: keyPath, line: 0, "a fleet key is \(Sealing.keyLength) random bytes, this file has \(key.count)")
  }
  var password: String?
  if let file = configuration.passwordFile {
    password = try RootOnlyFile.read(file, limit: 4096).withUnsafeBytes {
      String(decoding: $0, as: UTF8.self).trimmingWhitespace().trimmingCharacters(in: .newlines)
    }
  }
  let pool = try DatabasePool(
    url: url, password: password, size: configuration.poolSize, logger: logger, events: events)
  return FleetBackend(
    pool: pool, hostName: hostName, key: key, timeoutSeconds: configuration.timeoutSeconds, logger: logger,
    events: events)
}

/// This host's name, for the messages that carry codes.
func localHostName() -> String {
  var buffer = [CChar](repeating: 0, count: 256)
  guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
  return String(cString: buffer)
}

func describe(_ configuration: AgentConfiguration) -> String {
  if let store = configuration.store { return "local store \(store)" }
  let hosts = configuration.database?.hosts.map(\.description).joined(separator: ",") ?? "?"
  return "fleet host \(configuration.hostName ?? "?"), database \(hosts)"
}

func fail(_ message: String, status: Int32) -> Never {
  FileHandle.standardError.write(Data("lockstepd: \(message)\n".utf8))
  exit(status)
}
