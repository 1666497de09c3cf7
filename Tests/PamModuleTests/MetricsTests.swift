import Foundation
import LockstepConfiguration
import LockstepCore
import LockstepMetrics
import Testing

/// lockstepd's `/metrics`: logins through the real module and libpam, against an agent serving
/// a local store, counted as Prometheus' own parser reads the page it serves.
@Suite struct MetricsEndpointTests {
  @Test func aScrapeCountsTheLoginsTheAgentDecided() throws {
    let sandbox = try Sandbox()
    let address = "127.0.0.1:\(try PostgresServer.freePort())"
    let agent = try AgentProcess(
      in: sandbox.root, name: "metrics", lines: ["store = \(sandbox.store)", "metrics = \(address)"])
    defer { agent.stop() }
    try sandbox.configure(arguments: ["agent=\(agent.socket)", "max_failures=3"], service: "metrics-sshd")
    let backupCodes = try sandbox.enrollWithBackupCodes("alice", count: 2)
    func login(_ answer: String) throws -> String {
      var request = LoginRequest(user: "alice", answers: [answer], service: "metrics-sshd")
      request.rhost = "198.51.100.23"
      request.timeLimit = 30
      return try sandbox.login(request).result
    }
    let code = try Fleet.currentCode()
    // A wrong code that is none of the codes the window accepts now.
    let wrong = String(code.map { $0 == "9" ? "0" : Character(String(($0.wholeNumberValue ?? 0) + 1)) })
    #expect(try login(code) == "PAM_SUCCESS")
    #expect(try login(code) == "PAM_AUTH_ERR", "a replay")
    #expect(try login(backupCodes[0]) == "PAM_SUCCESS", "a backup code")
    for _ in 0..<3 { #expect(try login(wrong) == "PAM_AUTH_ERR") }
    #expect(try login(code) == "PAM_AUTH_ERR", "locked out after 3 failures")

    let scrape = try PrometheusScrape.fetch(address)
    #expect(scrape.status == 200)
    #expect(scrape.contentType == "text/plain; version=0.0.4; charset=utf-8")
    let service = "metrics-sshd"
    #expect(scrape.value("lockstep_logins_accepted_total", ["method": "totp", "service": service]) == 1)
    #expect(scrape.value("lockstep_logins_accepted_total", ["method": "backup", "service": service]) == 1)
    #expect(scrape.value("lockstep_backup_codes_used_total") == 1)
    #expect(scrape.value("lockstep_logins_refused_total", ["reason": "replay", "service": service]) == 1)
    #expect(scrape.value("lockstep_logins_refused_total", ["reason": "wrong-code", "service": service]) == 3)
    #expect(scrape.value("lockstep_logins_refused_total", ["reason": "locked-out", "service": service]) == 1)
    #expect(scrape.value("lockstep_replays_total", ["service": service]) == 1)
    #expect(scrape.value("lockstep_lockouts_total", ["service": service]) == 1)
    #expect(scrape.samples("lockstep_logins_refused_total").count == 3, "\(scrape.body)")
    let started = try #require(scrape.value("lockstep_agent_start_time_seconds"))
    #expect(abs(started - Date().timeIntervalSince1970) < 600)
    // No label names who logged in, nor from where.
    #expect(!scrape.body.contains("alice") && !scrape.body.contains("198.51.100.23"), "\(scrape.body)")
    #expect(scrape.samples.allSatisfy { $0.labels["user"] == nil && $0.labels["rhost"] == nil })

    #expect(try PrometheusScrape.fetch(address, path: "/").status == 404)
    #expect(try PrometheusScrape.fetch(address, path: "/metrics/x").status == 404)
    #expect(try PrometheusScrape.fetch(address, method: "POST").status == 405)
  }

  @Test func metricsAreServedOnAUnixSocket() throws {
    let sandbox = try Sandbox()
    let path = sandbox.root + "/scrape.sock"
    let agent = try AgentProcess(
      in: sandbox.root, name: "metrics", lines: ["store = \(sandbox.store)", "metrics = unix:\(path)"])
    defer { agent.stop() }
    try sandbox.configure(arguments: ["agent=\(agent.socket)"], service: "metrics-unix")
    try sandbox.enroll("alice")
    var request = LoginRequest(user: "alice", answers: [try Fleet.currentCode()], service: "metrics-unix")
    request.timeLimit = 30
    #expect(try sandbox.login(request).result == "PAM_SUCCESS")

    let scrape = try PrometheusScrape.fetch("unix:" + path)
    #expect(scrape.status == 200)
    #expect(scrape.value("lockstep_logins_accepted_total", ["method": "totp", "service": "metrics-unix"]) == 1)
    #expect(scrape.samples("lockstep_logins_refused_total").isEmpty)
  }

  @Test func aFleetAgentTellsWhenItsDatabaseIsGone() throws {
    let server = try PostgresServer()
    let sandbox = try Sandbox()
    let keyPath = sandbox.root + "/fleet.key"
    try AgentProcess.writeFleetKey(at: keyPath)
    let address = "[::1]:\(try PostgresServer.freePort())"
    let agent = try AgentProcess(
      fleet: server, in: sandbox.root, name: "host-a", fleetKey: keyPath, extraLines: ["metrics = \(address)"])
    defer { agent.stop() }
    try sandbox.configure(arguments: ["agent=\(agent.socket)"], service: "fleet-sshd")
    try agent.store(try sandbox.enroll("alice"), for: "alice")
    var request = LoginRequest(user: "alice", answers: [try Fleet.currentCode()], service: "fleet-sshd")
    request.timeLimit = 30
    #expect(try sandbox.login(request).result == "PAM_SUCCESS")
    #expect(try PrometheusScrape.fetch(address).samples("lockstep_database_up").isEmpty, "no trouble yet")

    server.killPrimary()
    #expect(try sandbox.login(request).result == "PAM_AUTHINFO_UNAVAIL")
    let scrape = try PrometheusScrape.fetch(address)
    #expect(scrape.value("lockstep_database_up") == 0, "\(scrape.body)")
    #expect((scrape.value("lockstep_database_events_total", ["outcome": "unavailable"]) ?? 0) >= 1)
    #expect(scrape.value("lockstep_logins_accepted_total", ["method": "totp", "service": "fleet-sshd"]) == 1)
  }

  @Test func clientsThatNeverFinishTheirRequestAreCutOffAndFewAreLetIn() throws {
    let sandbox = try Sandbox()
    let port = try PostgresServer.freePort()
    let agent = try AgentProcess(
      in: sandbox.root, name: "metrics", lines: ["store = \(sandbox.store)", "metrics = 127.0.0.1:\(port)"])
    defer { agent.stop() }
    // Half a request and a whole scrape beside it; then as many half requests as the server
    // lets in (8), a scrape beyond them, a wait (at most 30 s) for the server to close the
    // half ones, and a scrape after.
    let program = """
      import socket, sys, time
      port = int(sys.argv[1])
      def scrape():
          # Read to the end: the server has closed the connection when this returns.
          connection = socket.create_connection(("127.0.0.1", port), timeout=10)
          reply = b""
          try:
              connection.sendall(b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
              while data := connection.recv(65536):
                  reply += data
          except ConnectionError:
              pass
          return reply.split(b" ")[1].decode() if reply else "closed"
      def half():
          connection = socket.create_connection(("127.0.0.1", port))
          connection.sendall(b"GET /metr")
          return connection
      started = time.monotonic()
      slow = [half()]
      beside = scrape()
      slow += [half() for _ in range(7)]
      beyond = scrape()
      answered = 0
      for connection in slow:
          connection.settimeout(30)
          answered += len(connection.recv(4096))
      seconds = time.monotonic() - started
      print(beside, beyond, answered, round(seconds, 1), scrape())
      """
    let run = try runCommand("/usr/bin/python3", ["-c", program, String(port)])
    let words = run.output.split(whereSeparator: \.isWhitespace).map(String.init)
    #expect(run.status == 0 && words.count == 5, "\(run.output)\(run.error)")
    guard words.count == 5, let seconds = Double(words[3]) else { return }
    #expect(words[0] == "200", "a scrape beside a half request is answered")
    #expect(words[1] == "closed", "a ninth connection is closed at once")
    #expect(words[2] == "0", "the half requests got no answer, only the close")
    #expect(seconds < 10, "they were closed after \(seconds) s")
    #expect(words[4] == "200", "a scrape after them is answered")
  }

  @Test func aMetricsAddressOffThisHostIsRefused() throws {
    let sandbox = try Sandbox()
    let configPath = sandbox.root + "/open.conf"
    let text = "socket = \(sandbox.root)/a.sock\nstore = \(sandbox.store)\nmetrics = 0.0.0.0:9477\n"
    guard
      FileManager.default.createFile(
        atPath: configPath, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    else { throw TestFailure("cannot write \(configPath)") }
    let check = try runCommand(Paths.agent, ["--config", configPath, "--check-config"])
    #expect(check.status == 78)
    #expect(check.error.contains("open.conf:3: 'metrics': '0.0.0.0' is not a loopback address"), "\(check.error)")
  }

  @Test(arguments: [
    ("127.0.0.1:9477", "127.0.0.1:9477"), ("127.0.0.53:80", "127.0.0.53:80"), ("[::1]:9477", "[::1]:9477"),
    ("unix:/run/lockstep/metrics.sock", "unix:/run/lockstep/metrics.sock"),
  ])
  func loopbackAndUnixAddressesAreTaken(value: String, described: String) throws {
    let configuration = try AgentConfiguration.parse(
      "store = /var/lib/lockstep\nmetrics = \(value)\n", path: "test.conf")
    #expect(configuration.metrics?.description == described)
  }

  @Test(arguments: [
    "0.0.0.0:9477", "192.0.2.1:9477", "[::]:9477", "localhost:9477", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
    "127.1:9477", "127.0.0.256:9477", "unix:run/metrics.sock", "http://127.0.0.1:9477",
    "unix:\(AgentProtocol.defaultSocket)",
  ])
  func otherAddressesAreRefused(value: String) {
    #expect(throws: ConfigurationError.self) {
      try AgentConfiguration.parse("store = /var/lib/lockstep\nmetrics = \(value)\n", path: "test.conf")
    }
  }
}

/// The one mapping from log fields to metrics (`LockstepMetrics`), over hand-written events in
/// the log's format, read back by Prometheus' parser.
@Suite struct MetricsMappingTests {
  /// The fields of `line`, as `lockstep metrics` reads a line back from the journal.
  private func fields(_ line: String) throws -> [(key: String, value: String)] {
    try #require(LogLine.fields(of: line))
  }

