import Foundation
import LockstepCore
import Testing

/// `lockstep report` over the log of a real run: the built module through the real libpam,
/// logging through a real syslog daemon on a socket of the test's own: rsyslog into a file in
/// each of its formats, or journald into a journal file of its own namespace; with a login let
/// in, a replay, a lockout and a source failing for three users. The built CLI then reads that
/// file and the sandbox's store.
@Suite struct ReportTests {
  static let now = LoginTests.now
  /// Where the attacker is: it fails for bob until the lockout, then for two more names.
  static let sprayer = "203.0.113.50"

  /// The daemon `kind` names, started for `sandbox`.
  static func daemon(_ kind: String, for sandbox: Sandbox) throws -> any LogDaemon {
    kind == "journald" ? try Journald(in: sandbox) : try Rsyslog(in: sandbox, template: kind)
  }

  @Test(arguments: [Rsyslog.traditional, Rsyslog.rfc3339, "journald"])
  func theReportNamesTheLoginsTheReplayTheLockoutAndTheSprayer(daemonKind: String) throws {
    let sandbox = try Sandbox(arguments: ["max_failures=3"])
    for user in ["alice", "bob", "carol"] { try sandbox.enroll(user) }
    let daemon = try Self.daemon(daemonKind, for: sandbox)
    func login(_ user: String, _ answer: String, from rhost: String) throws -> String {
      let request = LoginRequest(
        user: user, answers: [answer], extraArguments: ["--syslog-socket", daemon.socket], rhost: rhost, time: Self.now)
      return try sandbox.login(request).result
    }
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try login("alice", code, from: "192.0.2.7") == "PAM_SUCCESS")
    #expect(try login("alice", code, from: "198.51.100.20") == "PAM_AUTH_ERR")
    for _ in 0..<3 { #expect(try login("bob", "000000", from: Self.sprayer) == "PAM_AUTH_ERR") }
    #expect(try login("bob", code, from: Self.sprayer) == "PAM_AUTH_ERR")
    #expect(try login("root rhost=198.51.100.1", "123456", from: Self.sprayer) == "PAM_AUTH_ERR")
    #expect(try login("mallory", "123456", from: Self.sprayer) == "PAM_AUTH_ERR")
    #expect(daemon.stop() == 0)

    let run = try sandbox.lockstep(["report", "--since", "1h", "--json"] + daemon.reportArguments)
    #expect(run.status == 0, "\(run.error)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
    let logins = try #require(report["logins"] as? [String: Any])
    #expect(logins["accepted"] as? Int == 1)
    #expect(logins["refused"] as? Int == 7)
    #expect(logins["byMethod"] as? [String: Int] == ["totp": 1])
    #expect(
      logins["byReason"] as? [String: Int] == ["replay": 1, "wrong-code": 3, "locked-out": 1, "not-enrolled": 2])

    let replays = try #require(report["replays"] as? [[String: Any]])
    #expect(replays.map { [$0["user"] as? String, $0["rhost"] as? String] } == [["alice", "198.51.100.20"]])
    let lockouts = try #require(report["lockouts"] as? [[String: Any]])
    #expect(lockouts.map { [$0["user"] as? String, $0["rhost"] as? String] } == [["bob", Self.sprayer]])
    #expect(lockouts.first?["until"] as? Int64 == Self.now + 900)
    #expect(lockouts.first?["failures"] as? Int == 3)

    let users = try #require(report["users"] as? [[String: Any]]).compactMap { $0["user"] as? String }
    #expect(users == ["alice", "bob", "mallory", "root rhost=198.51.100.1"])
    let failing = try #require(report["failingSources"] as? [[String: Any]])
    #expect(failing.first?["rhost"] as? String == Self.sprayer)
    #expect(failing.first?["failures"] as? Int == 6)
    #expect(failing.first?["users"] as? Int == 3)
    #expect(failing.first?["spraying"] as? Bool == true)
    #expect(failing.dropFirst().allSatisfy { $0["spraying"] as? Bool == false })
    // bob never got in: his only right code came during the lockout.
    #expect(report["neverLoggedIn"] as? [String] == ["bob", "carol"])
    #expect(report["storeProblem"] is NSNull)

