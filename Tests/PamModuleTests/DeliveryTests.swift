import Foundation
import LockstepConfiguration
import LockstepCore
import LockstepDelivery
import Testing

/// Codes sent by email and SMS (`LockstepDelivery`): the delivery keys of lockstepd.conf, and
/// real sends through libcurl and posix_spawn to stand-ins on 127.0.0.1 (StandIns/: an
/// aiosmtpd mail sink, Twilio's Messages API, Vonage, a webhook) over TLS signed by a test CA,
/// and through the real msmtp as the sendmail command. No test reaches the network or changes
/// the machine's mail set-up.
@Suite struct DeliveryTests {
  /// The code every send carries; no error reason may hold it.
  static let code = "482913"
  static let account = "AC0123456789abcdef0123456789abcdef"
  static let token = "twilio-auth-token-5e1f9c"
  static let apiKey = "SKfedcba9876543210fedcba9876543210"
  static let apiSecret = "twilio-api-secret-77ab01"
  static let smtpPassword = "smtp-pass-9d2e"
  static let host = "host1.example.com"
  static let secrets = [code, token, apiSecret, smtpPassword, "vonage-secret-31c7", "webhook-token-0b5a"]

  /// A directory, a test CA, credential files and stand-ins for one test.
  final class World {
    let directory: String
    let ca: TestCertificateAuthority
    private var standIns: [StandIn] = []

    init() throws {
      directory = FileManager.default.temporaryDirectory.path + "/lockstep-delivery-" + UUID().uuidString
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
      ca = try TestCertificateAuthority(directory: directory + "/tls", serverKeyOwner: "root")
      for name in ["mail", "sms"] {
        try FileManager.default.createDirectory(atPath: directory + "/" + name, withIntermediateDirectories: false)
      }
    }

    deinit {
      for standIn in standIns { standIn.stop() }
      try? FileManager.default.removeItem(atPath: directory)
    }

    /// A root-only file (0600) holding `content`, as the agent's credential files must be.
    func secretFile(_ name: String, _ content: String, mode: Int = 0o600) throws -> String {
      let path = directory + "/" + name
      guard FileManager.default.createFile(atPath: path, contents: Data((content + "\n").utf8)) else {
        throw TestFailure("cannot write \(path)")
      }
      chmod(path, mode_t(mode))
      return path
    }

    /// Starts a stand-in; it is stopped (by pid) when the world is released.
    func start(_ script: String, _ arguments: [String]) throws -> StandIn {
      let standIn = try StandIn(script, arguments, in: directory, name: "standin-\(standIns.count)")
      standIns.append(standIn)
      return standIn
    }

    /// The mail sink, with the test CA's server certificate (STARTTLS, or TLS from the start).
    func mailSink(implicitTLS: Bool = false, tls: Bool = true, auth: Bool = true) throws -> StandIn {
      var arguments = [directory + "/mail"]
      if tls { arguments += ["--tls-cert", ca.serverCertPath, "--tls-key", ca.serverKeyPath] }
      if implicitTLS { arguments.append("--implicit-tls") }
      if auth { arguments += ["--auth", "lockstep:" + DeliveryTests.smtpPassword] }
      return try start("mail-sink.py", arguments)
    }

    /// The Twilio stand-in with the test account, token and API key.
    func twilio(_ extra: [String] = []) throws -> StandIn {
      try start(
        "twilio.py",
        [
          directory + "/sms", "--cert", ca.serverCertPath, "--key", ca.serverKeyPath, "--account",
          DeliveryTests.account, "--token", DeliveryTests.token, "--api-key", DeliveryTests.apiKey,
          "--api-secret", DeliveryTests.apiSecret,
        ] + extra)
    }

    /// A configuration of `lines` (a `store =` added, which the agent needs), parsed.
    func configuration(_ lines: [String]) throws -> AgentConfiguration {
      try AgentConfiguration.parse((["store = /var/lib/lockstep"] + lines).joined(separator: "\n"), path: "test.conf")
    }

    /// A deliverer for `lines`.
    func deliverer(_ lines: [String]) throws -> Deliverer {
      let configuration = try configuration(lines)
      return try Deliverer(
        settings: configuration.delivery, limits: configuration.delivery.limits, hostName: DeliveryTests.host)
    }

    /// Twilio's lines, the stand-in's URL and CA, `auth` lines for the credential.
    func twilioLines(_ standIn: StandIn, caFile: String? = nil, auth: [String]? = nil) throws -> [String] {
      [
        "sms = twilio", "twilio-account-sid = \(DeliveryTests.account)",
        "twilio-url = https://127.0.0.1:\(standIn.port)", "sms-ca-file = \(caFile ?? ca.caPath)",
      ]
        + (try auth ?? ["twilio-auth-token-file = \(secretFile("twilio.token", DeliveryTests.token))"])
        + (auth == nil ? ["twilio-from = +15005550006"] : [])
    }

    /// The files a stand-in wrote into `name` (`mail` or `sms`), oldest first.
    func received(_ name: String) throws -> [String] {
      let folder = directory + "/" + name
      let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
      return try names.map { try String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }

    /// The JSON files of the SMS stand-ins.
    func requests() throws -> [[String: Any]] {
      try received("sms").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }
  }

