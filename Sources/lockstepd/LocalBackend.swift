import LockstepCore
import LockstepDelivery
import LockstepNettle
import LockstepPlatform
import Logging

/// One host's store directory, served by the agent: logins are checked exactly as the module
/// checks them without an agent (`Store.check`). Administration of a local store stays with
/// `lockstep` itself, which works on the directory directly.
///
/// With delivery configured (`email =`, `sms =`), it also sends users their codes: the send is
/// decided and recorded under the user's lock (the limits, the new code's keyed hash), and the
/// provider is spoken to after the lock is released, so that a slow provider holds up no login.
final class LocalBackend: Backend, @unchecked Sendable {
  private let path: String
  /// The host key's file (see `HostKey`).
  private let hostKeyPath: String
  /// How long a login waits for another's lock on the same user: under the agent's
  /// `timeout`, so that the module hears the agent's answer rather than timing out itself.
  private let lockTimeoutMilliseconds: Int
  private let crypto = NettleCrypto()
  /// What sends codes, when this agent sends any.
  private let deliverer: Deliverer?
  private let limits: DeliveryLimits
  private let sources: SourceLimiter
  private let events: AgentEvents

  init(
    path: String, hostKeyPath: String, timeoutSeconds: Int, deliverer: Deliverer?, limits: DeliveryLimits,
    events: AgentEvents
  ) {
    self.path = path
    self.hostKeyPath = hostKeyPath
    lockTimeoutMilliseconds = max(timeoutSeconds * 1000 - 500, 500)
    self.deliverer = deliverer
    self.limits = limits
    sources = SourceLimiter(limits: limits)
    self.events = events
  }

  func answer(_ request: AgentRequest) -> AgentReply {
    do {
      let store = try Store(path: path, hostKey: try HostKey(path: hostKeyPath, crypto: crypto))
      switch request {
      case .lookup(let user):
        let record = try store.enrollment(user)
        if let record, let invitation = record.invitation {
          return .invited(record.parameters, expires: invitation.expires)
        }
        return .enrollment(record?.parameters, offer: record.flatMap(offer))
      case .invitation(let user):
        let card = try openInvitation(of: user, in: store)?.invitationCard(for: user)
        return card.map { .invitation($0) } ?? .notEnrolled
      case .takeUp(let request): return try takeUp(request, in: store)
      case .verify(let request):
        let attempt = Attempt(code: request.code, backupCode: request.backupCode)
        let verifier = Verifier(policy: request.policy, crypto: crypto)
        // Both hashes are made before the lock is taken, as the module does.
        let digest = try store.enrollment(request.user)?.backupCodes.digest(of: attempt, crypto: crypto)
        let sentDigest = store.hostKey.flatMap { key in
          attempt.code?.withUnsafeBytes { key.digest(ofSentCode: $0, for: request.user) }
        }
        let reply: AgentReply
        if let (outcome, record) = try store.check(
          attempt, for: request.user, verifier: verifier, backupDigest: digest, sentDigest: sentDigest,
          now: SystemClock.now(), lockTimeoutMilliseconds: lockTimeoutMilliseconds)
        {
          reply = .verdict(outcome, kind: record.parameters.kind)
        } else {
          reply = .notEnrolled
        }
        events.verdict(reply, for: request)
        return reply
      case .send(let request): return try send(request, store: store)
      case .deliver(let user, let contact, let code):
        return deliver(code, to: contact, Who(user: user, confirming: true))
      case .status:
        return .status([AgentStatusLine(name: "store", healthy: true, detail: "local store \(path)")])
      case .fetch, .store, .update, .remove, .list:
        return .refused("a local store is administered with lockstep directly (lockstep --store \(path))")
      }
    } catch {
      return .unavailable(error.description)
    }
  }

  /// `user`'s record when it is an invitation still open.
  private func openInvitation(of user: UserName, in store: Store) throws(StoreError) -> UserRecord? {
    guard let record = try store.enrollment(user), record.invitation?.isOpen(at: SystemClock.now()) ?? false else {
      return nil
    }
    return record
  }

  /// Takes up the user's invitation as the module does on a store it reads itself
  /// (`Store.takeUp`), the new backup codes made before the lock.
  private func takeUp(_ request: VerifyRequest, in store: Store) throws(StoreError) -> AgentReply {
    guard let record = try openInvitation(of: request.user, in: store) else {
      events.verdict(.notEnrolled, for: request)
      return .notEnrolled
    }
    let attempt = Attempt(code: request.code, backupCode: nil)
    let verifier = Verifier(policy: request.policy, crypto: crypto)
    let now = SystemClock.now()
    guard let issued = verifier.backupCodes(forTakingUp: record, with: attempt, now: now) else {
      return .unavailable("getrandom failed")
    }
    let reply: AgentReply
    if let (outcome, _) = try store.takeUp(
      attempt, for: request.user, verifier: verifier, backupCodes: issued.hashes, now: now,
      lockTimeoutMilliseconds: lockTimeoutMilliseconds)
    {
      let accepted = if case .accepted = outcome { true } else { false }
      reply = .tookUp(
        outcome, kind: record.parameters.kind, backupCodes: accepted ? issued.codes.map { SecretBytes($0) } : [])
    } else {
      reply = .notEnrolled
    }
    events.verdict(reply, for: request)
    return reply
  }

