import LockstepCore

/// How lockstepd sends codes by email and SMS: the delivery keys of `lockstepd.conf`
/// (lockstepd(8), DELIVERY, lists each with its default and range). All are optional; with
/// neither `email =` nor `sms =` the agent offers no delivery.
///
/// The settings name credential files, never credentials: the agent reads the files when it
/// starts (`Deliverer.init`), so that no secret is in this file, in an error or in a `description`.
public struct DeliverySettings: Equatable, Sendable {
  /// How email leaves the host.
  public enum EmailTransport: String, Equatable, Sendable {
    /// A local mail submission command (`sendmail =`), the message on its standard input.
    case sendmail
    /// An SMTP server (`smtp-url =`), over TLS.
    case smtp
  }

  /// Who sends SMS.
  public enum SMSProvider: String, Equatable, Sendable {
    case twilio, vonage, webhook
  }

  /// The limits on sent codes (`sends-per-user =` … `send-timeout =`). A sent code has as
  /// many digits as the user's record says (`lockstep enroll --digits`, 6 to 8).
  public var limits = DeliveryLimits()

  /// `email =`: off when nil.
  public var email: EmailTransport?
  /// `sendmail =`: the command, an absolute path then its arguments (split at spaces; no shell).
  public var sendmailCommand = ["/usr/sbin/sendmail", "-t", "-i"]
  /// `email-from =`: the sender's address.
  public var emailFrom: String?
  /// `email-subject =`.
  public var emailSubject = MessageTemplate.defaultSubject
  /// `smtp-url =`: the server.
  public var smtpURL: SMTPURL?
  /// `smtp-user =`: the login, with `smtpPasswordFile`.
  public var smtpUser: String?
  /// `smtp-password-file =`: a root-only file holding the password.
  public var smtpPasswordFile: String?
  /// `smtp-ca-file =`: the certificate authorities that may sign the server's certificate
  /// (default: the system's).
  public var smtpCAFile: String?

  /// `sms =`: off when nil.
  public var sms: SMSProvider?
  /// `twilio-account-sid =`: `AC` and 32 hexadecimal digits.
  public var twilioAccountSID: String?
  /// `twilio-auth-token-file =`: the account's auth token (or an API key, below).
  public var twilioAuthTokenFile: String?
  /// `twilio-api-key-sid =`: `SK` and 32 hexadecimal digits, with `twilioAPIKeySecretFile`.
  public var twilioAPIKeySID: String?
  /// `twilio-api-key-secret-file =`.
  public var twilioAPIKeySecretFile: String?
  /// `twilio-from =`: the sending number (E.164) or alphanumeric sender ID.
  public var twilioFrom: String?
  /// `twilio-messaging-service-sid =`: `MG` and 32 hexadecimal digits, instead of `twilioFrom`.
  public var twilioMessagingServiceSID: String?
  /// `twilio-url =`: the API's base URL.
  public var twilioURL = "https://api.twilio.com"
  /// `vonage-api-key =`.
  public var vonageAPIKey: String?
  /// `vonage-api-secret-file =`.
  public var vonageAPISecretFile: String?
  /// `vonage-from =`: the sending number or alphanumeric sender ID.
  public var vonageFrom: String?
  /// `vonage-url =`: the API's base URL.
  public var vonageURL = "https://rest.nexmo.com"
  /// `webhook-url =`: where the JSON request goes.
  public var webhookURL: String?
  /// `webhook-token-file =`: a bearer token for it.
  public var webhookTokenFile: String?
  /// `sms-ca-file =`: the authorities that may sign the provider's certificate (default: the system's).
  public var smsCAFile: String?
  /// `sms-countries =`: the calling codes numbers may have; nil allows all (premium-rate and
  /// shared-cost ranges are refused either way).
  public var smsCountries: [String]?
  /// `message =`: the SMS, and the body of the email.
  public var message = MessageTemplate.defaultMessage

  /// The keys given, in order, for the checks that span keys.
  private var given: [String] = []

  public init() {}

