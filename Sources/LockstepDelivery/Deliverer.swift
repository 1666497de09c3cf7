import LockstepConfiguration
import LockstepCore
import LockstepPlatform

/// Sends codes by the channels lockstepd.conf configures.
///
/// Every send runs on the calling thread and blocks it at most `limits.sendTimeoutSeconds`,
/// connecting included; the agent calls it from the thread of the request. What it sends, and
/// how each provider is spoken to, is in `Sendmail.swift`, `SMTP.swift` and `SMSProviders.swift`.
public struct Deliverer: Sendable {
  let settings: DeliverySettings
  let limits: DeliveryLimits
  let hostName: String
  /// The credentials read from their files, by what they are for.
  let credentials: Credentials

  struct Credentials: Sendable {
    var smtpPassword: String?
    /// Twilio's Basic authentication: the account (or API key) and its token (or secret).
    var twilioUser: String?
    var twilioPassword: String?
    var vonageSecret: String?
    var webhookToken: String?

    var all: [String] { [smtpPassword, twilioPassword, vonageSecret, webhookToken].compactMap { $0 } }
  }

  /// Reads the credential files now (a missing or unsafe file is an error naming the file, never its content).
  public init(settings: DeliverySettings, limits: DeliveryLimits, hostName: String) throws(DeliveryError) {
    // It goes into a mail header ({host} in the subject) and the Message-ID: printable ASCII only.
    guard !hostName.isEmpty, hostName.utf8.count <= 255, hostName.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
      throw DeliveryError("the host name for messages needs printable ASCII without spaces, at most 255 characters")
    }
    self.settings = settings
    self.limits = limits
    self.hostName = hostName
    var credentials = Credentials()
    if settings.email == .smtp, let file = settings.smtpPasswordFile {
      credentials.smtpPassword = try Self.readCredential(file)
    }
    switch settings.sms {
    case .twilio:
      if let file = settings.twilioAuthTokenFile {
        credentials.twilioUser = settings.twilioAccountSID
        credentials.twilioPassword = try Self.readCredential(file)
      } else if let key = settings.twilioAPIKeySID, let file = settings.twilioAPIKeySecretFile {
        credentials.twilioUser = key
        credentials.twilioPassword = try Self.readCredential(file)
      }
    case .vonage:
      if let file = settings.vonageAPISecretFile { credentials.vonageSecret = try Self.readCredential(file) }
    case .webhook:
      if let file = settings.webhookTokenFile { credentials.webhookToken = try Self.readCredential(file) }
    case nil: break
    }
    self.credentials = credentials
    if settings.email == .smtp || settings.sms != nil {
      guard Curl.initialized else { throw DeliveryError("libcurl could not be initialised") }
    }
  }

  /// Whether a channel is configured.
  public func offers(_ channel: DeliveryChannel) -> Bool {
    switch channel {
    case .email: return settings.email != nil
    case .sms: return settings.sms != nil
    }
  }

  /// Why this contact may not be sent to (channel not configured, calling code not in sms-countries, a premium-rate or shared-cost range), or nil.
  public func refusal(for contact: Contact) -> String? {
    guard offers(contact.channel) else { return "\(contact.channel.name) delivery is not configured on this host" }
    switch contact {
    case .email(let address): return Contact(email: address) == nil ? "not an email address" : nil
    case .sms(let number): guard Contact(phone: number) != nil else { return "not a number in E.164 form" }
    }
    let callingCode = contact.callingCode
    if let countries = settings.smsCountries, !countries.contains(callingCode) {
      return "calling code +\(callingCode) is not in sms-countries"
    }
    if let range = PremiumRanges.range(of: contact) {
      return "+\(range.prefix) is a \(range.kind) range"
    }
    return nil
  }

  /// Sends `code` (digits) to `contact`; blocks at most limits.sendTimeoutSeconds in all (connect included). Throws with the provider's reason (e.g. "twilio 21211: Invalid 'To' Phone Number"), which never contains the code or a credential.
  public func send(code: String, to contact: Contact, lifetimeSeconds: Int) throws(DeliveryError) -> DeliveryReceipt {
    let deadline = MonotonicClock.now() + UInt64(limits.sendTimeoutSeconds) * 1_000_000_000
    guard !code.isEmpty, code.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
      throw DeliveryError("the code to send is not made of digits")
    }
    if let refusal = refusal(for: contact) { throw DeliveryError(refusal) }
    let minutes = max(1, (lifetimeSeconds + 59) / 60)
    let body = settings.message.render(code: code, minutes: minutes, host: hostName)
    do {
      switch contact {
      case .email(let address):
        let mail = MailMessage(
          from: settings.emailFrom ?? "", to: address,
          subject: settings.emailSubject.render(code: code, minutes: minutes, host: hostName), body: body,
          hostName: hostName)
        switch settings.email {
        case .smtp:
          return try SMTP.send(mail, settings: settings, password: credentials.smtpPassword, deadline: deadline)
        default: return try Sendmail.send(mail, command: settings.sendmailCommand, deadline: deadline)
        }
      case .sms(let number):
        let request = SMSRequest(to: number, body: body, lifetimeSeconds: lifetimeSeconds, deadline: deadline)
        switch settings.sms {
        case .twilio: return try SMSProviders.twilio(request, settings: settings, credentials: credentials)
        case .vonage: return try SMSProviders.vonage(request, settings: settings, credentials: credentials)
        default: return try SMSProviders.webhook(request, settings: settings, credentials: credentials)
        }
      }
    } catch {
      throw DeliveryError(redacted(error.reason, code: code))
    }
  }

  /// `reason` without the code or any credential in it, should a provider have echoed one.
  func redacted(_ reason: String, code: String) -> String {
    var text = reason
    for secret in credentials.all + [code] where !secret.isEmpty {
      text = text.replacing(secret, with: "…")
    }
    return text
  }

  /// The first line of a root-only credential file (a newline at its end is not part of it).
  private static func readCredential(_ path: String) throws(DeliveryError) -> String {
    let contents: SecretBytes
    do {
      contents = try RootOnlyFile.read(path, limit: 4096)
    } catch {
      throw DeliveryError(error.description)
    }
    var text = contents.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    if text.hasSuffix("\n") { text.removeLast() }
    if text.hasSuffix("\r") { text.removeLast() }
    guard !text.isEmpty else { throw DeliveryError("\(path): the file is empty") }
    guard !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
      throw DeliveryError("\(path): the credential must be one line of printable characters")
    }
    return text
  }
}

