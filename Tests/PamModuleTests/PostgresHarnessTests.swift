import Foundation
import Testing

/// The harness of lockstepd's tests works and can fail: its PostgreSQL servers take TLS
/// clients that trust their authority and no others, log the certificate role in with the
/// client certificate, keep a committed row through the loss of the primary, and leave no
/// process behind; its unresponsive server completes the TCP handshake and then says nothing.
@Suite struct PostgresHarnessTests {
  /// Runs `statement` with psql as a client (root, with nothing but PATH in its environment, so
  /// that no PG* variable or service file takes part): everything about the connection is in
  /// `conninfo`, a list of `key=value` or one URL.
  func client(_ conninfo: [String], _ statement: String) throws -> CommandResult {
    try runCommand(
      "/usr/bin/env",
      [
        "-i", "PATH=/usr/bin:/bin", PostgresServer.binaries + "/psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
        "-d", conninfo.joined(separator: " "), "-c", statement,
      ])
  }

  /// A connection to `server`'s primary as `user` over TLS, verifying its certificate for the
  /// name `localhost` against `trusting` (the server's authority unless given).
  func conninfo(_ server: PostgresServer, user: String = "lockstep", trusting authority: String? = nil) -> [String] {
    [
      "host=localhost", "hostaddr=127.0.0.1", "port=\(server.port)", "dbname=lockstep", "user=\(user)",
      "sslmode=verify-full", "sslrootcert=\(authority ?? server.certificateAuthority.caPath)", "connect_timeout=10",
    ]
  }

  @Test func aClientConnectsOverTLSOnlyWhenItTrustsTheServersAuthority() throws {
    let server = try PostgresServer()
    let lockstep = conninfo(server) + ["password=\(server.password)"]
    let connected = try client(lockstep, "SELECT 1")
    #expect(connected.status == 0 && connected.output == "1\n", "\(connected.error)")
    let encrypted = try client(lockstep, "SELECT ssl, current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    #expect(encrypted.output == "t|lockstep\n", "\(encrypted.error)")

    // The server's certificate is refused by a client that trusts another authority...
    let otherAuthority =
      conninfo(server, trusting: server.certificateAuthority.otherCAPath) + [
        "password=\(server.password)"
      ]
    let refused = try client(otherAuthority, "SELECT 1")
    #expect(refused.status != 0 && refused.error.contains("certificate verify failed"), "\(refused.error)")
    // ...and the server refuses a client without TLS or with the wrong password.
    let plain = try client(
      [
        "host=127.0.0.1", "port=\(server.port)", "dbname=lockstep", "user=lockstep", "password=\(server.password)",
        "sslmode=disable",
      ], "SELECT 1")
    #expect(plain.status != 0 && plain.error.contains("no pg_hba.conf entry"), "\(plain.error)")
    let wrongPassword = try client(conninfo(server) + ["password=not\(server.password)"], "SELECT 1")
    #expect(
      wrongPassword.status != 0 && wrongPassword.error.contains("password authentication failed"),
      "\(wrongPassword.error)")
  }