  @Test func theModulesLinesAndTheAgentsCountAlike() throws {
    let metrics = LockstepMetrics()
    let lines = [
      "accepted verification code (step 5); event=login outcome=accepted method=totp step=5 service=sshd rhost=192.0.2.1 user=alice",
      "accepted; event=verify outcome=accepted method=totp step=6 service=sshd rhost=192.0.2.1 user=bob",
      "refused; event=login outcome=refused reason=wrong-code failures=1 max=5 service=sshd rhost=- user=alice",
      "refused; event=verify outcome=refused reason=replay step=6 failures=2 service=sudo rhost=- user=alice",
      "locked out; event=lockout failures=5 seconds=900 until=1800000000 service=sshd rhost=- user=alice",
      "accepted backup code (3 left); event=verify outcome=accepted method=backup left=3 service=su rhost=- user=carol",
      "failing closed; event=login outcome=error reason=store service=login rhost=- user=dave",
      "clock behind; event=clock outcome=behind step=4 last=6 service=sshd rhost=- user=alice",
    ]
    for line in lines { metrics.observe(try fields(line)) }
    let scrape = try PrometheusScrape.parse(metrics.exposition())
    #expect(scrape.value("lockstep_logins_accepted_total", ["method": "totp", "service": "sshd"]) == 2)
    #expect(scrape.value("lockstep_logins_accepted_total", ["method": "backup", "service": "su"]) == 1)
    #expect(scrape.value("lockstep_backup_codes_used_total") == 1)
    #expect(scrape.value("lockstep_logins_refused_total", ["reason": "wrong-code", "service": "sshd"]) == 1)
    #expect(scrape.value("lockstep_logins_refused_total", ["reason": "replay", "service": "sudo"]) == 1)
    #expect(scrape.value("lockstep_replays_total", ["service": "sudo"]) == 1)
    #expect(scrape.value("lockstep_lockouts_total", ["service": "sshd"]) == 1)
    #expect(scrape.value("lockstep_login_errors_total", ["reason": "store", "service": "login"]) == 1)
    #expect(scrape.value("lockstep_clock_behind_total") == 1)
    #expect(scrape.samples("lockstep_database_up").isEmpty, "no database event, no database gauge")
  }

