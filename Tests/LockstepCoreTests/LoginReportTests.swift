import LockstepAdmin
import LockstepCore
import Testing

/// `LoginReport` over log lines written by hand in the format of pam_lockstep(8), LOG FORMAT,
/// against counts worked out by hand from the same lines.
@Suite("LoginReport")
struct LoginReportTests {
  /// The module's lines and a few of the agent's, as `(time, line)`.
  static let lines: [(Int64, String)] = [
    (
      100,
      "accepted verification code (time step 3); event=login outcome=accepted method=totp step=3 \(who("alice", "203.0.113.9"))"
    ),
    (
      110,
      "refused: wrong verification code; event=login outcome=refused reason=wrong-code failures=1 max=5 \(who("alice", "198.51.100.7"))"
    ),
    // A name chosen by whoever connects, escaped by the module: one user, and the real rhost.
    (
      120,
      "refused: wrong verification code; event=login outcome=refused reason=wrong-code failures=1 max=5 service=sshd rhost=198.51.100.7 user=root\\x20rhost\\x3d203.0.113.66"
    ),
    (
      130,
      "refused: wrong verification code; event=login outcome=refused reason=wrong-code failures=1 max=5 \(who("bob", "198.51.100.7"))"
    ),
    (
      140,
      "refused: replayed verification code; event=login outcome=refused reason=replay failures=2 max=5 \(who("bob", "203.0.113.9"))"
    ),
    (150, "accepted backup code (1 left); event=login outcome=accepted method=backup left=1 \(who("carol", "-"))"),
    (
      160,
      "refused: wrong verification code; event=login outcome=refused reason=wrong-code failures=5 max=5 \(who("dave", "192.0.2.1"))"
    ),
    (160, "locked out for 900 seconds; event=lockout failures=5 seconds=900 until=1060 \(who("dave", "192.0.2.1"))"),
    (
      170,
      "refused unchecked: locked out; event=login outcome=refused reason=locked-out until=1060 \(who("dave", "192.0.2.1"))"
    ),
    (180, "the agent sent a code by email; event=send outcome=sent channel=email \(who("erin", "192.0.2.2"))"),
    (181, "no code sent: wait; event=send outcome=refused reason=cooldown \(who("erin", "192.0.2.2"))"),
    (182, "no code sent: too many; event=send outcome=refused reason=source-limit \(who("erin", "192.0.2.2"))"),
    (190, "cannot read the store; failing closed; event=login outcome=error reason=store \(who("frank", "-"))"),
    (200, "the clock is behind (10 < 12); event=clock outcome=behind step=10 last=12 \(who("alice", "-"))"),
    // The agent's view of a login the module logged too: not counted again.
    (100, "2026-12-03T12:00:00+0000 notice lockstepd : accepted; event=verify outcome=accepted method=totp user=alice"),
    (
      210,
      "2026-12-03T12:00:00+0000 error lockstepd : the provider failed; event=delivery outcome=failed channel=sms provider=twilio reason=provider user=erin"
    ),
    (220, "2026-12-03T12:00:00+0000 error lockstepd : lost the database; event=database outcome=lost host=db1"),
  ]

  static func who(_ user: String, _ rhost: String) -> String { "service=sshd rhost=\(rhost) user=\(user)" }

  static var entries: [LoginReport.Entry] {
    lines.compactMap { time, line in LogLine.fields(of: line).map { LoginReport.Entry(time: time, fields: $0) } }
  }

