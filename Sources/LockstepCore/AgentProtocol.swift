/// The protocol between lockstepd and its clients (the module, the CLI) on the agent's Unix
/// socket: one request, one reply, one connection.
///
/// A message is a 4-byte big-endian length, then that many bytes: the protocol version, the
/// message type, then the type's fields (`WireWriter`). An agent that sees another version
/// answers `refused`, and a client that sees one fails closed, so that a module and an agent
/// of different releases never misread each other. Both ends check who the peer is
/// (`SO_PEERCRED`: root only) and read with a deadline.
public enum AgentProtocol {
  /// The version every message starts with. 2: codes sent by email and SMS (`send`,
  /// `deliver`, the lookup's `DeliveryOffer`). 3: invitations (`invitation`, `takeUp`, the
  /// lookup's `invited`).
  public static let version: UInt8 = 3
  /// The largest message either side accepts, in bytes: an `update`, two records of at most
  /// 64 KiB each, and its other fields.
  public static let largestMessage = 2 * RecordFormat.maximumSize + 1024
  /// The largest byte string in a message.
  public static let largestField = 65_535
  /// The length of a verify request's nonce, which makes a retried request idempotent.
  public static let nonceLength = 16
  /// How many bytes of names a `names` reply carries at most: a list longer than that comes
  /// in pages (`list(after:)`), so that a fleet of any size fits the message limit.
  public static let namesPageBytes = 60_000
  /// The agent's socket unless its configuration or the module's `agent=` names another.
  public static let defaultSocket = "/run/lockstep/agent.sock"
}

/// What the module asks when a user answers: check `code` and `backupCode` for `user` under
/// `policy`, and record the outcome. `nonce` is random per login: the agent records it with
/// the outcome, so that a request it must retry (after losing the database's reply) gets the
/// outcome already recorded instead of being checked again (which would find its own code
/// used and call it a replay).
public struct VerifyRequest {
  public var nonce: [UInt8]
  public var user: UserName
  /// The PAM service (`sshd`, `sudo`), for the agent's log.
  public var service: String
  /// The remote host as the module logs it.
  public var remoteHost: String
  /// The answer tried as a one-time code.
  public var code: SecretBytes?
  /// The answer tried as a backup code.
  public var backupCode: SecretBytes?
  /// The module's limits: window, look-ahead, failures before a lockout, its length.
  public var policy: VerificationPolicy

  public init(
    nonce: [UInt8], user: UserName, service: String, remoteHost: String, code: SecretBytes?,
    backupCode: SecretBytes?, policy: VerificationPolicy
  ) {
    self.nonce = nonce
    self.user = user
    self.service = service
    self.remoteHost = remoteHost
    self.code = code
    self.backupCode = backupCode
    self.policy = policy
  }
}

/// What the module asks when a user wants a code sent: send one to `user`'s contact, within
/// the limits, on behalf of `remoteHost` (which the per-source limit counts).
public struct SendRequest {
  public var user: UserName
  /// The PAM service, for the agent's log.
  public var service: String
  /// The remote host as the module logs it (empty for a local login).
  public var remoteHost: String

  public init(user: UserName, service: String, remoteHost: String) {
    self.user = user
    self.service = service
    self.remoteHost = remoteHost
  }
}

/// How a user can have a code sent, as the lookup tells the module: the channel and the end
/// of the address (`••0123`), for the prompt.
public struct DeliveryOffer: Equatable, Sendable {
  public var channel: DeliveryChannel
  public var hint: String

  public init(channel: DeliveryChannel, hint: String) {
    self.channel = channel
    self.hint = hint
  }
}

/// How an administrator's record is written to the agent's store.
public enum StoreMode: UInt8, Sendable {
  /// Only if the user has no record, or already has this same enrollment (then nothing
  /// changes, so that a migration run twice is harmless).
  case create = 0
  /// Replaces the record; the replay watermark and HOTP counter never go down when the secret
  /// stays the same (`UserRecord.keepReplayWatermark`).
  case replace = 1
}

