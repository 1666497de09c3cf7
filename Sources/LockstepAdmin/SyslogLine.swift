import LockstepCore

/// One line of a syslog text file such as `/var/log/auth.log`: when it was written, the
/// program that wrote it, and its message. Both timestamp formats that syslog daemons write
/// are read:
///
///     Dec  3 12:00:00 host sshd[123]: pam_lockstep(sshd:auth): ...
///     2026-12-03T12:00:00.123456+00:00 host sshd[123]: pam_lockstep(sshd:auth): ...
///
/// The traditional format has no year and is in local time: the year is the current one, or
/// the one before for a date that would be more than a day in the future (a log read in
/// January holding December's lines).
public struct SyslogLine {
  /// The Unix time of the timestamp.
  public var time: Int64
  /// The program name of the tag, without its `[pid]` (`sshd`, `lockstepd`).
  public var program: String
  /// The text after the tag's `: `.
  public var message: String

  /// Parses `line`; `nil` when it has neither timestamp format or no `host tag: ` after it.
  /// `now` and `utcOffset` (the local time zone's offset east of UTC, in seconds, at a given
  /// Unix time) place a traditional timestamp.
  public init?(_ line: String, now: Int64, utcOffset: (Int64) -> Int64) {
    let bytes = Array(line.utf8)
    let rest: ArraySlice<UInt8>
    if let traditional = Self.traditionalTime(bytes, now: now, utcOffset: utcOffset) {
      time = traditional
      rest = bytes[15...]
    } else if let space = bytes.firstIndex(of: UInt8(ascii: " ")),
      let rfc3339 = Self.unixTime(rfc3339: String(decoding: bytes[..<space], as: UTF8.self))
    {
      time = rfc3339
      rest = bytes[space...]
    } else {
      return nil
    }
    // " host tag: message"
    let words = rest.drop { $0 == UInt8(ascii: " ") }
    guard let hostEnd = words.firstIndex(of: UInt8(ascii: " ")) else { return nil }
    let tagAndMessage = words[(hostEnd + 1)...]
    guard let colon = tagAndMessage.firstIndex(of: UInt8(ascii: ":")),
      colon + 1 < tagAndMessage.endIndex, tagAndMessage[colon + 1] == UInt8(ascii: " ")
    else { return nil }
    let tag = tagAndMessage[..<colon]
    program = String(decoding: tag.prefix { $0 != UInt8(ascii: "[") }, as: UTF8.self)
    message = String(decoding: tagAndMessage[(colon + 2)...], as: UTF8.self)
  }

  /// An RFC 3339 time (`2026-12-03T12:00:00Z`, `2026-12-03T12:00:00.123456+01:00`; the
  /// fraction is dropped) as a Unix time, or `nil` when `text` is not one.
  public static func unixTime(rfc3339 text: String) -> Int64? {
    let b = Array(text.utf8)
    guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
      b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
      let year = number(b[0..<4]), let month = number(b[5..<7]), let day = number(b[8..<10]),
      let hour = number(b[11..<13]), let minute = number(b[14..<16]), let second = number(b[17..<19]),
      (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
    else { return nil }
    var index = 19
    if b[index] == UInt8(ascii: ".") {
      index += 1
      while index < b.count, number(b[index..<index + 1]) != nil { index += 1 }
    }
    let offset: Int64
    if index == b.count - 1, b[index] == UInt8(ascii: "Z") {
      offset = 0
    } else if index == b.count - 6, b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-"),
      b[index + 3] == UInt8(ascii: ":"), let hours = number(b[(index + 1)..<(index + 3)]),
      let minutes = number(b[(index + 4)..<(index + 6)])
    {
      offset = (b[index] == UInt8(ascii: "-") ? -1 : 1) * (hours * 3600 + minutes * 60)
    } else {
      return nil
    }
    let local = UTCTime.unixTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    return local - offset
  }

  private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  /// A `Dec  3 12:00:00` timestamp at the start of `b`, placed in the current year (or the one
  /// before, for a date in the future).
  private static func traditionalTime(_ b: [UInt8], now: Int64, utcOffset: (Int64) -> Int64) -> Int64? {
    guard b.count > 15, b[3] == UInt8(ascii: " "), b[6] == UInt8(ascii: " "), b[9] == UInt8(ascii: ":"),
      b[12] == UInt8(ascii: ":"), b[15] == UInt8(ascii: " "),
      let month = months.firstIndex(of: String(decoding: b[0..<3], as: UTF8.self)),
      let day = number(b[4..<6].drop { $0 == UInt8(ascii: " ") }), (1...31).contains(day),
      let hour = number(b[7..<9]), let minute = number(b[10..<12]), let second = number(b[13..<15]),
      hour < 24, minute < 60, second < 61
    else { return nil }
    let thisYear = Int64(UTCTime.iso8601(now + utcOffset(now)).prefix(4)) ?? 1970
    for year in [thisYear, thisYear - 1] {
      let wall = UTCTime.unixTime(
        year: year, month: Int64(month + 1), day: day, hour: hour, minute: minute, second: second)
      let time = wall - utcOffset(wall)
      if time <= now + 86_400 { return time }
    }
    return nil
  }

  /// The decimal digits `bytes` as a number; `nil` unless all are digits.
  private static func number(_ bytes: ArraySlice<UInt8>) -> Int64? {
    guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
    return bytes.reduce(0) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
  }
}
