import LockstepAdmin
import Testing

/// `SyslogLine` reads both timestamp formats syslog daemons write; the expected Unix times are
/// Python's (`datetime(...).timestamp()`), an implementation of the calendar independent of
/// this one.
@Suite("SyslogLine")
struct SyslogLineTests {
  /// 2026-12-03T12:41:51Z.
  static let now: Int64 = 1_796_301_711
  static func utc(_: Int64) -> Int64 { 0 }
  static let message = "pam_lockstep(sshd:auth): refused; event=login outcome=refused user=alice"

  @Test func aTraditionalTimestampIsInTheCurrentYear() throws {
    let line = try #require(
      SyslogLine("Dec  3 12:00:00 host sshd[123]: " + Self.message, now: Self.now, utcOffset: Self.utc))
    #expect(line.time == 1_796_299_200)
    #expect(line.program == "sshd")
    #expect(line.message == Self.message)
    let early = try #require(SyslogLine("Feb  9 08:05:01 host pam-driver: x", now: Self.now, utcOffset: Self.utc))
    #expect(early.time == 1_770_624_301)
    #expect(early.program == "pam-driver" && early.message == "x")
  }

  @Test func aTraditionalTimestampInTheFutureIsLastYears() throws {
    // 2027-01-01T00:10:00Z reads December's last line.
    let line = try #require(SyslogLine("Dec 31 23:59:59 host sshd[9]: x", now: 1_798_762_200, utcOffset: Self.utc))
    #expect(line.time == 1_798_761_599)
    let lastYear = try #require(SyslogLine("Dec 31 23:59:59 host sshd[9]: x", now: Self.now, utcOffset: Self.utc))
    #expect(lastYear.time == 1_798_761_599 - 365 * 86_400)
  }

  @Test func aTraditionalTimestampIsLocalTime() throws {
    let line = try #require(SyslogLine("Dec  3 12:00:00 host sshd[1]: x", now: Self.now, utcOffset: { _ in 3600 }))
    #expect(line.time == 1_796_295_600)
  }

  @Test func anRFC3339TimestampCarriesItsOffset() throws {
    let utc = try #require(
      SyslogLine("2026-12-03T12:00:00.123456+00:00 host sshd[123]: " + Self.message, now: 0, utcOffset: Self.utc))
    #expect(utc.time == 1_796_299_200 && utc.program == "sshd" && utc.message == Self.message)
    let east = try #require(SyslogLine("2026-12-03T12:00:00+01:00 h lockstepd[5]: x", now: 0, utcOffset: Self.utc))
    #expect(east.time == 1_796_295_600 && east.program == "lockstepd")
    #expect(SyslogLine.unixTime(rfc3339: "2026-12-03T12:00:00-05:30") == 1_796_319_000)
    #expect(SyslogLine.unixTime(rfc3339: "2026-12-03T12:00:00Z") == 1_796_299_200)
  }

  @Test(
    arguments: [
      "", "Dec  3 12:00:00", "Dec  3 12:00:00 host", "Dec  3 12:00:00 host no colon here", "Foo  3 12:00:00 h p: x",
      "Dec 32 12:00:00 h p: x", "2026-13-03T12:00:00Z h p: x", "2026-12-03T12:00:00 h p: x",
      "2026-12-03T12:00:00+0100 h p: x", "<38> pam_lockstep(x:auth): y",
    ])
  func otherLinesAreNotSyslogLines(line: String) {
    #expect(SyslogLine(line, now: Self.now, utcOffset: Self.utc) == nil, "\(line)")
  }
}