/// A request to the agent.
public enum AgentRequest {
  /// Whether `user` is enrolled, and how many digits to prompt for.
  case lookup(UserName)
  /// Check an answer (see `VerifyRequest`).
  case verify(VerifyRequest)
  /// The whole record of a user, for the CLI.
  case fetch(UserName)
  /// Write a record (its `RecordFormat` text), for the CLI.
  case store(UserName, record: SecretBytes, mode: StoreMode)
  /// Replace a user's record only if it is still `expected` (the text a `fetch` gave), for the
  /// CLI's read, change and write: a login on another host in between (a code or backup code
  /// used, a failure counted) makes the agent answer `outdated` instead of losing it.
  case update(UserName, expected: SecretBytes, record: SecretBytes)
  /// Remove a user's record, for the CLI.
  case remove(UserName)
  /// The enrolled users whose names sort after `after` (bytewise; all for `nil`), a page of
  /// at most `namesPageBytes`, for the CLI.
  case list(after: UserName?)
  /// The agent's view of its store, for `lockstep check`.
  case status
  /// Send a code to the user's contact (see `SendRequest`).
  case send(SendRequest)
  /// Send `code` to `contact`, which is not yet in `user`'s record: how `lockstep enroll`
  /// confirms an address before it keeps it. Only root can ask (as for every request), so no
  /// limit applies; the destination checks (`sms-countries`, premium ranges) do.
  case deliver(UserName, contact: Contact, code: SecretBytes)
  /// What the login shows to take up `user`'s open invitation (`InvitationCard`), for a module
  /// with `invitations` after the lookup answered `invited`.
  case invitation(UserName)
  /// Take up the user's invitation with the first code from the app (the request's backup
  /// code is not used): on a right code the user is enrolled, with new backup codes.
  case takeUp(VerifyRequest)

  private var type: UInt8 {
    switch self {
    case .lookup: 1
    case .verify: 2
    case .fetch: 3
    case .store: 4
    case .remove: 5
    case .list: 6
    case .status: 7
    case .update: 8
    case .send: 9
    case .deliver: 10
    case .invitation: 11
    case .takeUp: 12
    }
  }

  /// The message, without its length prefix. Holds secrets for `verify`, `store`, `update`,
  /// `deliver` and `takeUp`: wipe it once sent.
  public func encoded() -> [UInt8] {
    var writer = WireWriter()
    writer.byte(AgentProtocol.version)
    writer.byte(type)
    switch self {
    case .lookup(let user), .fetch(let user), .remove(let user), .invitation(let user): writer.field(user.bytes)
    case .verify(let request), .takeUp(let request):
      writer.raw(request.nonce)
      writer.field(request.user.bytes)
      writer.text(request.service)
      writer.text(request.remoteHost)
      writer.optionalSecret(request.code)
      writer.optionalSecret(request.backupCode)
      for value in [
        request.policy.window, request.policy.lookahead, request.policy.maxFailures, request.policy.lockoutSeconds,
      ] {
        writer.integer(Int64(value))
      }
    case .store(let user, let record, let mode):
      writer.field(user.bytes)
      writer.secret(record)
      writer.byte(mode.rawValue)
    case .update(let user, let expected, let record):
      writer.field(user.bytes)
      writer.secret(expected)
      writer.secret(record)
    case .list(let after):
      writer.byte(after == nil ? 0 : 1)
      if let after { writer.field(after.bytes) }
    case .status: break
    case .send(let request):
      writer.field(request.user.bytes)
      writer.text(request.service)
      writer.text(request.remoteHost)
    case .deliver(let user, let contact, let code):
      writer.field(user.bytes)
      writer.byte(contact.channel.rawValue)
      writer.text(contact.address)
      writer.secret(code)
    }
    return writer.bytes
  }

