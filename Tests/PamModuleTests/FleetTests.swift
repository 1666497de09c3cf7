import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// Two hosts sharing one enrollment and one replay watermark through lockstepd and a real
/// PostgreSQL, through the real module and libpam on each host.
@Suite struct FleetTests {
  @Test func codeAcceptedOnOneHostIsRefusedOnTheOther() throws {
    let fleet = try Fleet()
    try fleet.enroll()
    let code = try Fleet.currentCode()
    #expect(try fleet.login(on: fleet.a, answer: code).result == "PAM_SUCCESS")
    #expect(try fleet.login(on: fleet.b, answer: code).result == "PAM_AUTH_ERR")
    #expect(try fleet.login(on: fleet.a, answer: code).result == "PAM_AUTH_ERR")
    let log = fleet.sandbox.logLines()
    #expect(log.filter { $0.contains("accepted verification code") }.count == 1)
    #expect(log.filter { $0.contains("refused: replayed verification code") }.count == 2, "\(log)")
    let record = try #require(try fleet.b.record("alice"))
    #expect(record.failures == 2)
    #expect(try fleet.server.sql("SELECT updated_by FROM lockstep_users WHERE name = 'alice'") == "host-a")
  }

  @Test func thirtyTwoLoginsRacingAcrossBothHostsSucceedOnce() throws {
    let fleet = try Fleet(moduleArguments: ["max_failures=1000"])
    try fleet.enroll()
    let code = try Fleet.currentCode()
    let requests = (0..<32).map { fleet.request(on: $0 % 2 == 0 ? fleet.a : fleet.b, answer: code) }
    let results = try fleet.sandbox.raceLogins(requests).map(\.result)
    #expect(results.filter { $0 == "PAM_SUCCESS" }.count == 1, "\(results)")
    #expect(results.filter { $0 == "PAM_AUTH_ERR" }.count == 31, "\(results)")
    #expect(try fleet.a.record("alice")?.failures == 31, "every replay is counted, none lost")
  }

  @Test func failuresOnBothHostsAddUpToOneLockout() throws {
    let fleet = try Fleet(moduleArguments: ["max_failures=4"])
    try fleet.enroll()
    let code = try Fleet.currentCode()
    let wrong = String(format: "%06d", (Int(code)! + 1) % 1_000_000)
    for agent in [fleet.a, fleet.b, fleet.a] {
      #expect(try fleet.login(on: agent, answer: wrong).result == "PAM_AUTH_ERR")
    }
    #expect(try fleet.a.record("alice")?.lockedUntil == 0)
    #expect(try fleet.login(on: fleet.b, answer: wrong).result == "PAM_AUTH_ERR")
    #expect(try fleet.a.record("alice")?.lockedUntil ?? 0 > 0, "the fourth failure, on B, starts the lockout")
    // The right code is now refused unchecked on both hosts.
    for agent in [fleet.a, fleet.b] {
      #expect(try fleet.login(on: agent, answer: code).result == "PAM_AUTH_ERR")
    }
    let log = fleet.sandbox.logLines()
    #expect(log.contains { $0.contains("failure 4 of 4") })
    #expect(log.filter { $0.contains("refused unchecked: locked out until") }.count == 2, "\(log)")
  }

  @Test func backupCodeUsedOnOneHostIsRefusedOnTheOther() throws {
    let fleet = try Fleet()
    let crypto = LibCrypto()
    let codes = try #require(BackupCodeHashes.generateCodes(count: 3, crypto: crypto))
    let hashes = try #require(BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto))
    try fleet.enroll { $0.backupCodes = hashes }
    let backup = String(decoding: codes[1], as: UTF8.self)
    #expect(try fleet.login(on: fleet.a, answer: backup).result == "PAM_SUCCESS")
    #expect(try fleet.login(on: fleet.b, answer: backup).result == "PAM_AUTH_ERR")
    #expect(try fleet.b.record("alice")?.backupCodes.hashes.count == 2)
    #expect(fleet.sandbox.logLines().contains { $0.contains("accepted backup code (2 left)") })
    let other = String(decoding: codes[2], as: UTF8.self)
    #expect(try fleet.login(on: fleet.b, answer: other).result == "PAM_SUCCESS")
  }

