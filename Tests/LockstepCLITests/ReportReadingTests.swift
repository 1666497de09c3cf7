import Foundation
import Testing

@testable import lockstep

/// How `lockstep report` reads its sources: `journalctl -o json` lines (a `MESSAGE` as text or
/// as an array of bytes), `--since`, and the errors of a source that cannot be read.
@Suite struct ReportReadingTests {
  static let fields =
    "event=login outcome=refused reason=wrong-code failures=1 max=5 service=sshd rhost=192.0.2.7 user=alice"

  @Test func aJournalEntryGivesItsMessageAndTime() throws {
    let json = """
      {"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1796299200123456","SYSLOG_IDENTIFIER":"sshd",\
      "MESSAGE":"pam_lockstep(sshd:auth): refused: wrong verification code; \(Self.fields)"}
      """
    let entry = try #require(Journal.entry(json))
    #expect(entry.time == 1_796_299_200)
    #expect(entry.line == "pam_lockstep(sshd:auth): refused: wrong verification code; " + Self.fields)
  }

  /// journalctl writes a MESSAGE that is not UTF-8 text as the array of its bytes.
  @Test func aMessageGivenAsBytesIsRead() throws {
    let message = Array("pam_lockstep(sshd:auth): caf\u{e9} ".utf8.prefix(28)) + [0xff] + Array("; \(Self.fields)".utf8)
    let bytes = message.map(String.init).joined(separator: ",")
    let json = #"{"__REALTIME_TIMESTAMP":"1000000","SYSLOG_IDENTIFIER":"sshd","MESSAGE":[\#(bytes)]}"#
    let entry = try #require(Journal.entry(json))
    #expect(entry.time == 1)
    #expect(entry.line.hasPrefix("pam_lockstep(sshd:auth): "))
    #expect(entry.line.hasSuffix("; " + Self.fields))
  }

  @Test func theAgentsLinesAreKeptAndOthersAreNot() throws {
    let agent =
      #"{"__REALTIME_TIMESTAMP":"2000000","SYSLOG_IDENTIFIER":"lockstepd","MESSAGE":"x; event=database outcome=lost host=db1"}"#
    #expect(try #require(Journal.entry(agent)).time == 2)
    for other in [
      #"{"__REALTIME_TIMESTAMP":"2000000","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted publickey for alice"}"#,
      #"{"__REALTIME_TIMESTAMP":"2000000","SYSLOG_IDENTIFIER":"other","MESSAGE":"x; event=database outcome=lost"}"#,
      #"{"__REALTIME_TIMESTAMP":"2000000","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"pam_lockstep(sshd:auth): no fields"}"#,
      #"{"SYSLOG_IDENTIFIER":"lockstepd","MESSAGE":"x; event=database outcome=lost"}"#, "not json",
    ] {
      #expect(Journal.entry(other) == nil, "\(other)")
    }
  }

  @Test func journalctlIsAskedForTheAuthenticationFacilityAndTheAgent() {
    #expect(
      Journal.arguments(files: ["/tmp/a.journal"], since: 60) == [
        "--output=json", "--no-pager", "--quiet", "--all", "--output-fields=MESSAGE,SYSLOG_IDENTIFIER", "--since=@60",
        "--file=/tmp/a.journal", "SYSLOG_FACILITY=10", "+", "SYSLOG_IDENTIFIER=lockstepd",
      ])
  }

  @Test func sinceTakesDurationsTimesAndAll() throws {
    #expect(try Report.time("30m", now: 10_000) == 10_000 - 1800)
    #expect(try Report.time("24h", now: 100_000) == 100_000 - 86_400)
    #expect(try Report.time("7d", now: 1_000_000) == 1_000_000 - 604_800)
    #expect(try Report.time("2026-12-03T12:00:00Z", now: 0) == 1_796_299_200)
    #expect(try Report.time("2026-12-03", now: 0) == 1_796_256_000)
    #expect(try Report.time("all", now: 0) == nil)
    for bad in ["", "h", "-1h", "24x", "yesterday", "2026-12-03T12:00:00"] {
      #expect(throws: Failure.self, "\(bad)") { try Report.time(bad, now: 0) }
    }
  }

  @Test func aSourceThatCannotBeReadIsAnError() throws {
    let missing = try CLI.run(["report", "--no-store", "--file", "/nonexistent/auth.log"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("cannot open /nonexistent/auth.log"))
    let badSince = try CLI.run(["report", "--no-store", "--file", "/dev/null", "--since", "yesterday"])
    #expect(badSince.status == 2)
    let journal = try CLI.run(["report", "--no-store", "--journal-file", "/nonexistent/system.journal"])
    #expect(journal.status == 4, "\(journal.stderr)")
    #expect(journal.stderr.contains("cannot read the journal with /usr/bin/journalctl: Failed to open files"))
  }

  /// Not root: the store cannot be read, which the report says in one line, and it is made
  /// from the log alone.
  @Test func aStoreThatCannotBeReadLeavesTheReportToTheLog() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "lockstep-report-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let log = directory.appendingPathComponent("auth.log")
    try
      "2026-12-03T12:00:00+00:00 host sshd[1]: pam_lockstep(sshd:auth): refused: wrong verification code; \(Self.fields)\n"
      .write(to: log, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: log.path)
    let run = try CLI.run(["report", "--file", log.path, "--since", "all", "--json"], asUser: true)
    #expect(run.status == 0, "\(run.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect((report["storeProblem"] as? String)?.contains("must be run as root") == true, "\(report)")
    #expect(report["neverLoggedIn"] is NSNull)
    #expect((report["logins"] as? [String: Any])?["refused"] as? Int == 1)
    let users = try #require(report["users"] as? [[String: Any]])
    #expect(users.map { "\($0["user"] ?? "") \($0["accepted"] ?? "") \($0["refused"] ?? "")" } == ["alice 0 1"])
  }
}