  /// Reads a request; the error says what was wrong.
  public static func decode(_ message: [UInt8]) throws(WireError) -> AgentRequest {
    var reader = WireReader(message)
    guard try reader.byte() == AgentProtocol.version else { throw WireError("unsupported protocol version") }
    let request: AgentRequest
    switch try reader.byte() {
    case 1: request = .lookup(try reader.userName())
    case 2: request = .verify(try readVerify(&reader))
    case 3: request = .fetch(try reader.userName())
    case 4:
      let user = try reader.userName()
      let record = try reader.secret()
      guard let mode = StoreMode(rawValue: try reader.byte()) else { throw WireError("unknown store mode") }
      request = .store(user, record: record, mode: mode)
    case 5: request = .remove(try reader.userName())
    case 6: request = .list(after: try reader.flag() ? try reader.userName() : nil)
    case 7: request = .status
    case 8:
      let user = try reader.userName()
      let expected = try reader.secret()
      request = .update(user, expected: expected, record: try reader.secret())
    case 9:
      let user = try reader.userName()
      let service = try reader.text()
      request = .send(SendRequest(user: user, service: service, remoteHost: try reader.text()))
    case 10:
      let user = try reader.userName()
      request = .deliver(user, contact: try readContact(&reader), code: try reader.secret())
    case 11: request = .invitation(try reader.userName())
    case 12: request = .takeUp(try readVerify(&reader))
    default: throw WireError("unknown request type")
    }
    try reader.finish()
    return request
  }

  /// Reads the fields of a `verify` or `takeUp` request.
  private static func readVerify(_ reader: inout WireReader) throws(WireError) -> VerifyRequest {
    let nonce = try reader.raw(count: AgentProtocol.nonceLength)
    let user = try reader.userName()
    let service = try reader.text()
    let remoteHost = try reader.text()
    let code = try reader.optionalSecret()
    let backupCode = try reader.optionalSecret()
    let policy = VerificationPolicy(
      window: Int(try reader.integer(in: setting(.window), "window")),
      lookahead: Int(try reader.integer(in: setting(.lookahead), "lookahead")),
      maxFailures: Int(try reader.integer(in: setting(.maxFailures), "max_failures")),
      lockoutSeconds: Int(try reader.integer(in: setting(.lockout), "lockout")))
    return VerifyRequest(
      nonce: nonce, user: user, service: service, remoteHost: remoteHost, code: code, backupCode: backupCode,
      policy: policy)
  }

  private static func setting(_ setting: ModuleSetting) -> ClosedRange<Int64> {
    Int64(setting.range.lowerBound)...Int64(setting.range.upperBound)
  }
}

/// One line of the agent's status: what `lockstep check` prints and judges.
public struct AgentStatusLine: Equatable, Sendable {
  /// What is reported: `database`, `tls`, `replication`, `clock-skew`, ...
  public var name: String
  /// Whether it is as it should be.
  public var healthy: Bool
  /// What was found, in words.
  public var detail: String

  public init(name: String, healthy: Bool, detail: String) {
    self.name = name
    self.healthy = healthy
    self.detail = detail
  }
}

/// Reads a contact: its channel, then its address, checked as a record's is.
private func readContact(_ reader: inout WireReader) throws(WireError) -> Contact {
  let channel = try reader.byte()
  let address = try reader.text()
  let contact: Contact?
  switch DeliveryChannel(rawValue: channel) {
  case .email: contact = Contact(email: address)
  case .sms: contact = Contact(phone: address)
  case nil: contact = nil
  }
  guard let contact else { throw WireError("invalid contact") }
  return contact
}