  /// Sets `key` to `value`; `fail` makes the error (with the line number) for a bad value or an
  /// unknown key.
  public mutating func set(
    _ key: String, _ value: String, _ fail: (String) -> ConfigurationError
  ) throws(ConfigurationError) {
    func number(_ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
      try AgentConfiguration.number(value, key, range, fail)
    }
    func path() throws(ConfigurationError) -> String {
      guard value.hasPrefix("/"), !value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else {
        throw fail("'\(key)' needs an absolute path")
      }
      return value
    }
    func sid(_ prefix: String) throws(ConfigurationError) -> String {
      let bytes = Array(value.utf8)
      guard bytes.count == 34, value.hasPrefix(prefix), bytes.dropFirst(2).allSatisfy(isHexDigit) else {
        throw fail("'\(key)' needs '\(prefix)' and 32 hexadecimal digits")
      }
      return value
    }
    func template(subject: Bool) throws(ConfigurationError) -> MessageTemplate {
      do {
        return try MessageTemplate(value, subject: subject)
      } catch {
        throw fail("'\(key)': \(error.reason)")
      }
    }
    func sender() throws(ConfigurationError) -> String {
      guard Self.isSender(value) else {
        throw fail("'\(key)' needs a number in E.164 form (+ and digits) or a sender ID of 1 to 11 letters and digits")
      }
      return value
    }
    func httpsURL() throws(ConfigurationError) -> String {
      guard let url = HTTPSURL.check(value) else {
        throw fail("'\(key)' needs an https:// URL with a host and no user name or password")
      }
      return url
    }
    switch key {
    case "sends-per-user": limits.sendsPerUser = try number(1...100)
    case "send-window": limits.sendWindowSeconds = try number(60...86400)
    case "resend-cooldown": limits.resendCooldownSeconds = try number(0...3600)
    case "sends-per-source": limits.sendsPerSource = try number(1...10000)
    case "code-lifetime": limits.codeLifetimeSeconds = try number(60...900)
    case "code-attempts": limits.attemptsPerCode = try number(1...10)
    case "send-timeout": limits.sendTimeoutSeconds = try number(1...30)
    case "email":
      guard let transport = EmailTransport(rawValue: value) else { throw fail("'email' needs 'sendmail' or 'smtp'") }
      email = transport
    case "sendmail":
      guard let words = Self.command(value) else {
        throw fail("'sendmail' needs a command: an absolute path, then its arguments")
      }
      sendmailCommand = words
    case "email-from":
      guard Contact(email: value) != nil else { throw fail("'email-from' needs an email address") }
      emailFrom = value
    case "email-subject": emailSubject = try template(subject: true)
    case "smtp-url":
      guard let url = SMTPURL(value) else {
        throw fail("'smtp-url' needs smtp://host[:port] (STARTTLS) or smtps://host[:port] (TLS), with no user or path")
      }
      smtpURL = url
    case "smtp-user":
      guard value.utf8.count <= 255, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
        throw fail("'smtp-user' needs printable ASCII without spaces, at most 255 characters")
      }
      smtpUser = value
    case "smtp-password-file": smtpPasswordFile = try path()
    case "smtp-ca-file": smtpCAFile = try path()
    case "sms":
      guard let provider = SMSProvider(rawValue: value) else {
        throw fail("'sms' needs 'twilio', 'vonage' or 'webhook'")
      }
      sms = provider
    case "twilio-account-sid": twilioAccountSID = try sid("AC")
    case "twilio-auth-token-file": twilioAuthTokenFile = try path()
    case "twilio-api-key-sid": twilioAPIKeySID = try sid("SK")
    case "twilio-api-key-secret-file": twilioAPIKeySecretFile = try path()
    case "twilio-from": twilioFrom = try sender()
    case "twilio-messaging-service-sid": twilioMessagingServiceSID = try sid("MG")
    case "twilio-url": twilioURL = try httpsURL()
    case "vonage-api-key":
      guard value.utf8.count <= 64, value.utf8.allSatisfy(isAlphanumeric) else {
        throw fail("'vonage-api-key' needs letters and digits, at most 64")
      }
      vonageAPIKey = value
    case "vonage-api-secret-file": vonageAPISecretFile = try path()
    case "vonage-from": vonageFrom = try sender()
    case "vonage-url": vonageURL = try httpsURL()
    case "webhook-url": webhookURL = try httpsURL()
    case "webhook-token-file": webhookTokenFile = try path()
    case "sms-ca-file": smsCAFile = try path()
    case "sms-countries":
      var codes: [String] = []
      for item in value.split(separator: ",", omittingEmptySubsequences: false) {
        let code = item.trimmingWhitespace()
        let trimmed = code.hasPrefix("+") ? String(code.dropFirst()) : code
        guard !trimmed.isEmpty, trimmed.utf8.count <= 3, trimmed.utf8.allSatisfy(isDigit),
          Contact(phone: "+" + trimmed + "00000000")?.callingCode == trimmed
        else {
          throw fail("'sms-countries' needs country calling codes separated by commas (44,353); '\(code)' is not one")
        }
        if !codes.contains(trimmed) { codes.append(trimmed) }
      }
      smsCountries = codes
    case "message": message = try template(subject: false)
    default: throw fail("unknown key '\(key)'")
    }
    given.append(key)
  }

  /// A command as a setting gives it (`sendmail =`, `alert-command =`): an absolute path, then
  /// its arguments, split at spaces (no shell, no quoting); `nil` when it is not one.
  static func command(_ value: String) -> [String]? {
    let words = value.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    guard words.first?.hasPrefix("/") == true, !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
      return nil
    }
    return words
  }

  /// The checks that span keys, once the whole file is read; `fail` makes an error for the file
  /// as a whole. `mailsAlerts` (`alert-email =`) allows `sendmail =` and `email-from =` without
  /// `email =`, since alerts are mailed through the same command.
  public func validate(_ fail: (String) -> ConfigurationError, mailsAlerts: Bool) throws(ConfigurationError) {
    func has(_ key: String) -> Bool { given.contains(key) }
    func only(_ keys: [String], with owner: String, when condition: Bool) throws(ConfigurationError) {
      if !condition, let key = keys.first(where: has) { throw fail("'\(key)' goes with '\(owner)'") }
    }
    try only(["email-from"], with: "email =' or 'alert-email =", when: email != nil || mailsAlerts)
    try only(["email-subject"], with: "email =", when: email != nil)
    try only(["sendmail"], with: "email = sendmail' or 'alert-email =", when: email == .sendmail || mailsAlerts)
    try only(
      ["smtp-url", "smtp-user", "smtp-password-file", "smtp-ca-file"], with: "email = smtp", when: email == .smtp)
    try only(
      [
        "twilio-account-sid", "twilio-auth-token-file", "twilio-api-key-sid", "twilio-api-key-secret-file",
        "twilio-from", "twilio-messaging-service-sid", "twilio-url",
      ], with: "sms = twilio", when: sms == .twilio)
    try only(
      ["vonage-api-key", "vonage-api-secret-file", "vonage-from", "vonage-url"], with: "sms = vonage",
      when: sms == .vonage)
    try only(["webhook-url", "webhook-token-file"], with: "sms = webhook", when: sms == .webhook)
    try only(["sms-ca-file", "sms-countries"], with: "sms =", when: sms != nil)
    try only(["message"], with: "email =' or 'sms =", when: email != nil || sms != nil)
    if email != nil && emailFrom == nil { throw fail("'email' needs 'email-from ='") }
    if email == .smtp {
      guard smtpURL != nil else { throw fail("'email = smtp' needs 'smtp-url ='") }
      if (smtpUser == nil) != (smtpPasswordFile == nil) {
        throw fail("'smtp-user' and 'smtp-password-file' go together")
      }
    }
    switch sms {
    case .twilio:
      guard twilioAccountSID != nil else { throw fail("'sms = twilio' needs 'twilio-account-sid ='") }
      let token = twilioAuthTokenFile != nil
      let key = twilioAPIKeySID != nil || twilioAPIKeySecretFile != nil
      if token == key {
        throw fail(
          "'sms = twilio' needs 'twilio-auth-token-file =' or 'twilio-api-key-sid =' with 'twilio-api-key-secret-file =' (one of them)"
        )
      }
      if key && (twilioAPIKeySID == nil || twilioAPIKeySecretFile == nil) {
        throw fail("'twilio-api-key-sid' and 'twilio-api-key-secret-file' go together")
      }
      if (twilioFrom == nil) == (twilioMessagingServiceSID == nil) {
        throw fail("'sms = twilio' needs 'twilio-from =' or 'twilio-messaging-service-sid =' (one of them)")
      }
    case .vonage:
      guard vonageAPIKey != nil, vonageAPISecretFile != nil, vonageFrom != nil else {
        throw fail("'sms = vonage' needs 'vonage-api-key =', 'vonage-api-secret-file =' and 'vonage-from ='")
      }
    case .webhook:
      guard webhookURL != nil else { throw fail("'sms = webhook' needs 'webhook-url ='") }
    case nil: break
    }
  }

  /// A number in E.164 form, or an alphanumeric sender ID (1 to 11 letters and digits, one a letter).
  static func isSender(_ value: String) -> Bool {
    if value.hasPrefix("+") { return Contact(phone: value) != nil }
    let bytes = Array(value.utf8)
    return !bytes.isEmpty && bytes.count <= 11 && bytes.allSatisfy(isAlphanumeric) && !bytes.allSatisfy(isDigit)
  }
}