  @Test func aRequestSentTwiceGetsTheSameOutcome() throws {
    // A retried request (its reply lost) must not turn a success into a replay: the agent
    // answers a nonce it has seen with the outcome it recorded.
    let fleet = try Fleet()
    try fleet.enroll()
    let code = try Fleet.currentCode()
    let nonce = try #require(SystemRandom.bytes(count: AgentProtocol.nonceLength))
    let request = AgentRequest.verify(
      VerifyRequest(
        nonce: nonce, user: UserName("alice")!, service: "test", remoteHost: "-", code: SecretBytes(Array(code.utf8)),
        backupCode: nil, policy: VerificationPolicy()))
    let first = try fleet.a.exchange(request)
    let second = try fleet.b.exchange(request)
    guard case .verdict(.accepted(.code(let step)), .totp) = first else {
      Issue.record("first: \(first)")
      return
    }
    guard case .verdict(.accepted(.code(step)), .totp) = second else {
      Issue.record("second: \(second)")
      return
    }
    #expect(try fleet.a.record("alice")?.failures == 0)
  }

  @Test func theDatabaseHoldsNoUsableSecret() throws {
    let fleet = try Fleet()
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    try fleet.enroll(secret: secret)
    let code = try Fleet.currentCode(secret)
    #expect(try fleet.login(on: fleet.a, answer: code).result == "PAM_SUCCESS")
    let dump = try fleet.server.dump()
    #expect(dump.contains("lockstep_users"), "the dump holds the table")
    let raw = try #require(Base32.decode(secret)).withUnsafeBytes { Array($0) }
    let hex = Hex.encode(raw)
    for text in [secret, secret.lowercased(), hex, hex.uppercased()] {
      #expect(!dump.contains(text), "the dump holds the secret as \(text)")
    }
    #expect(Data(dump.utf8).range(of: Data(raw)) == nil, "the dump holds the raw secret")
  }