/// The agent's answer to a request.
public enum AgentReply {
  /// `lookup`: the user's code parameters, or `nil` when the user is not enrolled; and how the
  /// user can have a code sent, when the agent can send one.
  case enrollment(TokenParameters?, offer: DeliveryOffer?)
  /// `verify`: what the check decided, and the kind of the user's codes (for the log).
  case verdict(VerificationOutcome, kind: TokenKind)
  /// `verify` of a user with no record (removed since the lookup).
  case notEnrolled
  /// `fetch`: the record's text, or `nil` when the user is not enrolled.
  case record(SecretBytes?)
  /// `list`: a page of the enrolled users, in bytewise order; `more` when others follow
  /// (ask again after the last one).
  case names([UserName], more: Bool)
  /// `store`, `update` or `remove` done; `changed` is false when there was nothing to do.
  case done(changed: Bool)
  /// `update` not done: the record is no longer the one expected (fetch it again).
  case outdated
  /// `status`.
  case status([AgentStatusLine])
  /// The store could not be reached or read in time: the module fails closed.
  case unavailable(String)
  /// The request was understood and refused (a record that does not parse, a user who
  /// exists with another enrollment), or not understood.
  case refused(String)
  /// `send`, `deliver`: a code went by `channel` to the address ending `hint`; it is good for
  /// `lifetimeSeconds`.
  case sent(DeliveryOffer, lifetimeSeconds: Int)
  /// `send`, `deliver`: no code was sent, and why.
  case notSent(SendRefusal)
  /// `lookup`: the user is not enrolled but invited (`lockstep invite`), with these code
  /// parameters, until `expires` (Unix time; it may have passed). A module without
  /// `invitations` treats the user as not enrolled.
  case invited(TokenParameters, expires: Int64)
  /// `invitation`: what to show the user (holds the secret).
  case invitation(InvitationCard)
  /// `takeUp`: what the check of the first code decided; when it accepted the code, the user
  /// is enrolled and `backupCodes` are the new backup codes, to be shown once (none when the
  /// request was decided before and is only being answered again).
  case tookUp(VerificationOutcome, kind: TokenKind, backupCodes: [SecretBytes])

  private var type: UInt8 {
    switch self {
    case .enrollment: 128
    case .verdict: 129
    case .notEnrolled: 130
    case .record: 131
    case .names: 132
    case .done: 133
    case .status: 134
    case .unavailable: 135
    case .refused: 136
    case .outdated: 137
    case .sent: 138
    case .notSent: 139
    case .invited: 140
    case .invitation: 141
    case .tookUp: 142
    }
  }

  /// The message, without its length prefix. Holds secrets for `record`, `invitation` and
  /// `tookUp`: wipe it once sent.
  public func encoded() -> [UInt8] {
    var writer = WireWriter()
    writer.byte(AgentProtocol.version)
    writer.byte(type)
    switch self {
    case .enrollment(let parameters, let offer):
      writer.byte(parameters == nil ? 0 : 1)
      if let parameters { Self.write(parameters, to: &writer) }
      writer.byte(offer == nil ? 0 : 1)
      if let offer { Self.write(offer, to: &writer) }
    case .invited(let parameters, let expires):
      Self.write(parameters, to: &writer)
      writer.integer(expires)
    case .invitation(let card):
      writer.text(card.uri)
      writer.field(card.qr.encoded)
    case .tookUp(let outcome, let kind, let codes):
      writer.text(kind.rawValue)
      Self.write(outcome, to: &writer)
      writer.integer(Int64(codes.count))
      for code in codes { writer.secret(code) }
    case .sent(let offer, let lifetime):
      Self.write(offer, to: &writer)
      writer.integer(Int64(lifetime))
    case .notSent(let refusal):
      switch refusal {
      case .cooldown(let until):
        writer.byte(1)
        writer.integer(until)
      case .userLimit(let until):
        writer.byte(2)
        writer.integer(until)
      case .sourceLimit(let until):
        writer.byte(3)
        writer.integer(until)
      case .lockedOut(let until):
        writer.byte(4)
        writer.integer(until)
      case .noChannel:
        writer.byte(5)
        writer.integer(0)
      case .deliveryFailed:
        writer.byte(6)
        writer.integer(0)
      }
    case .verdict(let outcome, let kind):
      writer.text(kind.rawValue)
      Self.write(outcome, to: &writer)
    case .record(let text): writer.optionalSecret(text)
    case .names(let names, let more):
      writer.integer(Int64(names.count))
      for name in names { writer.field(name.bytes) }
      writer.byte(more ? 1 : 0)
    case .done(let changed): writer.byte(changed ? 1 : 0)
    case .status(let lines):
      writer.integer(Int64(lines.count))
      for line in lines {
        writer.text(line.name)
        writer.byte(line.healthy ? 1 : 0)
        writer.text(line.detail)
      }
    case .unavailable(let reason), .refused(let reason): writer.text(reason)
    case .notEnrolled, .outdated: break
    }
    return writer.bytes
  }