/// A message with placeholders: `{code}`, `{minutes}` (how long the code lives) and `{host}`
/// (the agent's host name). Anything else in braces is refused when the file is read.
public struct MessageTemplate: Equatable, Sendable {
  public let text: String

  /// The default SMS and email body.
  public static let defaultMessage = MessageTemplate(
    trusted:
      "Your login code for {host} is {code}. It expires in {minutes} minutes. If you did not just try to log in to {host}, tell your administrator."
  )
  /// The default email subject.
  public static let defaultSubject = MessageTemplate(trusted: "Login code for {host}")

  /// Why a template cannot be used.
  public struct Problem: Error {
    public let reason: String
  }

  private static let placeholders = ["code", "minutes", "host"]

  /// Checks `text`: only known placeholders, braces balanced; a message (not a `subject`) must
  /// hold `{code}`; a subject, a header, must be printable ASCII.
  public init(_ text: String, subject: Bool) throws(Problem) {
    var rest = Substring(text)
    var hasCode = false
    while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
      guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else {
        throw Problem(reason: "a '{' or '}' that is not part of a placeholder")
      }
      let name = String(rest[rest.index(after: open)..<close])
      guard Self.placeholders.contains(name) else {
        throw Problem(reason: "unknown placeholder '{\(name)}' (known: {code}, {minutes}, {host})")
      }
      if name == "code" { hasCode = true }
      rest = rest[rest.index(after: close)...]
    }
    if !subject && !hasCode { throw Problem(reason: "the message needs '{code}'") }
    if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
      throw Problem(reason: "control characters are not allowed")
    }
    if subject && !text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
      throw Problem(reason: "a subject must be printable ASCII")
    }
    self.text = text
  }

  private init(trusted text: String) { self.text = text }

  /// The text with its placeholders filled in.
  public func render(code: String, minutes: Int, host: String) -> String {
    var result = ""
    var rest = Substring(text)
    while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
      result += rest[..<open]
      switch rest[rest.index(after: open)..<close] {
      case "code": result += code
      case "minutes": result += String(minutes)
      default: result += host
      }
      rest = rest[rest.index(after: close)...]
    }
    return result + rest
  }
}