  @Test func aSealedSecretCopiedOntoAnotherUserDoesNotOpen() throws {
    let fleet = try Fleet()
    try fleet.enroll("alice")
    try fleet.enroll("bob", secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    _ = try fleet.server.sql(
      "UPDATE lockstep_users SET sealed = (SELECT sealed FROM lockstep_users WHERE name = 'alice') WHERE name = 'bob'")
    let login = try fleet.login("bob", on: fleet.a, answer: try Fleet.currentCode())
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(fleet.sandbox.logLines().contains { $0.contains("does not open with this host's fleet key") })
  }

  @Test func anAgentWithAnotherFleetKeyOpensNothing() throws {
    let fleet = try Fleet()
    try fleet.enroll()
    let otherKey = fleet.sandbox.root + "/other.key"
    try AgentProcess.writeFleetKey(at: otherKey)
    let stranger = try AgentProcess(fleet: fleet.server, in: fleet.sandbox.root, name: "host-c", fleetKey: otherKey)
    try fleet.sandbox.configure(arguments: ["agent=\(stranger.socket)"], service: "host-c")
    var request = LoginRequest(answers: [try Fleet.currentCode()], service: "host-c")
    request.timeLimit = 30
    #expect(try fleet.sandbox.login(request).result == "PAM_AUTHINFO_UNAVAIL")
  }

  @Test func aHungDatabaseFailsTheLoginWithinTheDeadline() throws {
    let hung = try UnresponsiveServer()
    let sandbox = try Sandbox()
    let key = sandbox.root + "/fleet.key"
    try AgentProcess.writeFleetKey(at: key)
    let ca = try TestCertificateAuthority(directory: sandbox.root + "/ca")
    let url = "postgresql://lockstep:x@127.0.0.1:\(hung.port)/lockstep?sslmode=verify-full&sslrootcert=\(ca.caPath)"
    let agent = try AgentProcess(
      in: sandbox.root, name: "host-a", lines: ["database = \(url)", "host-name = host-a", "fleet-key = \(key)"])
    try sandbox.configure(arguments: ["agent=\(agent.socket)"])
    let started = MonotonicClock.now()
    let login = try sandbox.login(answers: ["123456"])
    let seconds = Double(MonotonicClock.now() - started) / 1e9
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(seconds < 5.5, "the login took \(seconds) s")
    #expect(login.prompts.isEmpty, "no prompt without knowing the user is enrolled")
    #expect(sandbox.logLines().contains { $0.contains("the agent cannot decide") && $0.contains("failing closed") })
  }

  @Test func aStoppedAgentFailsTheLoginClosed() throws {
    let fleet = try Fleet()
    try fleet.enroll()
    fleet.a.stop()
    let login = try fleet.login(on: fleet.a, answer: try Fleet.currentCode())
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(fleet.sandbox.logLines().contains { $0.contains("cannot be reached") && $0.contains("failing closed") })
    #expect(try fleet.login(on: fleet.b, answer: try Fleet.currentCode()).result == "PAM_SUCCESS")
  }

  @Test func theCallersDatabaseEnvironmentChangesNothing() throws {
    // Under sudo the environment and the home directory are the caller's. The module reads
    // neither, and the agent's own environment is systemd's, not the caller's.
    let fleet = try Fleet()
    try fleet.enroll()
    let home = fleet.sandbox.root + "/home"
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
    try "127.0.0.1:1:*:*:stolen\n*:*:*:*:stolen\n".write(toFile: home + "/.pgpass", atomically: true, encoding: .utf8)
    try "[lockstep]\nhost=127.0.0.1\nport=1\n".write(
      toFile: home + "/pg_service.conf", atomically: true, encoding: .utf8)
    let hostile = [
      "HOME": home, "PGHOST": "127.0.0.1", "PGPORT": "1", "PGUSER": "attacker", "PGPASSWORD": "stolen",
      "PGPASSFILE": home + "/.pgpass", "PGSERVICEFILE": home + "/pg_service.conf", "PGSERVICE": "lockstep",
      "PGSSLMODE": "disable", "PGSSLROOTCERT": "/dev/null", "PGOPTIONS": "-c default_transaction_read_only=on",
    ]
    let code = try Fleet.currentCode()
    let request = fleet.request(on: fleet.a, answer: code)
    let run = try runCommand(Paths.driver, fleet.sandbox.driverArguments(request), environment: hostile)
    #expect(Login(parsing: run).result == "PAM_SUCCESS", "\(run.output)")
    #expect(try fleet.login(on: fleet.b, answer: code).result == "PAM_AUTH_ERR")
  }

  @Test func anAcceptedCodeSurvivesAFailoverToTheSynchronousStandby() throws {
    let fleet = try Fleet(synchronousStandby: true)
    let secret = Sandbox.secret
    let hotp = TokenParameters(kind: .hotp, algorithm: .sha1, digits: 6, period: 30)
    try fleet.enroll(parameters: hotp)
    let first = try oathtool(secret: secret, counter: 0)
    #expect(try fleet.login(on: fleet.a, answer: first).result == "PAM_SUCCESS")
    fleet.server.killPrimary()
    try fleet.server.promoteStandby()
    // Both agents find the promoted standby through the URL's second host.
    #expect(try fleet.login(on: fleet.b, answer: first).result == "PAM_AUTH_ERR")
    #expect(try fleet.login(on: fleet.a, answer: first).result == "PAM_AUTH_ERR")
    let second = try oathtool(secret: secret, counter: 1)
    #expect(try fleet.login(on: fleet.a, answer: second).result == "PAM_SUCCESS")
    #expect(try fleet.b.record("alice")?.counter == 2)
    #expect(fleet.a.log.contains("now using"), "\(fleet.a.log)")
  }

  @Test func theAgentReportsTheStateOfItsDatabase() throws {
    let fleet = try Fleet(synchronousStandby: true)
    guard case .status(let lines) = try fleet.a.exchange(.status) else {
      Issue.record("no status")
      return
    }
    let byName = Dictionary(uniqueKeysWithValues: lines.map { ($0.name, $0) })
    #expect(byName["database"]?.healthy == true)
    #expect(byName["tls"]?.healthy == true)
    #expect(byName["tls"]?.detail.contains("verified") == true)
    #expect(byName["replication"]?.healthy == true, "\(lines)")
    #expect(byName["clock-skew"]?.healthy == true)
  }
}

/// lockstepd serving one host's store directory (`store =`): logins through the agent are
/// checked as the module checks the directory itself, and the CLI, given the agent's
/// configuration, works on that directory.
@Suite struct LocalStoreAgentTests {
  @Test func loginsThroughTheAgentAreCheckedAsTheModuleChecksTheStore() throws {
    let sandbox = try Sandbox()
    let agent = try AgentProcess(in: sandbox.root, name: "local", lines: ["store = \(sandbox.store)"])
    defer { agent.stop() }
    try sandbox.configure(arguments: ["agent=\(agent.socket)"], service: "local-agent")
    let backupCodes = try sandbox.enrollWithBackupCodes("alice", count: 2)
    func login(_ answer: String) throws -> String {
      var request = LoginRequest(user: "alice", answers: [answer], service: "local-agent")
      request.timeLimit = 30
      return try sandbox.login(request).result
    }
    let code = try Fleet.currentCode()
    #expect(try login(code) == "PAM_SUCCESS")
    #expect(try login(code) == "PAM_AUTH_ERR", "a replay")
    let backup = backupCodes[0]
    #expect(try login(backup) == "PAM_SUCCESS")
    #expect(try login(backup) == "PAM_AUTH_ERR", "a backup code works once")
    let record = try #require(try Store(path: sandbox.store).read(UserName("alice")!))
    // The replay was counted, the backup code cleared it, and its second use counted again.
    #expect(record.backupCodes.hashes.count == 1 && record.failures == 1)

    // The CLI, given the agent's configuration, works on the same directory.
    let status = try runCommand(MigrateTests.cli, ["status", "alice", "--json", "--config", agent.configPath])
    #expect(status.status == 0, "\(status.error)")
    #expect(status.output.contains("\"backupCodesRemaining\" : 1"), "\(status.output)")
  }
}

/// The agent's socket, seen from both ends: a client that is not talking to root is refused,
/// and a client that goes away before its reply does not take the agent down with it.
@Suite struct AgentSocketPeerTests {
  @Test func aSocketServedByAnotherUserIsNotTakenForTheAgent() throws {
    let sandbox = try Sandbox()
    // A directory that nobody may create a socket in, as an attacker's own would be.
    let directory = sandbox.root + "/open"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    chmod(sandbox.root, 0o755)
    chmod(directory, 0o1777)
    let path = directory + "/agent.sock"
    let impostor = try Child(
      "/usr/bin/python3",
      [
        "-c",
        "import os, socket, sys\nos.setgid(65534); os.setuid(65534)\ns = socket.socket(socket.AF_UNIX)\n"
          + "s.bind(sys.argv[1]); s.listen()\nc, _ = s.accept(); c.recv(100); c.sendall(bytes([0, 0, 0, 2, 1, 130]))\n",
        path,
      ], output: sandbox.root + "/impostor.out")
    defer { impostor.kill() }
    let deadline = MonotonicClock.now() + 10_000_000_000
    while access(path, F_OK) != 0 && MonotonicClock.now() < deadline && !impostor.hasExited {
      MonotonicClock.sleep(nanoseconds: 10_000_000)
    }
    do {
      let reply = try AgentConnection.connect(to: path, deadline: MonotonicClock.now() + 5_000_000_000)
        .exchange(.lookup(UserName("alice")!), deadline: MonotonicClock.now() + 5_000_000_000)
      Issue.record("an answer from uid 65534 was taken: \(reply)")
    } catch {
      guard case .peerNotRoot(uid: 65534) = error else {
        Issue.record("another error: \(error)")
        return
      }
    }
    // The module, pointed at it, fails closed without asking for a code.
    try sandbox.configure(arguments: ["agent=\(path)"], service: "impostor")
    var request = LoginRequest(user: "alice", answers: ["123456"], service: "impostor")
    request.timeLimit = 30
    let login = try sandbox.login(request)
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(login.prompts.isEmpty, "\(login.prompts)")
  }

  @Test func aClientThatHangsUpBeforeItsReplyLeavesTheAgentServing() throws {
    let fleet = try Fleet()
    try fleet.enroll()
    for _ in 0..<20 {
      // A whole lookup request, then the connection closed before the reply comes.
      let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
      var address = sockaddr_un()
      address.sun_family = sa_family_t(AF_UNIX)
      withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in fleet.a.socket.utf8.enumerated() { raw[index] = byte }
      }
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
      }
      #expect(connected == 0)
      let message = AgentRequest.lookup(UserName("alice")!).encoded()
      let framed = withUnsafeBytes(of: UInt32(message.count).bigEndian) { Array($0) } + message
      #expect(write(descriptor, framed, framed.count) == framed.count)
      close(descriptor)
    }
    // Still there, and still answering.
    guard case .enrollment(let parameters?, nil) = try fleet.a.exchange(.lookup(UserName("alice")!)) else {
      throw TestFailure("the agent did not answer after its clients hung up: \(fleet.a.log)")
    }
    #expect(parameters == .standard)
  }
}
