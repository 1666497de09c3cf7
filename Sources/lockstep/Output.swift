import LockstepCore

#if canImport(Glibc)
  import Glibc
#endif

/// Formatting shared by the commands: times, JSON, record summaries.
enum Output {
  /// A Unix time as UTC (`2026-11-22 02:41:02 UTC`), or `never` for 0.
  static func time(_ unixTime: Int64, never: String = "never") -> String {
    guard unixTime != 0 else { return never }
    var seconds = time_t(unixTime)
    var parts = tm()
    guard gmtime_r(&seconds, &parts) != nil else { return String(unixTime) }
    var buffer = [CChar](repeating: 0, count: 64)
    let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S UTC", &parts)
    return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Prints `object` as pretty-printed JSON with sorted keys on standard output (see `JSON`).
  static func printJSON(_ object: Any) {
    print(JSON.text(object))
  }

  /// `value`, or JSON `null` for nil.
  static func orNull(_ value: Any?) -> Any { value ?? JSON.null }

  /// `count` and `noun`, with an "s" unless the count is one: "1 failure", "2 failures".
  static func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
  }

  /// `rows` as aligned columns, two spaces apart; the first row is usually the headings. A row
  /// with fewer cells than the others (a remark in place of a record) is left as it is.
  static func table(_ rows: [[String]]) -> [String] {
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for row in rows where row.count == columns {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    return rows.map { row in
      var line = ""
      for (index, cell) in row.enumerated() {
        let isLast = index == row.count - 1
        line += isLast ? cell : cell + String(repeating: " ", count: max(widths[index] - cell.count, 0) + 2)
      }
      return line
    }
  }

  /// Backup codes as text, for printing once.
  static func codes(_ codes: [[UInt8]]) -> [String] {
    codes.map { String(decoding: $0, as: UTF8.self) }
  }

  /// When `record` was enrolled, for a table cell; for an invitation, until when it is open.
  static func enrolled(_ record: UserRecord, now: Int64) -> String {
    guard let invitation = record.invitation else { return time(record.enrolled, never: "unknown") }
    return invitation.isOpen(at: now) ? "invited until \(time(invitation.expires))" : "invitation expired"
  }

  /// `algorithm/digits/period` for a table cell (the period only for TOTP).
  static func parameters(_ p: TokenParameters) -> String {
    p.kind == .totp ? "\(p.algorithm.rawValue)/\(p.digits)/\(p.period)s" : "\(p.algorithm.rawValue)/\(p.digits)"
  }

  /// What `status` and `list` show about one record: never the secret or the backup code hashes.
  static func summary(_ user: UserName, _ record: UserRecord, now: Int64) -> [String: Any] {
    let p = record.parameters
    let locked = record.lockedUntil != 0 && now < record.lockedUntil
    var object: [String: Any] = [
      "user": user.description,
      "kind": p.kind.rawValue,
      "algorithm": p.algorithm.rawValue,
      "digits": p.digits,
      "enrolled": orNull(record.enrolled == 0 ? nil : record.enrolled),
      "lastSuccess": orNull(record.lastSuccess == 0 ? nil : record.lastSuccess),
      "failures": record.failures,
      "locked": locked,
      "lockedUntil": orNull(locked ? record.lockedUntil : nil),
      "backupCodesRemaining": record.backupCodes.hashes.count,
    ]
    switch p.kind {
    case .totp:
      object["period"] = p.period
      object["lastStep"] = orNull(record.lastStep)
      object["offset"] = record.offset
    case .hotp:
      object["counter"] = record.counter
    case .delivered: break
    }
    // An invitation not taken up: when it stops working, and whether it still works.
    if let invitation = record.invitation {
      object["invitation"] = ["expires": invitation.expires, "open": invitation.isOpen(at: now)] as [String: Any]
    }
    if let contact = record.contact {
      object["contact"] = ["channel": contact.channel.name, "address": contact.masked] as [String: Any]
      object["lastSend"] = orNull(record.state.sent.lastSend == 0 ? nil : record.state.sent.lastSend)
    }
    return object
  }
}
