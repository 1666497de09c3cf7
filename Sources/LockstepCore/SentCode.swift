/// What a user's state holds about codes sent by email or SMS: the pending code, as a keyed
/// hash only (`SentCode.digest`), with its expiry and the wrong answers it can still take; and
/// the sends of the current window, which the limits count.
///
/// All zero (`SentCodeState()`) for a user who never had a code sent; such a state is written
/// in the older, shorter state slot (`StateSlot`).
public struct SentCodeState: Equatable, Sendable {
  /// HMAC-SHA256 of the pending code under the host key; empty when no code is pending.
  public var digest: [UInt8]
  /// Unix time at which the pending code stops working.
  public var expires: Int64
  /// Wrong answers the pending code can still take; the last one burns it.
  public var attemptsLeft: Int
  /// Unix time the current send window began.
  public var windowStart: Int64
  /// Codes sent since `windowStart`.
  public var sendsInWindow: Int
  /// Unix time of the last send; 0 if none.
  public var lastSend: Int64

  /// The length of `digest` when a code is pending.
  public static let digestLength = 32
  /// The largest count of attempts or sends a state holds.
  public static let largestCount = 10_000

  public init(
    digest: [UInt8] = [], expires: Int64 = 0, attemptsLeft: Int = 0, windowStart: Int64 = 0, sendsInWindow: Int = 0,
    lastSend: Int64 = 0
  ) {
    self.digest = digest
    self.expires = expires
    self.attemptsLeft = attemptsLeft
    self.windowStart = windowStart
    self.sendsInWindow = sendsInWindow
    self.lastSend = lastSend
  }

  /// Whether nothing was ever sent (or everything sent has been forgotten).
  public var isEmpty: Bool { self == SentCodeState() }

  /// Whether a code is pending and still good at `now`.
  public func isPending(at now: Int64) -> Bool {
    digest.count == Self.digestLength && now < expires && attemptsLeft > 0
  }

  /// Forgets the pending code (used, burnt or replaced), keeping the window's count.
  public mutating func dropPendingCode() {
    wipe(&digest)
    digest = []
    expires = 0
    attemptsLeft = 0
  }
}

/// Why a code is not sent.
public enum SendRefusal: Equatable, Sendable {
  /// The last code was sent less than the resend cooldown ago; another may go at `until`.
  case cooldown(until: Int64)
  /// The user has had `sends-per-user` codes in this window; the window ends at `until`.
  case userLimit(until: Int64)
  /// The source address has had `sends-per-source` codes in this window; it ends at `until`.
  case sourceLimit(until: Int64)
  /// The user is locked out until `until`: a code would be refused unchecked.
  case lockedOut(until: Int64)
  /// The user has no contact, or the agent sends by no channel the contact is on, or the
  /// contact is in a range the agent refuses (a premium-rate number, a country not allowed).
  case noChannel
  /// The provider did not take the message in time or refused it (the agent logs why).
  case deliveryFailed

  /// The refusal's `reason=` in the log format (pam_lockstep(8), LOG FORMAT).
  public var logReason: String {
    switch self {
    case .cooldown: "cooldown"
    case .userLimit: "user-limit"
    case .sourceLimit: "source-limit"
    case .lockedOut: "locked-out"
    case .noChannel: "no-channel"
    case .deliveryFailed: "failed"
    }
  }
}

/// The rules for sent codes, with no I/O: whether a send is allowed, what it changes in the
/// state, how a code is drawn and hashed.
public enum SentCode {
  /// Why `state` allows no send at `now` under `limits`, or `nil` when a code may be sent.
  public static func refusal(of state: LoginState, limits: DeliveryLimits, now: Int64) -> SendRefusal? {
    if state.lockedUntil != 0 && now < state.lockedUntil { return .lockedOut(until: state.lockedUntil) }
    let sent = state.sent
    if sent.lastSend != 0 && now < sent.lastSend.saturatingAdd(Int64(limits.resendCooldownSeconds)) {
      return .cooldown(until: sent.lastSend.saturatingAdd(Int64(limits.resendCooldownSeconds)))
    }
    let windowEnd = sent.windowStart.saturatingAdd(Int64(limits.sendWindowSeconds))
    if now < windowEnd && sent.sendsInWindow >= limits.sendsPerUser { return .userLimit(until: windowEnd) }
    return nil
  }

  /// Records a send at `now` of the code whose digest is `digest`: it replaces any pending
  /// code, and counts in the window (a new one when the last has ended).
  public static func recordSend(of digest: [UInt8], in state: inout LoginState, limits: DeliveryLimits, now: Int64) {
    var sent = state.sent
    sent.dropPendingCode()
    if now >= sent.windowStart.saturatingAdd(Int64(limits.sendWindowSeconds)) || now < sent.windowStart {
      sent.windowStart = now
      sent.sendsInWindow = 0
    }
    sent.sendsInWindow = min(sent.sendsInWindow + 1, SentCodeState.largestCount)
    sent.lastSend = now
    sent.digest = digest
    sent.expires = min(now.saturatingAdd(Int64(limits.codeLifetimeSeconds)), UserRecord.latestTime)
    sent.attemptsLeft = limits.attemptsPerCode
    state.sent = sent
  }

  /// A code of `digits` decimal digits, each uniform (random bytes of 250 or more are drawn
  /// again, so that no digit is likelier than another); `nil` if the generator failed.
  public static func make<Crypto: CryptoProvider>(digits: Int, crypto: Crypto) -> SecretBytes? {
    var code: [UInt8] = []
    while code.count < digits {
      guard var random = crypto.randomBytes(count: 16) else {
        wipe(&code)
        return nil
      }
      for byte in random where byte < 250 && code.count < digits {
        code.append(UInt8(ascii: "0") + byte % 10)
      }
      wipe(&random)
    }
    let result = SecretBytes(code)
    wipe(&code)
    return result
  }

  /// The keyed hash of `code` sent to `user`: HMAC-SHA256 over the user and the code, so that
  /// a digest copied onto another user's state does not match there, under a key of its own
  /// derived from the host key (HMAC-SHA256 of a label), which also seals the store's secrets.
  public static func digest<Crypto: CryptoProvider>(
    of code: UnsafeRawBufferPointer, for user: UserName, hostKey: SecretBytes, crypto: Crypto
  ) -> [UInt8] {
    var key = Array("lockstep sent-code key".utf8).withUnsafeBytes { label in
      hostKey.withUnsafeBytes { crypto.hmac(.sha256, key: $0, message: label) }
    }
    var message = user.bytes
    message.append(0)
    message.append(contentsOf: code)
    defer {
      wipe(&key)
      wipe(&message)
    }
    return message.withUnsafeBytes { bytes in key.withUnsafeBytes { crypto.hmac(.sha256, key: $0, message: bytes) } }
  }
}