  /// How `record`'s user can have a code sent, if this agent can send one there.
  private func offer(for record: UserRecord) -> DeliveryOffer? {
    guard let contact = record.contact, let deliverer, deliverer.refusal(for: contact) == nil else { return nil }
    return DeliveryOffer(channel: contact.channel, hint: contact.hint)
  }

  /// Sends a login's code: refused when the source address, the user's window or the resend
  /// cooldown says so, or the user is locked out; otherwise a new code replaces any pending
  /// one, its hash is stored, and only then is it sent.
  private func send(_ request: SendRequest, store: Store) throws(StoreError) -> AgentReply {
    let user = request.user
    let who = Who(service: request.service, rhost: request.remoteHost, user: user)
    guard let deliverer, let hostKey = store.hostKey else {
      refused(
        .warning, "this agent sends none (no host key, or no 'email =' or 'sms =')", reason: "no-channel", who)
      return .notSent(.noChannel)
    }
    let now = SystemClock.now()
    let code: SecretBytes
    let contact: Contact
    do {
      let lock = try store.lock(user, timeoutMilliseconds: lockTimeoutMilliseconds)
      guard let record = try store.read(user, holding: lock), let found = record.contact else {
        refused(.notice, "the user has no contact", reason: "no-contact", who)
        return .notSent(.noChannel)
      }
      if let why = deliverer.refusal(for: found) {
        refused(.warning, why, reason: "destination", who, channel: found.channel)
        return .notSent(.noChannel)
      }
      if let refusal = SentCode.refusal(of: record.state, limits: limits, now: now) {
        refused(.notice, Self.describe(refusal), reason: refusal.logReason, who, channel: found.channel)
        return .notSent(refusal)
      }
      if let until = sources.take(request.remoteHost, now: now) {
        let refusal = SendRefusal.sourceLimit(until: until)
        refused(
          .warning, "the source address has had \(limits.sendsPerSource) codes in its window",
          reason: refusal.logReason, who, channel: found.channel)
        return .notSent(refusal)
      }
      guard let made = SentCode.make(digits: record.parameters.digits, crypto: crypto) else {
        return .unavailable("getrandom failed")
      }
      var updated = record
      let digest = made.withUnsafeBytes { hostKey.digest(ofSentCode: $0, for: user) }
      SentCode.recordSend(of: digest, in: &updated.state, limits: limits, now: now)
      try store.save(updated, over: record, holding: lock)
      code = made
      contact = found
    }
    return deliver(code, to: contact, who)
  }

  /// Who a send is for: the login's service and source, or none when the send confirms a new
  /// contact at enrollment (`confirm=yes`).
  private struct Who {
    var service = "-"
    var rhost = "-"
    let user: UserName
    /// Whether the send confirms a new contact (`lockstep enroll --email`), not a login's.
    var confirming = false
  }

  /// Sends `code` to `contact` and logs the provider's answer (never the code), with how long
  /// the provider took (`ms=`).
  private func deliver(_ code: SecretBytes, to contact: Contact, _ who: Who) -> AgentReply {
    guard let deliverer else { return .notSent(.noChannel) }
    if let why = deliverer.refusal(for: contact) {
      refused(.warning, why, reason: "destination", who, channel: contact.channel)
      return .notSent(.noChannel)
    }
    let text = code.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    let started = MonotonicClock.now()
    func delivery(_ message: String, _ outcome: String) -> LogLine {
      let milliseconds = Int((MonotonicClock.now() &- started) / 1_000_000)
      return LogLine(message, event: "delivery", outcome: outcome).with("channel", contact.channel.name)
        .with("ms", milliseconds)
    }
    do {
      let receipt = try deliverer.send(code: text, to: contact, lifetimeSeconds: limits.codeLifetimeSeconds)
      record(
        .notice,
        delivery(
          "sent a code by \(contact.channel.name) to \(contact.masked) (provider \(receipt.provider), message \(receipt.messageID ?? "-"))",
          "sent"
        ).with("provider", receipt.provider).with("id", receipt.messageID ?? "-"), who)
      return .sent(
        DeliveryOffer(channel: contact.channel, hint: contact.hint), lifetimeSeconds: limits.codeLifetimeSeconds)
    } catch {
      record(
        .error,
        delivery("sending a code by \(contact.channel.name) to \(contact.masked) failed: \(error)", "failed")
          .with("reason", "provider"), who)
      return .notSent(.deliveryFailed)
    }
  }

  /// Logs a send refused before any provider was asked.
  private func refused(
    _ level: Logger.Level, _ why: String, reason: String, _ who: Who, channel: DeliveryChannel? = nil
  ) {
    var line = LogLine("no code sent: \(why)", event: "delivery", outcome: "refused")
    if let channel { line = line.with("channel", channel.name) }
    record(level, line.with("reason", reason), who)
  }

  private func record(_ level: Logger.Level, _ line: LogLine, _ who: Who) {
    let line = who.confirming ? line.with("confirm", "yes") : line
    events.record(level, events.by(line, service: who.service, rhost: who.rhost, user: who.user))
  }

  private static func describe(_ refusal: SendRefusal) -> String {
    switch refusal {
    case .cooldown(let until): return "a code was sent within the resend cooldown (next at \(until))"
    case .userLimit(let until): return "the user's send limit is reached (until \(until))"
    case .sourceLimit(let until): return "the source's send limit is reached (until \(until))"
    case .lockedOut(let until): return "the user is locked out (until \(until))"
    case .noChannel: return "no channel"
    case .deliveryFailed: return "the provider failed"
    }
  }
}