/// `smtp-url =`: `smtp://host[:port]` (submission with STARTTLS required, port 587 by
/// default) or `smtps://host[:port]` (TLS from the start, port 465 by default).
public struct SMTPURL: Equatable, Sendable {
  public let implicitTLS: Bool
  public let host: String
  public let port: Int

  public init?(_ text: String) {
    let rest: Substring
    if text.hasPrefix("smtp://") {
      implicitTLS = false
      rest = text.dropFirst(7)
    } else if text.hasPrefix("smtps://") {
      implicitTLS = true
      rest = text.dropFirst(8)
    } else {
      return nil
    }
    let authority = rest.hasSuffix("/") ? rest.dropLast() : rest
    guard let parsed = parseAuthority(authority) else { return nil }
    host = parsed.host
    port = parsed.port ?? (implicitTLS ? 465 : 587)
  }

  /// The URL as libcurl takes it.
  public var url: String { (implicitTLS ? "smtps://" : "smtp://") + host + ":" + String(port) }
}

/// The check of a provider's URL: https only, a host (and port), no user name or password, no
/// spaces or control characters; a trailing `/` is dropped.
public enum HTTPSURL {
  public static func check(_ text: String) -> String? {
    guard text.hasPrefix("https://"), !text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else { return nil }
    let rest = text.dropFirst(8)
    let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
    guard parseAuthority(rest[..<end]) != nil else { return nil }
    return text.hasSuffix("/") && end != rest.endIndex && rest[end...] == "/" ? String(text.dropLast()) : text
  }
}

/// `host[:port]`: a DNS name or IPv4 address, or an IPv6 address in brackets; nil for anything
/// else (a user name, an empty host, a bad port).
private func parseAuthority(_ authority: Substring) -> (host: String, port: Int?)? {
  var host = authority
  var port: Int?
  if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
    guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
      return nil
    }
    port = number
    host = authority[..<colon]
  }
  if host.hasPrefix("[") {
    guard host.hasSuffix("]"), host.count > 2,
      host.dropFirst().dropLast().utf8.allSatisfy({
        isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".")
      })
    else { return nil }
  } else {
    guard !host.isEmpty, host.utf8.count <= 253, host.first != ".", host.first != "-",
      host.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
    else { return nil }
  }
  return (String(host), port)
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

private func isHexDigit(_ byte: UInt8) -> Bool {
  isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
}

private func isAlphanumeric(_ byte: UInt8) -> Bool {
  isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
}