    // The same log, counted for node_exporter's textfile collector, read by Prometheus' parser.
    let directory = sandbox.root + "/textfile"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    let metrics = try runCommand(Paths.cli, ["metrics", "--textfile", directory] + daemon.reportArguments)
    #expect(metrics.status == 0, "\(metrics.error)")
    let page = try PrometheusScrape.parse(try String(contentsOfFile: directory + "/lockstep.prom", encoding: .utf8))
    let service = ["service": "lockstep-test"]
    #expect(page.value("lockstep_logins_accepted_total", service.merging(["method": "totp"]) { $1 }) == 1)
    for (reason, count) in ["replay": 1.0, "wrong-code": 3, "locked-out": 1, "not-enrolled": 2] {
      #expect(
        page.value("lockstep_logins_refused_total", service.merging(["reason": reason]) { $1 }) == count, "\(reason)")
    }
    #expect(page.value("lockstep_lockouts_total", service) == 1)
    #expect(page.value("lockstep_replays_total", service) == 1)
    #expect(!page.body.contains("alice") && !page.body.contains(Self.sprayer))
    let mode = try FileManager.default.attributesOfItem(atPath: directory + "/lockstep.prom")[.posixPermissions]
    #expect(mode as? Int == 0o644)
    // Without --textfile, the same samples on standard output (the families in any order).
    let printed = try runCommand(Paths.cli, ["metrics"] + daemon.reportArguments)
    #expect(printed.status == 0, "\(printed.error)")
    func samples(_ page: PrometheusScrape) -> Set<String> {
      Set(page.samples.map { "\($0.name) \($0.labels.sorted { $0.key < $1.key }) \($0.value)" })
    }
    let printedPage = try PrometheusScrape.parse(printed.output)
    #expect(!printedPage.samples.isEmpty)
    #expect(samples(printedPage) == samples(page))
  }

  /// The text report names the same things, a forged name escaped as one cell.
  @Test func theTextReportNamesTheLockoutAndTheSprayer() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=2"])
    try sandbox.enroll("bob")
    let daemon = try Rsyslog(in: sandbox, template: Rsyslog.traditional)
    for user in ["bob", "bob", "root rhost=198.51.100.1", "mallory"] {
      let request = LoginRequest(
        user: user, answers: ["000000"], extraArguments: ["--syslog-socket", daemon.socket], rhost: Self.sprayer,
        time: Self.now)
      #expect(try sandbox.login(request).result == "PAM_AUTH_ERR")
    }
    daemon.stop()
    // The daemon's own file format, not the driver's.
    let first = try #require(sandbox.logLines().first)
    #expect(first.contains(" pam-driver[") && first.contains(": pam_lockstep(lockstep-test:auth): "), "\(first)")
    let run = try sandbox.lockstep(["report", "--file", daemon.file, "--no-store"])
    #expect(run.status == 0, "\(run.error)")
    let lines = run.output.split(separator: "\n").map(String.init)
    let lockouts = try #require(lines.firstIndex(of: "Lockouts"))
    let lockout = lines[lockouts + 2].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    #expect(lockout.contains("bob") && lockout.contains(Self.sprayer), "\(run.output)")
    let sources = try #require(lines.firstIndex { $0.hasPrefix("Failing sources") })
    let sprayer = lines[sources + 2].split(separator: " ").map(String.init)
    #expect(sprayer == [Self.sprayer, "4", "3", "yes"], "\(run.output)")
    #expect(run.output.contains("root\\x20rhost\\x3d198.51.100.1"))
    #expect(run.output.contains("Store: not read (--no-store)"))
  }
}