  @Test func countsLoginsByMethodReasonUserAndSource() throws {
    #expect(Self.entries.count == Self.lines.count)
    let report = LoginReport(entries: Self.entries.reversed(), enrolled: nil)
    #expect(report.first == 100 && report.last == 220)
    #expect(report.accepted == 2 && report.refused == 6 && report.errors == 1)
    #expect(report.byMethod == ["totp": 1, "backup": 1])
    #expect(report.byReason == ["wrong-code": 4, "replay": 1, "locked-out": 1])
    #expect(report.byError == ["store": 1])
    let users = report.users.mapValues { [$0.accepted, $0.refused] }
    #expect(
      users == [
        "alice": [1, 1], "root rhost=203.0.113.66": [0, 1], "bob": [0, 2], "carol": [1, 0], "dave": [0, 2],
      ])
    let sources = report.sources.mapValues { [$0.accepted, $0.refused] }
    #expect(sources == ["203.0.113.9": [1, 1], "198.51.100.7": [0, 3], "-": [1, 0], "192.0.2.1": [0, 2]])
  }

  @Test func namesReplaysLockoutsBackupCodesSendsAndClockWarnings() {
    let report = LoginReport(entries: Self.entries, enrolled: nil)
    #expect(report.replays.map { [$0.user, $0.rhost, $0.details["reason"]] } == [["bob", "203.0.113.9", "replay"]])
    #expect(report.lockouts.map { [$0.user, $0.rhost, $0.details["until"]] } == [["dave", "192.0.2.1", "1060"]])
    #expect(report.lockouts.map(\.time) == [160])
    #expect(report.backupCodesUsed.map { [$0.user, $0.details["left"]] } == [["carol", "1"]])
    #expect(report.lowBackupCodesLeft.map { "\($0.user) \($0.left)" } == ["carol 1"])
    #expect(report.sent == ["email": 1])
    #expect(report.sendsRefused == ["cooldown": 1, "source-limit": 1])
    #expect(report.clockWarnings.map { [$0.user, $0.details["step"], $0.details["last"]] } == [["alice", "10", "12"]])
    #expect(
      report.agentProblems.map { [$0.details["event"], $0.details["outcome"]] } == [
        ["delivery", "failed"], ["database", "lost"],
      ])
    #expect(report.agentProblems.last?.details["host"] == "db1")
    #expect(report.neverLoggedIn == nil)
  }

  /// 198.51.100.7 failed for alice, bob and the forged name: three users.
  @Test func aSourceFailingForManyUsersIsSpraying() {
    let three = LoginReport(entries: Self.entries, enrolled: nil, sprayUsers: 3).failingSources
    #expect(
      three.map { "\($0.rhost) \($0.failures) \($0.users) \($0.spraying)" } == [
        "198.51.100.7 3 3 true", "192.0.2.1 2 1 false", "203.0.113.9 1 1 false",
      ])
    let four = LoginReport(entries: Self.entries, enrolled: nil, sprayUsers: 4).failingSources
    #expect(four.allSatisfy { !$0.spraying })
  }

  @Test func theStoreNamesUsersWhoNeverLoggedInAndThoseShortOfBackupCodes() {
    let enrolled = [
      LoginReport.Enrolled(user: "alice", lastSuccess: 100, backupCodesLeft: 10),
      LoginReport.Enrolled(user: "zed", lastSuccess: 0, backupCodesLeft: 5),
      LoginReport.Enrolled(user: "bob", lastSuccess: 0, backupCodesLeft: 2),
      // Never issued backup codes: not running out of them.
      LoginReport.Enrolled(user: "yann", lastSuccess: 90, backupCodesLeft: nil),
    ]
    let report = LoginReport(entries: Self.entries, enrolled: enrolled)
    #expect(report.neverLoggedIn == ["bob", "zed"])
    // The store's count, not the log's: carol is no longer enrolled.
    #expect(report.lowBackupCodesLeft.map { "\($0.user) \($0.left)" } == ["bob 2"])
  }

  /// A record with no backup codes is running out only if the log shows its last one used.
  @Test func aRecordWithNoBackupCodesLeftCountsWhenTheLogShowsTheLastUsed() throws {
    let line =
      "accepted backup code (0 left); event=login outcome=accepted method=backup left=0 \(Self.who("gail", "-"))"
    let entries = [LoginReport.Entry(time: 5, fields: try #require(LogLine.fields(of: line)))]
    let enrolled = [
      LoginReport.Enrolled(user: "gail", lastSuccess: 5, backupCodesLeft: nil),
      LoginReport.Enrolled(user: "hal", lastSuccess: 5, backupCodesLeft: nil),
    ]
    let report = LoginReport(entries: entries, enrolled: enrolled)
    #expect(report.lowBackupCodesLeft.map { "\($0.user) \($0.left)" } == ["gail 0"])
  }

  @Test func anEmptyLogGivesAnEmptyReport() {
    let report = LoginReport(entries: [], enrolled: [])
    #expect(report.first == nil && report.accepted == 0 && report.refused == 0)
    #expect(report.failingSources.isEmpty && report.neverLoggedIn == [])
  }
}
