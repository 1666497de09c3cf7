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
  private let logger: Logger

  init(
    path: String, hostKeyPath: String, timeoutSeconds: Int, deliverer: Deliverer?, limits: DeliveryLimits,
    logger: Logger
  ) {
    self.path = path
    self.hostKeyPath = hostKeyPath
    lockTimeoutMilliseconds = max(timeoutSeconds * 1000 - 500, 500)
    self.deliverer = deliverer
    self.limits = limits
    sources = SourceLimiter(limits: limits)
    self.logger = logger
  }

  func answer(_ request: AgentRequest) -> AgentReply {
    do {
      let store = try Store(path: path, hostKey: try HostKey(path: hostKeyPath, crypto: crypto))
      switch request {
      case .lookup(let user):
        let record = try store.enrollment(user)
        return .enrollment(record?.parameters, offer: record.flatMap(offer))
      case .verify(let request):
        let attempt = Attempt(code: request.code, backupCode: request.backupCode)
        let verifier = Verifier(policy: request.policy, crypto: crypto)
        // Both hashes are made before the lock is taken, as the module does.
        let digest = try store.enrollment(request.user)?.backupCodes.digest(of: attempt, crypto: crypto)
        let sentDigest = store.hostKey.flatMap { key in
          attempt.code?.withUnsafeBytes { key.digest(ofSentCode: $0, for: request.user) }
        }
        guard
          let (outcome, record) = try store.check(
            attempt, for: request.user, verifier: verifier, backupDigest: digest, sentDigest: sentDigest,
            now: SystemClock.now(), lockTimeoutMilliseconds: lockTimeoutMilliseconds)
        else { return .notEnrolled }
        return .verdict(outcome, kind: record.parameters.kind)
      case .send(let request): return try send(request, store: store)
      case .deliver(let user, let contact, let code): return deliver(code, to: contact, for: user)
      case .status:
        return .status([AgentStatusLine(name: "store", healthy: true, detail: "local store \(path)")])
      case .fetch, .store, .update, .remove, .list:
        return .refused("a local store is administered with lockstep directly (lockstep --store \(path))")
      }
    } catch {
      return .unavailable(error.description)
    }
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
    let who = "service=\(request.service) rhost=\(request.remoteHost) user=\(user)"
    guard let deliverer, let hostKey = store.hostKey else {
      logger.warning("no code sent: this agent sends none (no host key, or no 'email =' or 'sms ='); \(who)")
      return .notSent(.noChannel)
    }
    let now = SystemClock.now()
    let code: SecretBytes
    let contact: Contact
    do {
      let lock = try store.lock(user, timeoutMilliseconds: lockTimeoutMilliseconds)
      guard let record = try store.read(user, holding: lock), let found = record.contact else {
        logger.notice("no code sent: the user has no contact; \(who)")
        return .notSent(.noChannel)
      }
      if let why = deliverer.refusal(for: found) {
        logger.warning("no code sent: \(why); \(who)")
        return .notSent(.noChannel)
      }
      if let refusal = SentCode.refusal(of: record.state, limits: limits, now: now) {
        logger.notice("no code sent: \(Self.describe(refusal)); \(who)")
        return .notSent(refusal)
      }
      if let until = sources.take(request.remoteHost, now: now) {
        logger.warning("no code sent: the source address has had \(limits.sendsPerSource) codes in its window; \(who)")
        return .notSent(.sourceLimit(until: until))
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
    return deliver(code, to: contact, for: user, who: who)
  }

  /// Sends `code` to `contact` and logs the provider's answer (never the code).
  private func deliver(_ code: SecretBytes, to contact: Contact, for user: UserName, who: String? = nil) -> AgentReply {
    let who = who ?? "user=\(user) (confirming a new contact)"
    guard let deliverer else { return .notSent(.noChannel) }
    if let why = deliverer.refusal(for: contact) {
      logger.warning("no code sent: \(why); \(who)")
      return .notSent(.noChannel)
    }
    let text = code.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    do {
      let receipt = try deliverer.send(code: text, to: contact, lifetimeSeconds: limits.codeLifetimeSeconds)
      logger.notice(
        "sent a code by \(contact.channel.name) to \(contact.masked) (provider \(receipt.provider), message \(receipt.messageID ?? "-")); \(who)"
      )
      return .sent(
        DeliveryOffer(channel: contact.channel, hint: contact.hint), lifetimeSeconds: limits.codeLifetimeSeconds)
    } catch {
      logger.error("sending a code by \(contact.channel.name) to \(contact.masked) failed: \(error); \(who)")
      return .notSent(.deliveryFailed)
    }
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