  /// The reason `send` fails with; checks it holds neither the code nor a credential.
  static func failure(
    _ deliverer: Deliverer, to contact: Contact, sourceLocation: SourceLocation = #_sourceLocation
  ) -> String {
    do {
      let receipt = try deliverer.send(code: code, to: contact, lifetimeSeconds: 300)
      Issue.record("the send succeeded (\(receipt.provider))", sourceLocation: sourceLocation)
      return ""
    } catch {
      for secret in secrets {
        #expect(!error.reason.contains(secret), "'\(error.reason)' holds a secret", sourceLocation: sourceLocation)
      }
      #expect(error.description == error.reason, sourceLocation: sourceLocation)
      return error.reason
    }
  }

  /// Checked contacts, made directly (the cases are public) so that no test hides a force unwrap.
  static let alice = Contact.email("alice@example.com")
  static let ukMobile = Contact.sms("+447700900123")

  // MARK: - Configuration

  @Test func everyKeyIsParsed() throws {
    let world = try World()
    let password = try world.secretFile("smtp.password", Self.smtpPassword)
    let first = try world.configuration([
      "sends-per-user = 5", "send-window = 900", "resend-cooldown = 30", "sends-per-source = 50",
      "code-lifetime = 120", "code-attempts = 4", "send-timeout = 3",
      "email = smtp", "email-from = lockstep@example.com", "email-subject = Code for {host}",
      "smtp-url = smtps://mail.example.com", "smtp-user = lockstep", "smtp-password-file = \(password)",
      "smtp-ca-file = /etc/ssl/mail-ca.pem", "sms = twilio", "twilio-account-sid = \(Self.account)",
      "twilio-auth-token-file = /etc/lockstep/twilio.token", "twilio-from = +15005550006",
      "twilio-url = https://twilio.internal:8443/", "sms-ca-file = /etc/ssl/sms-ca.pem",
      "sms-countries = 44, +353,1", "message = {code} is your code for {host} ({minutes} min)",
    ]).delivery
    var limits = DeliveryLimits()
    (limits.sendsPerUser, limits.sendWindowSeconds, limits.resendCooldownSeconds) = (5, 900, 30)
    (limits.sendsPerSource, limits.codeLifetimeSeconds, limits.attemptsPerCode) = (50, 120, 4)
    limits.sendTimeoutSeconds = 3
    #expect(first.limits == limits)
    #expect(first.email == .smtp && first.emailFrom == "lockstep@example.com")
    #expect(first.emailSubject.text == "Code for {host}")
    #expect(first.smtpURL == SMTPURL("smtps://mail.example.com:465"))
    #expect(first.smtpURL?.url == "smtps://mail.example.com:465")
    #expect(first.smtpUser == "lockstep" && first.smtpPasswordFile == password)
    #expect(first.smtpCAFile == "/etc/ssl/mail-ca.pem")
    #expect(first.sms == .twilio && first.twilioAccountSID == Self.account)
    #expect(first.twilioAuthTokenFile == "/etc/lockstep/twilio.token" && first.twilioFrom == "+15005550006")
    #expect(first.twilioURL == "https://twilio.internal:8443")
    #expect(first.smsCAFile == "/etc/ssl/sms-ca.pem" && first.smsCountries == ["44", "353", "1"])
    #expect(first.message.render(code: "123456", minutes: 2, host: "h") == "123456 is your code for h (2 min)")

    let second = try world.configuration([
      "email = sendmail", "sendmail = /usr/bin/msmtp -C /etc/msmtprc  -t", "email-from = root@example.com",
      "sms = twilio", "twilio-account-sid = \(Self.account)", "twilio-api-key-sid = \(Self.apiKey)",
      "twilio-api-key-secret-file = /etc/lockstep/twilio.secret",
      "twilio-messaging-service-sid = MG0123456789abcdef0123456789abcdef",
    ]).delivery
    #expect(second.email == .sendmail && second.sendmailCommand == ["/usr/bin/msmtp", "-C", "/etc/msmtprc", "-t"])
    #expect(second.twilioAPIKeySID == Self.apiKey && second.twilioAPIKeySecretFile == "/etc/lockstep/twilio.secret")
    #expect(second.twilioMessagingServiceSID == "MG0123456789abcdef0123456789abcdef" && second.twilioFrom == nil)
    #expect(second.twilioURL == "https://api.twilio.com" && second.smsCountries == nil)

    let third = try world.configuration([
      "sms = vonage", "vonage-api-key = abc123", "vonage-api-secret-file = /etc/lockstep/vonage",
      "vonage-from = Lockstep", "vonage-url = https://vonage.internal",
    ]).delivery
    #expect(third.vonageAPIKey == "abc123" && third.vonageAPISecretFile == "/etc/lockstep/vonage")
    #expect(third.vonageFrom == "Lockstep" && third.vonageURL == "https://vonage.internal")
    let fourth = try world.configuration([
      "sms = webhook", "webhook-url = https://sms.internal/send?via=lockstep",
      "webhook-token-file = /etc/lockstep/webhook",
    ]).delivery
    #expect(fourth.webhookURL == "https://sms.internal/send?via=lockstep")
    #expect(fourth.webhookTokenFile == "/etc/lockstep/webhook")

    // The defaults: no delivery, the documented limits, sendmail's command line and the templates.
    let none = try world.configuration([]).delivery
    #expect(none.email == nil && none.sms == nil && none.limits == DeliveryLimits())
    #expect(none.limits.sendsPerUser == 3 && none.limits.sendTimeoutSeconds == 8)
    #expect(none.sendmailCommand == ["/usr/sbin/sendmail", "-t", "-i"])
    #expect(none.emailSubject.render(code: "1", minutes: 5, host: "h1") == "Login code for h1")
    #expect(
      none.message.render(code: "123456", minutes: 5, host: "h1")
        == "Your login code for h1 is 123456. It expires in 5 minutes. If you did not just try to log in to h1, tell your administrator."
    )
    let deliverer = try world.deliverer([])
    #expect(!deliverer.offers(.email) && !deliverer.offers(.sms))
  }