  private static func write(_ parameters: TokenParameters, to writer: inout WireWriter) {
    writer.text(parameters.kind.rawValue)
    writer.text(parameters.algorithm.rawValue)
    writer.integer(Int64(parameters.digits))
    writer.integer(Int64(parameters.period))
  }

  private static func readParameters(_ reader: inout WireReader) throws(WireError) -> TokenParameters {
    guard let kind = TokenKind(rawValue: try reader.text()),
      let algorithm = OTPAlgorithm(rawValue: try reader.text())
    else { throw WireError("unknown token kind or algorithm") }
    let digits = try reader.integer(in: 6...8, "digits")
    let period = try reader.integer(in: 1...86_400, "period")
    return TokenParameters(kind: kind, algorithm: algorithm, digits: Int(digits), period: Int(period))
  }

  private static func write(_ offer: DeliveryOffer, to writer: inout WireWriter) {
    writer.byte(offer.channel.rawValue)
    writer.text(offer.hint)
  }

  private static func readOffer(_ reader: inout WireReader) throws(WireError) -> DeliveryOffer {
    guard let channel = DeliveryChannel(rawValue: try reader.byte()) else { throw WireError("unknown channel") }
    return DeliveryOffer(channel: channel, hint: try reader.text())
  }

  private static func write(_ outcome: VerificationOutcome, to writer: inout WireWriter) {
    switch outcome {
    case .accepted(.code(let step)):
      writer.byte(1)
      writer.integer(step)
    case .accepted(.backupCode(let remaining)):
      writer.byte(2)
      writer.integer(Int64(remaining))
    case .accepted(.sentCode):
      writer.byte(5)
    case .rejected(let reason, let failures, let lockedUntil):
      writer.byte(3)
      switch reason {
      case .wrongCode:
        writer.byte(1)
        writer.integer(0)
      case .replayedCode(let step):
        writer.byte(2)
        writer.integer(step)
      case .replayedEnrollmentCode(let step):
        writer.byte(3)
        writer.integer(step)
      case .notACode:
        writer.byte(4)
        writer.integer(0)
      }
      writer.integer(Int64(failures))
      writer.integer(lockedUntil ?? -1)
    case .lockedOut(let until):
      writer.byte(4)
      writer.integer(until)
    }
  }