  @Test func theCertificateRoleLogsInWithTheClientCertificate() throws {
    let server = try PostgresServer()
    let authority = server.certificateAuthority
    let certified =
      conninfo(server, user: "lockstep_cert") + [
        "sslcert=\(authority.clientCertPath)", "sslkey=\(authority.clientKeyPath)",
      ]
    let who = try client(certified, "SELECT session_user, current_user")
    #expect(who.status == 0 && who.output == "lockstep_cert|lockstep\n", "\(who.error)")
    // What one role creates, the other can use.
    let created = try client(certified, "CREATE TABLE shared (n int); INSERT INTO shared VALUES (1)")
    #expect(created.status == 0, "\(created.error)")
    let used = try client(conninfo(server) + ["password=\(server.password)"], "INSERT INTO shared VALUES (2)")
    #expect(used.status == 0, "\(used.error)")
    #expect(try server.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'shared'") == "lockstep")

    // Without the certificate (the file named does not exist, so libpq sends none), no login.
    let uncertified = conninfo(server, user: "lockstep_cert") + ["sslcert=\(server.directory)/none.crt"]
    let refused = try client(uncertified, "SELECT 1")
    #expect(
      refused.status != 0 && refused.error.contains("connection requires a valid client certificate"),
      "\(refused.error)")
  }

  @Test func aCommittedRowSurvivesTheLossOfThePrimary() throws {
    let server = try PostgresServer(synchronousStandby: true)
    let standbyPort = try #require(server.standbyPort)
    let url = [server.url(extra: ["connect_timeout=10"])]
    // Through the URL, as `lockstep` (who owns the table), on the primary.
    let created = try client(url, "CREATE TABLE notes (id int PRIMARY KEY, note text); SELECT inet_server_port()")
    #expect(created.status == 0 && created.output == "\(server.port)\n", "\(created.error)")
    // The primary's commits wait for the standby to have the WAL on disk (synchronous_commit =
    // on); this one waits for it to have replayed it too, so that the row is visible there now.
    try server.sql("SET synchronous_commit = remote_apply; INSERT INTO notes VALUES (1, 'before')")
    #expect(try server.sql("SELECT note FROM notes", onStandby: true) == "before")
    #expect(try server.sql("SELECT pg_is_in_recovery()", onStandby: true) == "t")

    let primaryPostmaster = server.postmasterPIDs[0]
    server.killPrimary()
    #expect(!PostgresServer.isRunning(primaryPostmaster))
    #expect(server.processIDs.count > 0, "the standby is still running")
    try server.promoteStandby()
    #expect(try server.sql("SELECT note FROM notes") == "before")
    // The URL finds the new primary (the old one refuses connections).
    let written = try client(url, "INSERT INTO notes VALUES (2, 'after'); SELECT inet_server_port()")
    #expect(written.status == 0 && written.output == "\(standbyPort)\n", "\(written.error)")
    #expect(try server.sql("SELECT string_agg(note, ',' ORDER BY id) FROM notes") == "before,after")
    let dump = try server.dump()
    #expect(dump.contains("CREATE TABLE public.notes") && dump.contains("2\tafter"))
  }

  @Test func releasingTheServersStopsEveryProcessEvenWhenATestFails() throws {
    var processes: [pid_t] = []
    var postmasters: [pid_t] = []
    var directory = ""
    // A test that fails with its servers running: they go with it.
    #expect(throws: TestFailure.self) {
      let server = try PostgresServer(synchronousStandby: true)
      processes = server.processIDs
      postmasters = server.postmasterPIDs
      directory = server.directory
      throw TestFailure("a test that fails")
    }
    #expect(postmasters.count == 2 && postmasters.allSatisfy(processes.contains), "\(postmasters) \(processes)")
    // At least the postmaster, checkpointer, background writer and startup or WAL processes.
    #expect(processes.count >= 8, "\(processes)")
    #expect(processes.filter(PostgresServer.isRunning).isEmpty)
    #expect(PostgresServer.processes(under: directory).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: directory))
  }

  @Test func theServersOfAKilledTestProcessAreStoppedByTheNextOne() throws {
    let server = try PostgresServer()
    let processes = server.processIDs
    #expect(!processes.isEmpty)
    // As if the process that started it had been killed before its deinit: the owner named in
    // the directory is this pid with another start time, a process that no longer exists.
    try "\(getpid()) 0".write(toFile: server.directory + "/owner", atomically: true, encoding: .utf8)
    PostgresServer.removeLeftovers()
    #expect(processes.filter(PostgresServer.isRunning).isEmpty)
    #expect(PostgresServer.processes(under: server.directory).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: server.directory))
  }

  @Test func anUnresponsiveServerCompletesTheHandshakeAndNeverAnswers() throws {
    var port = 0
    do {
      let server = try UnresponsiveServer()
      port = server.port
      let started = monotonicSeconds()
      // libpq waits at least 2 s; a refused or reset connection would fail at once.
      let hung = try client(["host=127.0.0.1", "port=\(port)", "connect_timeout=2", "sslmode=require"], "SELECT 1")
      let took = monotonicSeconds() - started
      #expect(hung.status != 0 && hung.error.contains("timeout expired"), "\(hung.error)")
      #expect(took >= 1.9, "took \(took) s")
    }
    let closed = try client(["host=127.0.0.1", "port=\(port)", "connect_timeout=2"], "SELECT 1")
    #expect(closed.status != 0 && closed.error.contains("Connection refused"), "\(closed.error)")
  }
}
