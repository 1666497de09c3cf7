import Glibc
import LockstepPlatform

/// One email with a code: plain text, UTF-8, marked as sent by a machine (RFC 3834), so that
/// vacation responders leave it alone. The addresses are `Contact`-checked (no spaces, line
/// breaks or control characters), the subject printable ASCII (`MessageTemplate`), so nothing
/// here can add a header.
struct MailMessage {
  let from: String
  let to: String
  let subject: String
  let body: String
  /// `<random.time@host>`, made here: what the receipt names.
  let messageID: String
  let date: String
  /// The host's name when it is a DNS name, for the Message-ID and SMTP's EHLO.
  let domain: String

  init(from: String, to: String, subject: String, body: String, hostName: String) {
    self.from = from
    self.to = to
    self.subject = subject
    self.body = body
    let random = (SystemRandom.bytes(count: 12) ?? []).map { byte in
      let digits = Array("0123456789abcdef".utf8)
      return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
    }.joined()
    let now = time(nil)
    domain = hostName.utf8.allSatisfy(Self.isDomainByte) && !hostName.isEmpty ? hostName : "lockstepd.invalid"
    messageID = "<\(random).\(now)@\(domain)>"
    date = Self.rfc5322Date(now)
  }

  /// The message with `newline` ending each line: "\r\n" for SMTP, "\n" for a local sendmail.
  func text(newline: String) -> [UInt8] {
    let ascii = body.utf8.allSatisfy { $0 < 0x80 }
    let headers = [
      "From: \(from)",
      "To: \(to)",
      "Subject: \(subject)",
      "Date: \(date)",
      "Message-ID: \(messageID)",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: \(ascii ? "7bit" : "8bit")",
      "Auto-Submitted: auto-generated",
    ]
    let lines = headers + [""] + body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    return Array((lines.joined(separator: newline) + newline).utf8)
  }

  private static func isDomainByte(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
      || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
      || byte == UInt8(ascii: ".")
  }

  /// `Thu, 03 Dec 2026 07:22:44 +0000` (RFC 5322 3.3), in UTC, without the C library's locale.
  static func rfc5322Date(_ seconds: time_t) -> String {
    var clock = seconds
    var parts = tm()
    gmtime_r(&clock, &parts)
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
      + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
  }
}