  /// Reads a reply; the error says what was wrong.
  public static func decode(_ message: [UInt8]) throws(WireError) -> AgentReply {
    var reader = WireReader(message)
    guard try reader.byte() == AgentProtocol.version else { throw WireError("unsupported protocol version") }
    let reply: AgentReply
    switch try reader.byte() {
    case 128:
      let parameters = try reader.flag() ? try readParameters(&reader) : nil
      reply = .enrollment(parameters, offer: try reader.flag() ? try readOffer(&reader) : nil)
    case 129:
      let kind = try readKind(&reader)
      reply = .verdict(try readOutcome(&reader), kind: kind)
    case 130: reply = .notEnrolled
    case 131: reply = .record(try reader.optionalSecret())
    case 132:
      // Each name takes at least three bytes of a page: its length and one byte.
      let count = try reader.integer(in: 0...Int64(AgentProtocol.namesPageBytes / 3), "name count")
      var names: [UserName] = []
      for _ in 0..<count { names.append(try reader.userName()) }
      reply = .names(names, more: try reader.flag())
    case 133: reply = .done(changed: try reader.flag())
    case 134:
      let count = try reader.integer(in: 0...1000, "status line count")
      var lines: [AgentStatusLine] = []
      for _ in 0..<count {
        let name = try reader.text()
        let healthy = try reader.flag()
        lines.append(AgentStatusLine(name: name, healthy: healthy, detail: try reader.text()))
      }
      reply = .status(lines)
    case 135: reply = .unavailable(try reader.text())
    case 136: reply = .refused(try reader.text())
    case 137: reply = .outdated
    case 138:
      let offer = try readOffer(&reader)
      reply = .sent(offer, lifetimeSeconds: Int(try reader.integer(in: 1...86_400, "lifetime")))
    case 139:
      let kind = try reader.byte()
      let until = try reader.integer(in: Int64(0)...UserRecord.latestTime, "time")
      switch (kind, until) {
      case (1, _): reply = .notSent(.cooldown(until: until))
      case (2, _): reply = .notSent(.userLimit(until: until))
      case (3, _): reply = .notSent(.sourceLimit(until: until))
      case (4, _): reply = .notSent(.lockedOut(until: until))
      case (5, 0): reply = .notSent(.noChannel)
      case (6, 0): reply = .notSent(.deliveryFailed)
      default: throw WireError("unknown refusal")
      }
    case 140:
      let parameters = try readParameters(&reader)
      reply = .invited(parameters, expires: try reader.integer(in: Int64(0)...UserRecord.latestTime, "expiry"))
    case 141:
      let uri = try reader.text()
      guard let qr = QRMatrix(encoded: try reader.field()) else { throw WireError("invalid QR code") }
      reply = .invitation(InvitationCard(uri: uri, qr: qr))
    case 142:
      let kind = try readKind(&reader)
      let outcome = try readOutcome(&reader)
      let count = try reader.integer(in: 0...Int64(BackupCodeHashes.maximumCount), "backup code count")
      var codes: [SecretBytes] = []
      for _ in 0..<count { codes.append(try reader.secret()) }
      reply = .tookUp(outcome, kind: kind, backupCodes: codes)
    default: throw WireError("unknown reply type")
    }
    try reader.finish()
    return reply
  }

  private static func readKind(_ reader: inout WireReader) throws(WireError) -> TokenKind {
    guard let kind = TokenKind(rawValue: try reader.text()) else { throw WireError("unknown token kind") }
    return kind
  }

  private static func readOutcome(_ reader: inout WireReader) throws(WireError) -> VerificationOutcome {
    let times = Int64(0)...UserRecord.latestTime
    switch try reader.byte() {
    case 1: return .accepted(.code(step: try reader.integer()))
    case 2:
      return .accepted(
        .backupCode(remaining: Int(try reader.integer(in: 0...Int64(BackupCodeHashes.maximumCount), "remaining"))))
    case 3:
      let kind = try reader.byte()
      let step = try reader.integer()
      let reason: RejectionReason
      switch (kind, step) {
      case (1, 0): reason = .wrongCode
      case (2, _): reason = .replayedCode(step: step)
      case (3, _): reason = .replayedEnrollmentCode(step: step)
      case (4, 0): reason = .notACode
      default: throw WireError("unknown rejection reason")
      }
      let failures = try reader.integer(in: 0...Int64(UserRecord.largestFailureCount), "failures")
      let lockedUntil = try reader.integer(in: -1...UserRecord.latestTime, "lockout end")
      return .rejected(reason, failures: Int(failures), lockedUntil: lockedUntil < 0 ? nil : lockedUntil)
    case 4: return .lockedOut(until: try reader.integer(in: times, "lockout end"))
    case 5: return .accepted(.sentCode)
    default: throw WireError("unknown outcome")
    }
  }
}