extension Deliverer: CustomStringConvertible, CustomReflectable {
  /// The channels and providers, never a credential.
  public var description: String {
    let email = settings.email.map { $0.rawValue } ?? "off"
    let sms = settings.sms.map { $0.rawValue } ?? "off"
    return "Deliverer(email: \(email), sms: \(sms), host: \(hostName))"
  }

  /// What `dump` and the debugger show: the description, so that no credential is reflected.
  public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension Deliverer.Credentials: CustomStringConvertible, CustomReflectable {
  var description: String { "credentials" }
  var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// What a provider said when it took a message.
public struct DeliveryReceipt: Sendable {
  /// "sendmail", "smtp", "twilio", "vonage" or "webhook".
  public let provider: String
  /// The provider's id of the message (Twilio's `SM…` sid, Vonage's `message-id`, a webhook's
  /// `id`), or for email the `Message-ID` header the agent wrote (`<…@host>`).
  public let messageID: String?

  public init(provider: String, messageID: String?) {
    self.provider = provider
    self.messageID = messageID
  }
}

/// Why a code was not sent; the reason never holds the code or a credential.
public struct DeliveryError: Error, CustomStringConvertible, Sendable {
  public let reason: String
  public var description: String { reason }

  public init(_ reason: String) { self.reason = reason }
}