  @Test(arguments: [
    ("sends-per-user = 0", "'sends-per-user' needs a whole number from 1 to 100"),
    ("sends-per-user = 101", "'sends-per-user' needs a whole number from 1 to 100"),
    ("send-window = 59", "'send-window' needs a whole number from 60 to 86400"),
    ("send-window = 86401", "'send-window' needs a whole number from 60 to 86400"),
    ("resend-cooldown = -1", "'resend-cooldown' needs a whole number from 0 to 3600"),
    ("resend-cooldown = 3601", "'resend-cooldown' needs a whole number from 0 to 3600"),
    ("sends-per-source = 10001", "'sends-per-source' needs a whole number from 1 to 10000"),
    ("code-lifetime = 59", "'code-lifetime' needs a whole number from 60 to 900"),
    ("code-lifetime = 901", "'code-lifetime' needs a whole number from 60 to 900"),
    ("code-attempts = 11", "'code-attempts' needs a whole number from 1 to 10"),
    ("send-timeout = 0", "'send-timeout' needs a whole number from 1 to 30"),
    ("send-timeout = 31", "'send-timeout' needs a whole number from 1 to 30"),
    ("code-digits = 8", "unknown key 'code-digits'"),
    ("email = pigeon", "'email' needs 'sendmail' or 'smtp'"),
    ("sendmail = sendmail -t", "'sendmail' needs a command: an absolute path, then its arguments"),
    ("email-from = not an address", "'email-from' needs an email address"),
    ("smtp-url = http://mail.example.com", "'smtp-url' needs smtp://host[:port]"),
    ("smtp-url = smtp://user:pw@mail.example.com", "'smtp-url' needs smtp://host[:port]"),
    ("smtp-url = smtp://mail.example.com:99999", "'smtp-url' needs smtp://host[:port]"),
    ("smtp-url = smtps://", "'smtp-url' needs smtp://host[:port]"),
    ("smtp-password-file = relative/file", "'smtp-password-file' needs an absolute path"),
    ("sms = carrier-pigeon", "'sms' needs 'twilio', 'vonage' or 'webhook'"),
    ("twilio-account-sid = AC123", "'twilio-account-sid' needs 'AC' and 32 hexadecimal digits"),
    ("twilio-api-key-sid = \(DeliveryTests.account)", "'twilio-api-key-sid' needs 'SK' and 32 hexadecimal digits"),
    ("twilio-from = 15005550006", "'twilio-from' needs a number in E.164 form"),
    ("twilio-url = http://api.twilio.com", "'twilio-url' needs an https:// URL"),
    ("twilio-url = https://user:pw@api.twilio.com", "'twilio-url' needs an https:// URL"),
    ("vonage-url = http://rest.nexmo.com", "'vonage-url' needs an https:// URL"),
    ("webhook-url = http://sms.internal/send", "'webhook-url' needs an https:// URL"),
    ("vonage-api-key = key with spaces", "'vonage-api-key' needs letters and digits"),
    ("sms-countries = 44,,353", "'sms-countries' needs country calling codes"),
    ("sms-countries = 4412", "'sms-countries' needs country calling codes"),
    ("sms-countries = 42", "'sms-countries' needs country calling codes"),
    ("delivery = on", "unknown key 'delivery'"),
  ])
  func badValuesStopWithTheLineNumber(line: String, reason: String) throws {
    let world = try World()
    let text = ["# delivery", "store = /var/lib/lockstep", line].joined(separator: "\n")
    let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration.parse(text, path: "test.conf") }
    #expect(error?.line == 3)
    #expect(error?.description.hasPrefix("test.conf:3: " + reason) == true, "\(String(describing: error))")
    _ = world
  }

  @Test(arguments: [
    ("message = Your code is {cdoe}", "'message': unknown placeholder '{cdoe}'"),
    ("message = Log in to {host} within {minutes} minutes", "'message': the message needs '{code}'"),
    ("message = {code} {", "'message': a '{' or '}' that is not part of a placeholder"),
    ("message = {code} }", "'message': a '{' or '}' that is not part of a placeholder"),
    ("message = {code} {{host}}", "'message': unknown placeholder '{{host}'"),
    ("email-subject = Code {user}", "'email-subject': unknown placeholder '{user}'"),
    ("email-subject = Code for {host} \u{2014} now", "'email-subject': a subject must be printable ASCII"),
    ("message = {code}\u{7}", "'message': control characters are not allowed"),
  ])
  func templateErrors(line: String, reason: String) throws {
    let text = ["store = /var/lib/lockstep", "email = sendmail", "email-from = a@example.com", line]
    let error = #expect(throws: ConfigurationError.self) {
      try AgentConfiguration.parse(text.joined(separator: "\n"), path: "test.conf")
    }
    #expect(error?.description.hasPrefix("test.conf:4: " + reason) == true, "\(String(describing: error))")
  }

  @Test(arguments: [
    (["email = smtp", "smtp-url = smtp://mail.example.com"], "'email' needs 'email-from ='"),
    (["email = smtp", "email-from = a@example.com"], "'email = smtp' needs 'smtp-url ='"),
    (
      ["email = smtp", "email-from = a@example.com", "smtp-url = smtp://m.example.com", "smtp-user = u"],
      "'smtp-user' and 'smtp-password-file' go together"
    ),
    (["email = sendmail", "email-from = a@example.com", "smtp-url = smtp://m"], "'smtp-url' goes with 'email = smtp'"),
    (
      ["email = smtp", "email-from = a@example.com", "sendmail = /bin/true"], "'sendmail' goes with 'email = sendmail'"
    ),
    (["email-from = a@example.com"], "'email-from' goes with 'email ='"),
    (["message = {code}"], "'message' goes with 'email =' or 'sms ='"),
    (["sms = twilio", "twilio-from = +15005550006"], "'sms = twilio' needs 'twilio-account-sid ='"),
    (
      ["sms = twilio", "twilio-account-sid = \(DeliveryTests.account)", "twilio-from = +15005550006"],
      "'sms = twilio' needs 'twilio-auth-token-file =' or 'twilio-api-key-sid ='"
    ),
    (
      [
        "sms = twilio", "twilio-account-sid = \(DeliveryTests.account)", "twilio-from = +15005550006",
        "twilio-auth-token-file = /t", "twilio-api-key-sid = \(DeliveryTests.apiKey)",
        "twilio-api-key-secret-file = /s",
      ], "'sms = twilio' needs 'twilio-auth-token-file =' or 'twilio-api-key-sid ='"
    ),
    (
      [
        "sms = twilio", "twilio-account-sid = \(DeliveryTests.account)", "twilio-from = +15005550006",
        "twilio-api-key-sid = \(DeliveryTests.apiKey)",
      ],
      "'twilio-api-key-sid' and 'twilio-api-key-secret-file' go together"
    ),
    (
      ["sms = twilio", "twilio-account-sid = \(DeliveryTests.account)", "twilio-auth-token-file = /t"],
      "'sms = twilio' needs 'twilio-from =' or 'twilio-messaging-service-sid =' (one of them)"
    ),
    (
      [
        "sms = twilio", "twilio-account-sid = \(DeliveryTests.account)", "twilio-auth-token-file = /t",
        "twilio-from = +15005550006",
        "twilio-messaging-service-sid = MG0123456789abcdef0123456789abcdef",
      ], "'sms = twilio' needs 'twilio-from =' or 'twilio-messaging-service-sid =' (one of them)"
    ),
    (["sms = vonage", "vonage-api-key = k"], "'sms = vonage' needs 'vonage-api-key ='"),
    (["sms = webhook"], "'sms = webhook' needs 'webhook-url ='"),
    (
      ["sms = webhook", "webhook-url = https://h", "twilio-from = +15005550006"],
      "'twilio-from' goes with 'sms = twilio'"
    ),
    (["sms-countries = 44"], "'sms-countries' goes with 'sms ='"),
  ])
  func settingsThatNeedOthers(lines: [String], reason: String) throws {
    let text = (["store = /var/lib/lockstep"] + lines).joined(separator: "\n")
    let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration.parse(text, path: "test.conf") }
    #expect(error?.line == 0)
    #expect(error?.description.hasPrefix("test.conf: " + reason) == true, "\(String(describing: error))")
  }

  /// A credential file that is missing, readable by others or empty stops the deliverer with
  /// the file's name; its content appears in no error and no description.
  @Test func credentialsAreNeverShown() throws {
    let world = try World()
    func lines(_ file: String) -> [String] {
      ["sms = webhook", "webhook-url = https://127.0.0.1:1/send", "webhook-token-file = \(file)"]
    }
    let exposed = try world.secretFile("exposed.token", "webhook-token-0b5a", mode: 0o644)
    let empty = try world.secretFile("empty.token", "")
    for (file, reason) in [
      (exposed, "it is accessible by group or others"), (world.directory + "/missing.token", "No such file"),
      (empty, "the file is empty"),
    ] {
      let error = #expect(throws: DeliveryError.self) { try world.deliverer(lines(file)) }
      #expect(
        error?.reason.contains(file) == true && error?.reason.contains(reason) == true, "\(String(describing: error))")
      #expect(error?.reason.contains("webhook-token-0b5a") == false)
    }
    let good = try world.secretFile("good.token", "webhook-token-0b5a")
    let deliverer = try world.deliverer(lines(good))
    var dumped = ""
    dump(deliverer, to: &dumped)
    for text in [String(describing: deliverer), String(reflecting: deliverer), dumped, "\(deliverer)"] {
      #expect(!text.contains("webhook-token-0b5a"), "\(text)")
    }
    #expect(String(describing: deliverer) == "Deliverer(email: off, sms: webhook, host: \(Self.host))")
    // The host name goes into a header: a line break in it is refused.
    let configuration = try world.configuration(lines(good))
    #expect(throws: DeliveryError.self) {
      try Deliverer(settings: configuration.delivery, limits: DeliveryLimits(), hostName: "evil\r\nBcc: x@example.com")
    }
    // A password given where a path goes is refused without being repeated.
    let error = #expect(throws: ConfigurationError.self) {
      try world.configuration(["email = smtp", "smtp-password-file = hunter2-password"])
    }
    #expect(error?.description.contains("hunter2") == false)
  }

  // MARK: - SMTP

  func smtpLines(
    _ world: World, _ sink: StandIn, scheme: String = "smtp", caFile: String? = nil, password: String? = nil
  )
    throws -> [String]
  {
    [
      "email = smtp", "email-from = lockstep@example.com", "smtp-url = \(scheme)://127.0.0.1:\(sink.port)",
      "smtp-user = lockstep",
      "smtp-password-file = \(try world.secretFile("smtp.password", password ?? Self.smtpPassword))",
      "smtp-ca-file = \(caFile ?? world.ca.caPath)", "send-timeout = 10",
    ]
  }

  /// The headers and body of the one message the sink received.
  func onlyMessage(_ world: World) throws -> (headers: [String: String], envelope: [String], body: String) {
    let messages = try world.received("mail")
    try #require(messages.count == 1, "\(messages)")
    let text = messages[0].replacingOccurrences(of: "\r\n", with: "\n")
    let parts = text.components(separatedBy: "\n\n")
    var headers: [String: String] = [:]
    var envelope: [String] = []
    for line in parts[0].split(separator: "\n") {
      let (name, value) = (String(line.prefix { $0 != ":" }), line.drop { $0 != ":" }.dropFirst().trimmingWhitespace())
      if name.hasPrefix("X-Sink-") { envelope.append("\(name): \(value)") } else { headers[name] = value }
    }
    return (headers, envelope, parts.dropFirst().joined(separator: "\n\n"))
  }

  func checkMessage(_ world: World, _ receipt: DeliveryReceipt, provider: String) throws {
    #expect(receipt.provider == provider)
    let (headers, envelope, body) = try onlyMessage(world)
    #expect(envelope == ["X-Sink-Mail-From: lockstep@example.com", "X-Sink-Rcpt-To: alice@example.com"])
    #expect(headers["From"] == "lockstep@example.com")
    #expect(headers["To"] == "alice@example.com")
    #expect(headers["Subject"] == "Login code for \(Self.host)")
    #expect(headers["Message-ID"] == receipt.messageID)
    #expect(receipt.messageID?.hasSuffix("@\(Self.host)>") == true)
    #expect(headers["MIME-Version"] == "1.0")
    #expect(headers["Content-Type"] == "text/plain; charset=utf-8")
    #expect(headers["Auto-Submitted"] == "auto-generated")
    let date = try #require(headers["Date"])
    let parser = DateFormatter()
    parser.locale = Locale(identifier: "en_US_POSIX")
    parser.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
    let sent = try #require(parser.date(from: date), "Date: \(date)")
    #expect(abs(sent.timeIntervalSinceNow) < 60)
    #expect(
      body.trimmingWhitespace().trimmingCharacters(in: .newlines)
        == "Your login code for \(Self.host) is \(Self.code). It expires in 5 minutes. If you did not just try to log in to \(Self.host), tell your administrator."
    )
  }

  @Test func smtpWithStartTLSAndAuthentication() throws {
    let world = try World()
    let sink = try world.mailSink()
    let deliverer = try world.deliverer(try smtpLines(world, sink))
    #expect(deliverer.offers(.email) && !deliverer.offers(.sms))
    #expect(deliverer.refusal(for: Self.alice) == nil)
    let receipt = try deliverer.send(code: Self.code, to: Self.alice, lifetimeSeconds: 300)
    try checkMessage(world, receipt, provider: "smtp")
  }

  @Test func smtpsWithImplicitTLS() throws {
    let world = try World()
    let sink = try world.mailSink(implicitTLS: true)
    let deliverer = try world.deliverer(try smtpLines(world, sink, scheme: "smtps"))
    let receipt = try deliverer.send(code: Self.code, to: Self.alice, lifetimeSeconds: 300)
    try checkMessage(world, receipt, provider: "smtp")
  }

  @Test func smtpRefusesAServerSignedByAnotherAuthority() throws {
    let world = try World()
    let sink = try world.mailSink()
    let deliverer = try world.deliverer(try smtpLines(world, sink, caFile: world.ca.otherCAPath))
    let reason = Self.failure(deliverer, to: Self.alice)
    #expect(reason.hasPrefix("smtp: ") && reason.lowercased().contains("certificate"), "\(reason)")
    #expect(try world.received("mail").isEmpty)
  }

  @Test func smtpRefusesAServerWithoutStartTLS() throws {
    let world = try World()
    let sink = try world.mailSink(tls: false, auth: false)
    let deliverer = try world.deliverer(try smtpLines(world, sink))
    let reason = Self.failure(deliverer, to: Self.alice)
    #expect(reason.hasPrefix("smtp: "), "\(reason)")
    #expect(try world.received("mail").isEmpty)
  }

  @Test func smtpWithAWrongPasswordIsRefused() throws {
    let world = try World()
    let sink = try world.mailSink()
    let deliverer = try world.deliverer(try smtpLines(world, sink, password: "not-the-password"))
    let reason = Self.failure(deliverer, to: Self.alice)
    #expect(reason.hasPrefix("smtp: ") && reason.contains("Login denied"), "\(reason)")
    #expect(!reason.contains("not-the-password"))
    #expect(try world.received("mail").isEmpty)
  }

  // MARK: - sendmail

  /// The real msmtp, with a configuration of its own (0600, as msmtp insists), as the sendmail
  /// command: STARTTLS and AUTH to the mail sink. The machine's own MTA is not touched.
  @Test func sendmailThroughMsmtp() throws {
    let world = try World()
    let sink = try world.mailSink()
    let rc = try world.secretFile(
      "msmtprc",
      [
        "account default", "host 127.0.0.1", "port \(sink.port)", "from lockstep@example.com", "tls on",
        "tls_starttls on", "tls_trust_file \(world.ca.caPath)", "auth on", "user lockstep",
        "password \(Self.smtpPassword)",
      ].joined(separator: "\n"))
    let command = "/usr/bin/msmtp -C \(rc) -t"
    let configuration = try world.configuration([
      "email = sendmail", "sendmail = \(command)", "email-from = lockstep@example.com",
    ])
    // The command's arguments are the configuration's words, exactly; the code is never among them.
    #expect(configuration.delivery.sendmailCommand == command.split(separator: " ").map(String.init))
    #expect(!configuration.delivery.sendmailCommand.contains { $0.contains(Self.code) })
    let deliverer = try Deliverer(
      settings: configuration.delivery, limits: configuration.delivery.limits, hostName: Self.host)
    let receipt = try deliverer.send(code: Self.code, to: Self.alice, lifetimeSeconds: 300)
    try checkMessage(world, receipt, provider: "sendmail")
  }

  @Test func aFailingSendmailIsReported() throws {
    let world = try World()
    let script = world.directory + "/fake-sendmail"
    try "#!/bin/sh\ncat >/dev/null\necho 'fake-sendmail: cannot queue: disk full' >&2\necho second line >&2\nexit 75\n"
      .write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    let deliverer = try world.deliverer([
      "email = sendmail", "sendmail = \(script) -t", "email-from = lockstep@example.com",
    ])
    let reason = Self.failure(deliverer, to: Self.alice)
    #expect(reason == "sendmail: \(script) exited with status 75: fake-sendmail: cannot queue: disk full")

    // msmtp that cannot reach its server says so.
    let closed = try boundLoopbackSocket()
    close(closed.socket)
    let rc = try world.secretFile("msmtprc", "account default\nhost 127.0.0.1\nport \(closed.port)\ntls off\n")
    let msmtp = try world.deliverer([
      "email = sendmail", "sendmail = /usr/bin/msmtp -C \(rc) -t", "email-from = lockstep@example.com",
    ])
    let refused = Self.failure(msmtp, to: Self.alice)
    #expect(refused.hasPrefix("sendmail: /usr/bin/msmtp exited with status "), "\(refused)")

    // A command that is not there.
    let missing = try world.deliverer([
      "email = sendmail", "sendmail = \(world.directory)/no-such-sendmail -t", "email-from = lockstep@example.com",
    ])
    #expect(Self.failure(missing, to: Self.alice).contains("cannot run \(world.directory)/no-such-sendmail"))
  }

  @Test func aHangingSendmailIsKilledAtTheDeadline() throws {
    let world = try World()
    let script = world.directory + "/slow-sendmail"
    let pidFile = world.directory + "/slow-sendmail.pid"
    try "#!/bin/sh\necho $$ > \(pidFile)\nexec /bin/sleep 60\n".write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    let deliverer = try world.deliverer([
      "email = sendmail", "sendmail = \(script)", "email-from = lockstep@example.com", "send-timeout = 1",
    ])
    let started = monotonicSeconds()
    let reason = Self.failure(deliverer, to: Self.alice)
    let elapsed = monotonicSeconds() - started
    #expect(reason == "sendmail: \(script) did not finish in time and was killed")
    #expect(elapsed >= 0.9 && elapsed < 2.5, "took \(elapsed) s")
    // Killed and reaped: the pid is gone.
    let pid = try #require(
      pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
    #expect(kill(pid, 0) == -1 && errno == ESRCH)
  }

  // MARK: - Twilio

  @Test func twilioWithTheAuthToken() throws {
    let world = try World()
    let twilio = try world.twilio()
    let deliverer = try world.deliverer(try world.twilioLines(twilio))
    #expect(deliverer.offers(.sms) && !deliverer.offers(.email))
    let receipt = try deliverer.send(code: Self.code, to: Self.ukMobile, lifetimeSeconds: 240)
    #expect(receipt.provider == "twilio")
    let sid = try #require(receipt.messageID)
    #expect(sid.hasPrefix("SM") && sid.count == 34 && sid.dropFirst(2).allSatisfy(\.isHexDigit))
    let requests = try world.requests()
    try #require(requests.count == 1)
    #expect(requests[0]["path"] as? String == "/2010-04-01/Accounts/\(Self.account)/Messages.json")
    #expect(requests[0]["user"] as? String == Self.account)
    #expect(requests[0]["sid"] as? String == sid)
    let fields = try #require(requests[0]["fields"] as? [String: String])
    #expect(Set(fields.keys) == ["To", "From", "Body", "ValidityPeriod"])
    #expect(fields["To"] == "+447700900123" && fields["From"] == "+15005550006")
    #expect(fields["ValidityPeriod"] == "240")
    #expect(
      fields["Body"]
        == "Your login code for \(Self.host) is \(Self.code). It expires in 4 minutes. If you did not just try to log in to \(Self.host), tell your administrator."
    )
  }

  @Test func twilioWithAnAPIKeyAndAMessagingService() throws {
    let world = try World()
    let service = "MG0123456789abcdef0123456789abcdef"
    let twilio = try world.twilio(["--messaging-service", service])
    let secret = try world.secretFile("twilio.secret", Self.apiSecret)
    let deliverer = try world.deliverer(
      try world.twilioLines(
        twilio,
        auth: [
          "twilio-api-key-sid = \(Self.apiKey)", "twilio-api-key-secret-file = \(secret)",
          "twilio-messaging-service-sid = \(service)", "message = Code: {code} & \"more\" +1 = 100%",
        ]))
    let receipt = try deliverer.send(code: Self.code, to: Self.ukMobile, lifetimeSeconds: 300)
    #expect(receipt.messageID?.hasPrefix("SM") == true)
    let request = try #require(try world.requests().first)
    #expect(request["user"] as? String == Self.apiKey)
    let fields = try #require(request["fields"] as? [String: String])
    #expect(fields["MessagingServiceSid"] == service && fields["From"] == nil)
    // Form encoding: '&', '=', '+', '%' and '"' arrive as they were written.
    #expect(fields["Body"] == "Code: \(Self.code) & \"more\" +1 = 100%")
  }

  @Test(arguments: [
    ("+15005550001", "twilio 21211: "), ("+15005550002", "twilio 21612: "), ("+15005550003", "twilio 21408: "),
    ("+15005550004", "twilio 21610: "), ("+15005550009", "twilio 21614: "),
  ])
  func twilioMagicNumbersGiveTheirErrors(number: String, reason: String) throws {
    let world = try World()
    let twilio = try world.twilio()
    let deliverer = try world.deliverer(try world.twilioLines(twilio))
    let failure = Self.failure(deliverer, to: try #require(Contact(phone: number)))
    #expect(failure.hasPrefix(reason), "\(failure)")
    #expect(failure.contains("(https://www.twilio.com/docs/errors/"), "\(failure)")
    #expect(try world.requests().isEmpty)
  }

  @Test func twilioRefusesAnUnknownSender() throws {
    let world = try World()
    let twilio = try world.twilio()
    var lines = try world.twilioLines(twilio)
    lines[lines.count - 1] = "twilio-from = +15005550008"
    #expect(Self.failure(try world.deliverer(lines), to: Self.ukMobile).hasPrefix("twilio 21611: "))
    lines[lines.count - 1] = "twilio-from = +15551230000"
    #expect(Self.failure(try world.deliverer(lines), to: Self.ukMobile).hasPrefix("twilio 21606: "))
  }

  @Test func twilioWithAWrongTokenIs20003() throws {
    let world = try World()
    let twilio = try world.twilio()
    let wrong = try world.secretFile("wrong.token", "not-the-twilio-token")
    let deliverer = try world.deliverer(
      try world.twilioLines(twilio, auth: ["twilio-auth-token-file = \(wrong)", "twilio-from = +15005550006"]))
    let reason = Self.failure(deliverer, to: Self.ukMobile)
    #expect(reason.hasPrefix("twilio 20003: Authenticate"), "\(reason)")
    #expect(!reason.contains("not-the-twilio-token"))
  }

  @Test func twilioSignedByAnotherAuthorityIsRefused() throws {
    let world = try World()
    let twilio = try world.twilio()
    let deliverer = try world.deliverer(try world.twilioLines(twilio, caFile: world.ca.otherCAPath))
    let reason = Self.failure(deliverer, to: Self.ukMobile)
    #expect(reason.hasPrefix("twilio: ") && reason.lowercased().contains("certificate"), "\(reason)")
    #expect(try world.requests().isEmpty)
  }

  @Test func aSlowProviderFailsWithinTheSendTimeout() throws {
    let world = try World()
    let twilio = try world.twilio(["--delay", "20"])
    let deliverer = try world.deliverer(try world.twilioLines(twilio) + ["send-timeout = 2"])
    let started = monotonicSeconds()
    let reason = Self.failure(deliverer, to: Self.ukMobile)
    let elapsed = monotonicSeconds() - started
    #expect(reason.hasPrefix("twilio: no answer within 2 s"), "\(reason)")
    #expect(elapsed < 2 + 1.5, "took \(elapsed) s")
  }

  @Test func aClosedPortFailsFast() throws {
    let world = try World()
    let closed = try boundLoopbackSocket()
    close(closed.socket)
    let deliverer = try world.deliverer([
      "sms = twilio", "twilio-account-sid = \(Self.account)", "twilio-url = https://127.0.0.1:\(closed.port)",
      "twilio-auth-token-file = \(try world.secretFile("t", Self.token))", "twilio-from = +15005550006",
    ])
    let started = monotonicSeconds()
    let reason = Self.failure(deliverer, to: Self.ukMobile)
    // Refused at once: nowhere near the default send-timeout of 8 s, even on a loaded machine.
    #expect(monotonicSeconds() - started < 2)
    #expect(reason.hasPrefix("twilio: ") && reason.contains("onnect"), "\(reason)")
  }

  // MARK: - Vonage and the webhook

  @Test func vonage() throws {
    let world = try World()
    let secret = "vonage-secret-31c7"
    let gateway = try world.start(
      "sms-gateway.py",
      [
        world.directory + "/sms", "--mode", "vonage", "--cert", world.ca.serverCertPath, "--key",
        world.ca.serverKeyPath, "--api-key", "abc123", "--api-secret", secret,
      ])
    func lines(_ secretValue: String) throws -> [String] {
      [
        "sms = vonage", "vonage-api-key = abc123",
        "vonage-api-secret-file = \(try world.secretFile("vonage-\(secretValue.count)", secretValue))",
        "vonage-from = Lockstep", "vonage-url = https://127.0.0.1:\(gateway.port)", "sms-ca-file = \(world.ca.caPath)",
      ]
    }
    let receipt = try world.deliverer(try lines(secret)).send(code: Self.code, to: Self.ukMobile, lifetimeSeconds: 300)
    #expect(receipt.provider == "vonage" && receipt.messageID?.count == 16)
    let request = try #require(try world.requests().first)
    let fields = try #require(request["fields"] as? [String: String])
    #expect(fields["to"] == "447700900123" && fields["from"] == "Lockstep" && fields["api_key"] == "abc123")
    #expect(fields["text"]?.contains(Self.code) == true)
    #expect(
      Self.failure(try world.deliverer(try lines("wrong-secret")), to: Self.ukMobile) == "vonage 4: Bad Credentials")
  }

  @Test func webhook() throws {
    let world = try World()
    let token = "webhook-token-0b5a"
    func gateway(_ extra: [String]) throws -> StandIn {
      try world.start(
        "sms-gateway.py",
        [
          world.directory + "/sms", "--mode", "webhook", "--cert", world.ca.serverCertPath, "--key",
          world.ca.serverKeyPath, "--token", token,
        ] + extra)
    }
    func lines(_ standIn: StandIn, token: String) throws -> [String] {
      [
        "sms = webhook", "webhook-url = https://127.0.0.1:\(standIn.port)/send",
        "webhook-token-file = \(try world.secretFile("webhook-\(token.count)", token))",
        "sms-ca-file = \(world.ca.caPath)", "message = \"{code}\" \\ back\\slash \u{e9}t\u{e9} {host}",
      ]
    }
    let good = try gateway([])
    let receipt = try world.deliverer(try lines(good, token: token)).send(
      code: Self.code, to: Self.ukMobile, lifetimeSeconds: 300)
    #expect(receipt.provider == "webhook" && receipt.messageID?.count == 16)
    let document = try #require(try world.requests().first?["document"] as? [String: String])
    // JSON escaping: quotes, backslashes and UTF-8 arrive as written.
    #expect(
      document == [
        "to": "+447700900123", "channel": "sms",
        "message": "\"\(Self.code)\" \\ back\\slash \u{e9}t\u{e9} \(Self.host)",
      ])
    #expect(
      Self.failure(try world.deliverer(try lines(good, token: "wrong")), to: Self.ukMobile)
        == "webhook: HTTP 401: unauthorized")
    let failing = try gateway(["--status", "503"])
    #expect(
      Self.failure(try world.deliverer(try lines(failing, token: token)), to: Self.ukMobile)
        == "webhook: HTTP 503: the gateway is failing on purpose")
  }

  // MARK: - Refusals

  @Test func refusalsOfCountriesAndPremiumRanges() throws {
    let world = try World()
    let hook = ["sms = webhook", "webhook-url = https://127.0.0.1:1/send"]
    let limited = try world.deliverer(hook + ["sms-countries = 44,353"])
    func refusal(_ deliverer: Deliverer, _ number: String) throws -> String? {
      deliverer.refusal(for: try #require(Contact(phone: number)))
    }
    #expect(try refusal(limited, "+447700900123") == nil)
    #expect(try refusal(limited, "+353871234567") == nil)
    #expect(try refusal(limited, "+15551234567") == "calling code +1 is not in sms-countries")
    #expect(try refusal(limited, "+4915112345678") == "calling code +49 is not in sms-countries")
    #expect(try refusal(limited, "+449098790123") == "+449 is a premium-rate range")
    #expect(try refusal(limited, "+447012345678") == "+4470 is a personal-numbering range")
    #expect(try refusal(limited, "+448712345678") == "+44871 is a premium-rate service range")
    #expect(try refusal(limited, "+3531550123456") == "+35315 is a premium-rate range")
    let open = try world.deliverer(hook)
    #expect(try refusal(open, "+15551234567") == nil)
    #expect(try refusal(open, "+4915112345678") == nil)
    #expect(try refusal(open, "+19005551234") == "+1900 is a premium-rate range")
    #expect(try refusal(open, "+19765551234") == "+1976 is a premium-rate range")
    #expect(try refusal(open, "+4990012345678") == "+49900 is a premium-rate range")
    #expect(try refusal(open, "+4913712345678") == "+49137 is a mass-traffic range")
    #expect(try refusal(open, "+33812345678") == "+338 is a special-rate range")
    #expect(try refusal(open, "+979123456789") == "+979 is a premium-rate range")
    // Refused before anything is sent (port 1 has no server: a send would fail otherwise).
    #expect(Self.failure(open, to: try #require(Contact(phone: "+19005551234"))) == "+1900 is a premium-rate range")
    #expect(
      Self.failure(limited, to: try #require(Contact(phone: "+15551234567")))
        == "calling code +1 is not in sms-countries")
  }

  @Test func aChannelNotConfiguredIsRefused() throws {
    let world = try World()
    let emailOnly = try world.deliverer(["email = sendmail", "email-from = lockstep@example.com"])
    #expect(emailOnly.offers(.email) && !emailOnly.offers(.sms))
    #expect(emailOnly.refusal(for: Self.ukMobile) == "SMS delivery is not configured on this host")
    #expect(Self.failure(emailOnly, to: Self.ukMobile) == "SMS delivery is not configured on this host")
    let smsOnly = try world.deliverer(["sms = webhook", "webhook-url = https://127.0.0.1:1/send"])
    #expect(smsOnly.refusal(for: Self.alice) == "email delivery is not configured on this host")
    #expect(smsOnly.refusal(for: Self.ukMobile) == nil)
    // A code that is not digits is never sent.
    let error = #expect(throws: DeliveryError.self) {
      try smsOnly.send(code: "12 34", to: Self.ukMobile, lifetimeSeconds: 300)
    }
    #expect(error?.reason == "the code to send is not made of digits")
  }
}