  @Test func noUserNameOrHostReachesTheMetrics() throws {
    let metrics = LockstepMetrics()
    let user = LogText.field(Array("alice smith".utf8))
    let rhost = LogText.field(Array("evil host.example".utf8))
    metrics.observe(
      try fields(
        "refused; event=login outcome=refused reason=wrong-code failures=1 service=sshd rhost=\(rhost) user=\(user)"))
    metrics.observe(
      try fields("accepted; event=verify outcome=accepted method=sent service=sshd rhost=\(rhost) user=\(user)"))
    let text = metrics.exposition()
    for word in ["alice", "smith", "evil", "example"] { #expect(!text.contains(word), "\(text)") }
    let scrape = try PrometheusScrape.parse(text)
    #expect(scrape.value("lockstep_logins_refused_total", ["reason": "wrong-code", "service": "sshd"]) == 1)
    #expect(scrape.value("lockstep_logins_accepted_total", ["method": "sent", "service": "sshd"]) == 1)
  }

  @Test func labelsTakeOnlyLockstepsOwnWordsAndAFewServices() throws {
    let metrics = LockstepMetrics()
    let service = LogText.field(Array("a \"quoted\"\\ service".utf8))
    metrics.observe(try fields("x; event=verify outcome=refused reason=made-up service=\(service) rhost=- user=u"))
    for index in 0..<(LockstepMetrics.serviceLimit + 5) {
      metrics.observe(try fields("x; event=verify outcome=accepted method=totp service=svc\(index) rhost=- user=u"))
    }
    let scrape = try PrometheusScrape.parse(metrics.exposition())
    #expect(scrape.value("lockstep_logins_refused_total", ["reason": "other", "service": "other"]) == 1)
    let accepted = scrape.samples("lockstep_logins_accepted_total")
    #expect(accepted.count == LockstepMetrics.serviceLimit + 1)
    #expect(scrape.value("lockstep_logins_accepted_total", ["method": "totp", "service": "other"]) == 5)
  }

  @Test func sendsAndTheirLatencyAreCounted() throws {
    let metrics = LockstepMetrics()
    for line in [
      "sent; event=delivery outcome=sent channel=email ms=120 provider=sendmail id=abc service=sshd rhost=- user=u",
      "sent; event=delivery outcome=sent channel=sms ms=2600 provider=twilio id=SM1 service=sshd rhost=- user=u",
      "failed; event=delivery outcome=failed channel=sms ms=30000 reason=provider service=sshd rhost=- user=u",
      "no code sent; event=delivery outcome=refused reason=cooldown service=sshd rhost=- user=u",
      "no code sent; event=delivery outcome=refused channel=sms reason=destination service=sshd rhost=- user=u",
    ] {
      metrics.observe(try fields(line))
    }
    let scrape = try PrometheusScrape.parse(metrics.exposition())
    #expect(scrape.value("lockstep_sends_total", ["channel": "email", "outcome": "sent"]) == 1)
    #expect(scrape.value("lockstep_sends_total", ["channel": "sms", "outcome": "sent"]) == 1)
    #expect(scrape.value("lockstep_sends_total", ["channel": "sms", "outcome": "failed"]) == 1)
    #expect(scrape.value("lockstep_sends_total", ["channel": "none", "outcome": "refused"]) == 1)
    #expect(scrape.value("lockstep_sends_total", ["channel": "sms", "outcome": "refused"]) == 1)
    #expect(scrape.value("lockstep_send_refusals_total", ["reason": "cooldown"]) == 1)
    #expect(scrape.value("lockstep_send_refusals_total", ["reason": "destination"]) == 1)
    #expect(scrape.value("lockstep_send_duration_seconds_count", ["channel": "sms"]) == 2)
    let sum = try #require(scrape.value("lockstep_send_duration_seconds_sum", ["channel": "sms"]))
    #expect(abs(sum - 32.6) < 1e-9)
    func bucket(_ channel: String, _ bound: Double) -> Double? {
      scrape.samples("lockstep_send_duration_seconds_bucket").first {
        $0.labels["channel"] == channel && $0.labels["le"].flatMap(Double.init) == bound
      }?.value
    }
    #expect(bucket("sms", 2.5) == 0)
    #expect(bucket("sms", 5) == 1)
    #expect(bucket("sms", 30) == 2)
    #expect(bucket("email", 0.05) == 0)
    #expect(bucket("email", 0.25) == 1)
  }

  @Test func theDatabaseGaugeFollowsTheDatabasesEvents() throws {
    let metrics = LockstepMetrics()
    func up() throws -> Double? { try PrometheusScrape.parse(metrics.exposition()).value("lockstep_database_up") }
    metrics.observe(try fields("x; event=verify outcome=accepted method=totp step=1 service=sshd rhost=- user=u"))
    #expect(try up() == nil)
    metrics.observe(try fields("database unavailable: timeout; event=database outcome=unavailable"))
    #expect(try up() == 0)
    metrics.observe(
      try fields("x; event=verify outcome=refused reason=wrong-code failures=1 service=sshd rhost=- user=u"))
    #expect(try up() == 1)
    metrics.observe(try fields("lost; event=database outcome=lost"))
    metrics.observe(try fields("started; event=agent outcome=started"), at: 1_800_000_000)
    metrics.observe(try fields("refused uid 1000; event=agent outcome=client-refused uid=1000"))
    let scrape = try PrometheusScrape.parse(metrics.exposition())
    #expect(scrape.value("lockstep_database_events_total", ["outcome": "unavailable"]) == 1)
    #expect(scrape.value("lockstep_database_events_total", ["outcome": "lost"]) == 1)
    #expect(scrape.value("lockstep_agent_start_time_seconds") == 1_800_000_000)
    #expect(scrape.value("lockstep_agent_errors_total", ["outcome": "client-refused"]) == 1)
  }
}
