internal import CPAM
import LockstepCore
import LockstepNettle
import LockstepPlatform

/// One run of `pam_sm_authenticate`: the data path of a login, from the module's arguments to
/// a PAM code.
///
/// The name is resolved to its account's own name; the record is read once without the lock
/// to decide whether to prompt at all; the user then answers with no lock held (a user who
/// leaves the prompt open blocks no one); a backup code is hashed, still without the lock; the
/// record is read again under the user's lock (waited for with a deadline), the answer
/// verified, and the new state written before the lock is released. Every refusal of an answer
/// is returned no sooner than `fail_delay` after the answer arrived, and enrolled and
/// unenrolled users are refused with the same code, so that neither the time nor the answer
/// tells who is enrolled. Every failure becomes a PAM code and a log line; nothing here traps.
///
/// With `agent=`, lockstepd holds the records: the module asks it whether the user is enrolled
/// before the prompt, and hands it the answer to check and record; each exchange has the
/// `agent_timeout` deadline, and an agent that fails to answer fails the login closed. When the
/// agent can send the user a code (by email or SMS), the prompt says so, and an empty answer
/// has the agent send one (within `send_timeout`) before the prompt comes again.
final class Authentication {
  let session: PAMSession
  let options: ModuleOptions
  let verifier: Verifier<NettleCrypto>
  /// When the answer being checked arrived (the monotonic clock), once there is one.
  private var answeredAt: UInt64?

  init(session: PAMSession, options: ModuleOptions) {
    self.session = session
    self.options = options
    verifier = Verifier(policy: VerificationPolicy(options), crypto: NettleCrypto())
  }

  func run() -> PAMCode {
    let code = decide()
    if let answeredAt, code != .success, code != .ignore {
      let delay = UInt64(options.failDelayMilliseconds) &* 1_000_000
      MonotonicClock.sleep(until: answeredAt &+ delay, longest: delay)
    }
    return code
  }

  private func decide() -> PAMCode {
    guard options.problems.isEmpty else {
      for problem in options.problems {
        log(
          LOG_ERR,
          LogLine("configuration error: \(problem); refusing to authenticate", event: "login", outcome: "error")
            .with("reason", "config"), user: "-")
      }
      return .serviceError
    }
    if options.debug { session.log(LOG_DEBUG, "configuration: \(options.summary)") }
    let rawUser: [UInt8]
    switch session.user() {
    case .success(let name): rawUser = name
    case .failure(let code): return code
    }
    guard let given = UserName(bytes: rawUser) else {
      log(LOG_NOTICE, refused("refusing an unusable user name", "bad-name"), user: LogText.field(rawUser))
      return .authError
    }
    // The record is the account's: sshd, su and login accept every name the user database
    // resolves to it (`ALICE` for alice in a case-insensitive directory).
    let user: UserName
    var alias: UserName?
    switch Accounts.resolve(given) {
    case .canonical, .unknown: user = given
    case .alias(let account):
      user = account
      alias = given
      log(
        LOG_NOTICE,
        LogLine("the name \(given) given is another name of this account", event: "alias").with(
          "given", given.description),
        user: account.description)
    case .lookupFailed(let error):
      log(LOG_ERR, failedClosed("the user database could not be read (\(error))", "accounts"), user: given.description)
      return .authInfoUnavailable
    }
    let source: RecordSource
    let digits: Int
    if let socket = options.agent {
      switch exchange(.lookup(user), agent: socket, user: user) {
      case .failure(let code): return code
      case .success(.enrollment(let parameters?, let offer)):
        source = .agent(socket, offer: offer)
        digits = parameters.digits
        if offer != nil, options.sendAtOnce, parameters.kind == .delivered {
          sendCode(to: user, agent: socket)
        }
      case .success(.enrollment(nil, _)): return unenrolled(user, alias: alias)
      case .success(.invited(let parameters, let expires)):
        return invited(user, alias: alias, expires: expires, digits: parameters.digits, at: .agent(socket))
      case .success: return unexpectedReply(user: user)
      }
    } else {
      let store: Store
      let enrolled: UserRecord?
      do {
        store = try Store(path: options.store, hostKey: try HostKey(path: options.hostKey, crypto: verifier.crypto))
        enrolled = try store.enrollment(user)
      } catch {
        log(LOG_ERR, failedClosed(error.description, "store"), user: user.description)
        return .authInfoUnavailable
      }
      guard let enrolled else { return unenrolled(user, alias: alias) }
      if let invitation = enrolled.invitation {
        return invited(
          user, alias: alias, expires: invitation.expires, digits: enrolled.parameters.digits,
          at: .store(store, enrolled, invitation))
      }
      source = .store(store, enrolled)
      digits = enrolled.parameters.digits
    }
    return authenticate(user, source: source, digits: digits)
  }

  /// Where the user's record is: read from the local store (with the record read before the
  /// prompt), or kept by lockstepd (`agent=`), which checks the answer itself and, with an
  /// `offer`, can send the user a code.
  private enum RecordSource {
    case store(Store, UserRecord)
    case agent(String, offer: DeliveryOffer?)
  }

  /// One exchange with the agent, all of it within `seconds` (`agent_timeout` unless given). An
  /// agent that cannot be reached, does not answer in time, or cannot reach its own store fails
  /// the login closed, with the reason in the log; for a send, only the send fails.
  private func exchange(
    _ request: AgentRequest, agent socket: String, user: UserName, seconds: Int? = nil
  ) -> Result<AgentReply, PAMCode> {
    let deadline = MonotonicClock.now() &+ UInt64(seconds ?? options.agentTimeoutSeconds) &* 1_000_000_000
    // A send that fails costs only the send; anything else fails the login closed.
    func failure(_ why: String) -> LogLine {
      if case .send = request {
        return LogLine("\(why); no code sent", event: "send", outcome: "error").with("reason", "agent")
      }
      return failedClosed(why, "agent")
    }
    let reply: AgentReply
    do {
      reply = try AgentConnection.connect(to: socket, deadline: deadline).exchange(request, deadline: deadline)
    } catch {
      log(LOG_ERR, failure("\(error)"), user: user.description)
      return .failure(.authInfoUnavailable)
    }
    switch reply {
    case .unavailable(let why):
      log(LOG_ERR, failure("the agent cannot decide: \(ModuleOptions.printable(why))"), user: user.description)
      return .failure(.authInfoUnavailable)
    case .refused(let why):
      log(LOG_ERR, failure("the agent refused the request: \(ModuleOptions.printable(why))"), user: user.description)
      return .failure(.authInfoUnavailable)
    default: return .success(reply)
    }
  }

  private func unexpectedReply(user: UserName) -> PAMCode {
    log(LOG_ERR, failedClosed("the agent's answer does not fit the request", "agent"), user: user.description)
    return .authInfoUnavailable
  }

  /// A user without a record: let through by this module with `nullok` (when the name given is
  /// the account's own), otherwise prompted like everyone else (so the prompt does not reveal
  /// who is enrolled) and refused.
  private func unenrolled(_ user: UserName, alias: UserName?) -> PAMCode {
    if options.nullok && alias == nil {
      if options.debug {
        log(
          LOG_DEBUG,
          LogLine("not enrolled; ignored (nullok)", event: "login", outcome: "ignored").with("reason", "not-enrolled"),
          user: user.description)
      }
      if options.forwardPass { forwardWholeAnswer() }
      return .ignore
    }
    if case .failure(let code) = obtainAttempt(digits: TokenParameters.standard.digits) { return code }
    if let alias, options.nullok {
      log(
        LOG_NOTICE,
        refused(
          "refused: the name \(alias) given is another name of this account, which is not enrolled "
            + "(nullok applies to an account's own name only)", "alias-not-enrolled"), user: user.description)
    } else {
      log(LOG_NOTICE, refused("refused: user is not enrolled", "not-enrolled"), user: user.description)
    }
    return .authError
  }

  /// Where an invitation is: in the record read from the local store, or kept by the agent.
  private enum InvitationSource {
    case store(Store, UserRecord, Invitation)
    case agent(String)
  }

  /// A user whose record is an invitation (until `expires`): taken up here with `invitations`
  /// (the name given being the account's own, the invitation open), from the local store or
  /// through the agent; otherwise the user is not enrolled.
  private func invited(
    _ user: UserName, alias: UserName?, expires: Int64, digits: Int, at source: InvitationSource
  ) -> PAMCode {
    guard SystemClock.now() < expires else {
      log(
        LOG_NOTICE,
        LogLine("the invitation expired at \(time(expires))", event: "invitation", outcome: "expired")
          .with("until", expires), user: user.description)
      return unenrolled(user, alias: alias)
    }
    guard options.invitations, alias == nil else {
      log(
        LOG_INFO,
        LogLine(
          "has an invitation, which this stack does not take up (no 'invitations', or another name of the account)",
          event: "invitation", outcome: "ignored"), user: user.description)
      return unenrolled(user, alias: alias)
    }
    let gone = "the invitation was taken up or withdrawn during the login"
    let card: InvitationCard
    switch source {
    case .store(_, let record, let invitation): card = invitation.card(for: user, of: record)
    case .agent(let socket):
      switch exchange(.invitation(user), agent: socket, user: user) {
      case .failure(let code): return code
      case .success(.invitation(let shown)): card = shown
      case .success(.notEnrolled):
        log(LOG_NOTICE, refused("refused: \(gone)", "record-gone"), user: user.description)
        return .authError
      case .success: return unexpectedReply(user: user)
      }
    }
    session.inform(
      "Set up a one-time code for \(ModuleOptions.printable(String(decoding: user.bytes, as: UTF8.self))): scan "
        + "this QR code with your authenticator app, or enter the key URI below, then type the code the app shows.")
    session.inform(card.qr.rendered(inverted: true, colours: false))
    session.inform(card.uri)
    let attempt: Attempt
    switch obtainAttempt(digits: digits, prompt: "Verification code from your authenticator app: ") {
    case .failure(let code): return code
    case .success(let answer): attempt = answer
    }
    // The code is checked at the time it was typed: scanning the QR code takes a while.
    let now = SystemClock.now()
    let outcome: VerificationOutcome
    let kind: TokenKind
    let codes: [String]
    switch source {
    case .store(let store, let record, _):
      guard let issued = verifier.backupCodes(forTakingUp: record, with: attempt, now: now) else {
        log(LOG_ERR, failedClosed("backup codes could not be made (getrandom)", "random"), user: user.description)
        return .authInfoUnavailable
      }
      switch locked(
        user, gone: gone,
        { () throws(StoreError) in
          try store.takeUp(
            attempt, for: user, verifier: verifier, backupCodes: issued.hashes, now: now,
            lockTimeoutMilliseconds: options.lockTimeoutSeconds * 1000)
        })
      {
      case .failure(let code): return code
      case .success(let (taken, _)): outcome = taken
      }
      kind = record.parameters.kind
      codes = issued.codes.map { String(decoding: $0, as: UTF8.self) }
    case .agent(let socket):
      // No backup code applies to a take-up: only the code goes to the agent.
      guard let request = agentRequest(Attempt(code: attempt.code), for: user) else { return .authInfoUnavailable }
      switch exchange(.takeUp(request), agent: socket, user: user) {
      case .failure(let code): return code
      case .success(.tookUp(let taken, let tokenKind, let backupCodes)):
        (outcome, kind) = (taken, tokenKind)
        codes = backupCodes.map { code in code.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
      case .success(.notEnrolled):
        log(LOG_NOTICE, refused("refused: \(gone)", "record-gone"), user: user.description)
        return .authError
      case .success: return unexpectedReply(user: user)
      }
    }
    let code = report(outcome, user: user, kind: kind, now: now)
    guard case .accepted = outcome else { return code }
    log(
      LOG_NOTICE,
      LogLine(
        "took up the invitation: enrolled, with \(codes.count) backup codes", event: "invitation", outcome: "accepted"
      )
      .with("left", codes.count), user: user.description)
    if codes.isEmpty {
      // The check before the lock saw no right code, the one under it did (nothing was hashed),
      // or the agent answered a retried request again.
      session.inform("You are enrolled. Ask an administrator for backup codes (lockstep backup-codes).")
    } else {
      session.inform(
        "You are enrolled. Your backup codes, each good for one login without the app (shown only now; keep them safe):\n"
          + codes.joined(separator: "\n"))
    }
    return code
  }

  /// With `forward_pass` and `nullok`, an unenrolled user has no code to type, but the modules
  /// after this one still expect the password: ask for it, and hand it on whole.
  private func forwardWholeAnswer() {
    guard case .success(let password) = session.ask("Password: ", echo: false) else { return }
    _ = session.setStackedPassword(password)
  }

  private func authenticate(_ user: UserName, source: RecordSource, digits: Int) -> PAMCode {
    if options.firstPass != .none, let stacked = session.stackedPassword() {
      answeredAt = MonotonicClock.now()
      let attempt = stacked.withUnsafeBytes { Attempt.typed($0) }
      if attempt.couldBeCode(digits: digits) {
        let code = check(attempt, for: user, in: source)
        if code == .success || options.firstPass == .useFirstPass { return code }
      } else if options.firstPass == .useFirstPass {
        log(
          LOG_NOTICE, refused("refused: the stacked password is not a code (use_first_pass)", "password-not-a-code"),
          user: user.description)
        return .authError
      }
    } else if options.firstPass == .useFirstPass {
      log(
        LOG_NOTICE, refused("refused: no stacked password to use (use_first_pass)", "no-password"),
        user: user.description)
      return .authError
    }
    guard case .agent(let socket, let offer?) = source, !options.forwardPass else {
      switch obtainAttempt(digits: digits) {
      case .failure(let code): return code
      case .success(let attempt): return check(attempt, for: user, in: source)
      }
    }
    // An empty answer asks for a code to be sent; after a few, it is refused like any answer
    // that is not a code. Once one is sent, the prompt just asks for it (Enter still sends a
    // new one).
    var sent = false
    for round in 1...Self.promptsWithSend {
      switch obtainAttempt(digits: digits, prompt: options.prompt(offering: sent ? nil : offer)) {
      case .failure(let code): return code
      case .success(let attempt) where round < Self.promptsWithSend && attempt.isEmpty:
        sent = sendCode(to: user, agent: socket) || sent
      case .success(let attempt): return check(attempt, for: user, in: source)
      }
    }
    return .authError  // Not reached: the last round returns.
  }

  /// How many times a login prompts when the user can have codes sent: each empty answer but
  /// the last asks for one.
  private static let promptsWithSend = 4

  /// Prompts for the code (or, with `forward_pass`, the password and code together), and notes
  /// when the answer arrived.
  private func obtainAttempt(digits: Int, prompt: String? = nil) -> Result<Attempt, PAMCode> {
    switch session.ask(prompt ?? options.effectivePrompt, echo: options.echo) {
    case .failure(let code): return .failure(code)
    case .success(let answer):
      answeredAt = MonotonicClock.now()
      return .success(
        answer.withUnsafeBytes { options.forwardPass ? Attempt.forwarded($0, digits: digits) : Attempt.typed($0) })
    }
  }

  /// Has the agent send the user a code, and tells the user what became of it: sent, and for
  /// how long it is good; or not, and what to do instead. A send that fails in any way leaves
  /// the login going: the user can still type a backup code. Returns whether a code was sent.
  @discardableResult
  private func sendCode(to user: UserName, agent socket: String) -> Bool {
    let request = SendRequest(user: user, service: session.service(), remoteHost: session.remoteHost())
    let couldNot = "Could not send a code; use a backup code or try again later."
    let now = SystemClock.now()
    switch exchange(.send(request), agent: socket, user: user, seconds: options.sendTimeoutSeconds) {
    case .success(.sent(let sent, let lifetime)):
      let minutes = max(1, (lifetime + 59) / 60)
      log(
        LOG_INFO,
        LogLine("the agent sent a code by \(sent.channel.name)", event: "send", outcome: "sent")
          .with("channel", sent.channel.name), user: user.description)
      session.inform(
        "Code sent by \(sent.channel.name) to \(ModuleOptions.printable(sent.hint)); "
          + "it expires in \(minutes) minute\(minutes == 1 ? "" : "s").")
      return true
    case .success(.notSent(let refusal)):
      switch refusal {
      case .cooldown(let until):
        log(LOG_NOTICE, notSent("one was sent less than the resend cooldown ago", refusal), user: user.description)
        session.tell("A code was sent moments ago; wait \(max(1, until - now)) seconds before asking for another.")
      case .userLimit(let until), .sourceLimit(let until):
        let which = refusal == .userLimit(until: until) ? "user" : "source address"
        log(LOG_NOTICE, notSent("the \(which)'s send limit is reached", refusal), user: user.description)
        let minutes = max(1, (until - now + 59) / 60)
        session.tell(
          "Too many codes were sent; try again in \(minutes) minute\(minutes == 1 ? "" : "s"), or use a backup code.")
      case .lockedOut(let until):
        log(
          LOG_NOTICE, notSent("locked out until \(time(until))", refusal).with("until", until), user: user.description)
        if options.lockoutMessage {
          tellLockedOut(until: until, now: now, justNow: false)
        } else {
          session.tell(couldNot)
        }
      case .noChannel, .deliveryFailed:
        log(LOG_NOTICE, notSent("the agent could not send one (its log says why)", refusal), user: user.description)
        session.tell(couldNot)
      }
    case .success, .failure: session.tell(couldNot)
    }
    return false
  }

  /// Checks `attempt` where the record is, and reports the outcome.
  private func check(_ attempt: Attempt, for user: UserName, in source: RecordSource) -> PAMCode {
    switch source {
    case .store(let store, let enrollment): return check(attempt, for: user, in: store, enrollment: enrollment)
    case .agent(let socket, _): return check(attempt, for: user, agent: socket)
    }
  }

  /// Has the agent check `attempt` and record its outcome, under a fresh nonce (see
  /// `VerifyRequest`). Only the candidates go to the agent; a password typed in front of them
  /// (`forward_pass`) stays here.
  private func check(_ attempt: Attempt, for user: UserName, agent socket: String) -> PAMCode {
    guard let request = agentRequest(attempt, for: user) else { return .authInfoUnavailable }
    switch exchange(.verify(request), agent: socket, user: user) {
    case .failure(let code): return code
    case .success(.verdict(let outcome, let kind)):
      forwardPassword(of: attempt, outcome: outcome)
      return report(outcome, user: user, kind: kind, now: SystemClock.now())
    case .success(.notEnrolled):
      log(
        LOG_NOTICE, refused("refused: the record disappeared during the login", "record-gone"), user: user.description)
      return .authError
    case .success: return unexpectedReply(user: user)
    }
  }

  /// The request that hands `attempt`'s candidates to the agent under a fresh nonce (see
  /// `VerifyRequest`), with this module's limits; `nil`, logged, when getrandom fails.
  private func agentRequest(_ attempt: Attempt, for user: UserName) -> VerifyRequest? {
    guard let nonce = SystemRandom.bytes(count: AgentProtocol.nonceLength) else {
      log(LOG_ERR, failedClosed("getrandom failed", "random"), user: user.description)
      return nil
    }
    return VerifyRequest(
      nonce: nonce, user: user, service: session.service(), remoteHost: session.remoteHost(), code: attempt.code,
      backupCode: attempt.backupCode, policy: verifier.policy)
  }

  /// Verifies `attempt` under the user's lock and stores the new state. A backup code is
  /// hashed first, under the salt of the record read before the prompt, so that the slow hash
  /// never holds the lock.
  private func check(_ attempt: Attempt, for user: UserName, in store: Store, enrollment: UserRecord) -> PAMCode {
    let digest = enrollment.backupCodes.digest(of: attempt, crypto: verifier.crypto)
    let now = SystemClock.now()
    let (outcome, record): (VerificationOutcome, UserRecord)
    switch locked(
      user, gone: "the record disappeared during the login",
      { () throws(StoreError) in
        try store.check(
          attempt, for: user, verifier: verifier, backupDigest: digest, now: now,
          lockTimeoutMilliseconds: options.lockTimeoutSeconds * 1000)
      })
    {
    case .failure(let code): return code
    case .success(let checked): (outcome, record) = checked
    }
    noteClock(of: record, now: now, user: user)
    forwardPassword(of: attempt, outcome: outcome)
    return report(outcome, user: user, kind: record.parameters.kind, now: now)
  }

  /// One step under the user's lock (`Store.check`, `Store.takeUp`): a store that fails fails
  /// the login closed; no record to check (`gone` says why) refuses it.
  private func locked(
    _ user: UserName, gone: String,
    _ step: () throws(StoreError) -> (outcome: VerificationOutcome, record: UserRecord)?
  ) -> Result<(VerificationOutcome, UserRecord), PAMCode> {
    let result: (outcome: VerificationOutcome, record: UserRecord)?
    do {
      result = try step()
    } catch {
      log(LOG_ERR, failedClosed("\(error)", "store"), user: user.description)
      return .failure(.authInfoUnavailable)
    }
    guard let result else {
      log(LOG_NOTICE, refused("refused: \(gone)", "record-gone"), user: user.description)
      return .failure(.authError)
    }
    return .success((result.outcome, result.record))
  }

  /// Passes the password typed in front of the code on to the next module (`forward_pass`).
  private func forwardPassword(of attempt: Attempt, outcome: VerificationOutcome) {
    guard options.forwardPass else { return }
    let password: SecretBytes?
    if case .accepted(.backupCode) = outcome {
      password = attempt.passwordBeforeBackupCode
    } else {
      password = attempt.passwordBeforeCode ?? attempt.passwordBeforeBackupCode
    }
    if let password { _ = session.setStackedPassword(password) }
  }

  /// Logs the outcome and returns its PAM code. A locked-out user gets `PAM_AUTH_ERR`, like
  /// every other refusal: the log says it was a lockout, the answer does not.
  private func report(_ outcome: VerificationOutcome, user: UserName, kind: TokenKind, now: Int64) -> PAMCode {
    let name = user.description
    func line(_ message: String) -> LogLine { LogLine(message, event: "login", verdict: outcome, kind: kind) }
    switch outcome {
    case .accepted(.code(let step)):
      log(LOG_INFO, line("accepted verification code (\(kind == .totp ? "time step" : "counter") \(step))"), user: name)
      return .success
    case .accepted(.backupCode(let remaining)):
      log(LOG_NOTICE, line("accepted backup code (\(remaining) left)"), user: name)
      return .success
    case .accepted(.sentCode):
      log(LOG_INFO, line("accepted the code sent to the user"), user: name)
      return .success
    case .rejected(let reason, let failures, let lockedUntil):
      let what: String
      switch reason {
      case .wrongCode: what = "wrong verification code"
      case .replayedCode(let step): what = "replayed verification code (time step \(step) was already used)"
      case .replayedEnrollmentCode(let step):
        log(
          LOG_NOTICE,
          line(
            "refused: replayed verification code (time step \(step) confirmed the enrollment; not counted as a failure)"
          ),
          user: name)
        return .authError
      case .notACode:
        log(LOG_NOTICE, line("refused: the answer is not a code (not counted as a failure)"), user: name)
        return .authError
      }
      log(
        LOG_NOTICE,
        line("refused: \(what); failure \(failures) of \(options.maxFailures)").with("max", options.maxFailures),
        user: name)
      if let lockedUntil {
        log(
          LOG_WARNING,
          .lockout(
            "locked out for \(options.lockoutSeconds) seconds, until \(time(lockedUntil)), after \(failures) consecutive failures",
            failures: failures, until: lockedUntil
          ).with("seconds", options.lockoutSeconds), user: name)
        tellLockedOut(until: lockedUntil, now: now, justNow: true)
      }
      return .authError
    case .lockedOut(let until):
      log(LOG_NOTICE, line("refused unchecked: locked out until \(time(until))"), user: name)
      tellLockedOut(until: until, now: now, justNow: false)
      return .authError
    }
  }

  /// With `lockout_message`, tells the user that codes are refused for now and for how long,
  /// and whether the code just typed started that (it was checked) or not (it was not).
  private func tellLockedOut(until: Int64, now: Int64, justNow: Bool) {
    guard options.lockoutMessage else { return }
    let minutes = max(1, (until - now + 59) / 60)
    let why = justNow ? "That wrong code was one too many" : "Too many wrong verification codes"
    session.tell(
      "\(why): codes are refused for \(minutes) minute\(minutes == 1 ? "" : "s"). "
        + "An administrator can unlock the account sooner.")
  }

  /// Warns when the clock is behind the last accepted time step: codes cannot work until it
  /// catches up, and a clock set back is how replays would be attempted.
  private func noteClock(of record: UserRecord, now: Int64, user: UserName) {
    guard record.parameters.kind == .totp, let last = record.lastStep else { return }
    let current = verifier.currentStep(of: record, at: now)
    if current < last {
      log(
        LOG_WARNING,
        LogLine(
          "the clock is behind the last accepted time step (\(current) < \(last))", event: "clock", outcome: "behind"
        )
        .with("step", current).with("last", last), user: user.description)
    }
  }

  /// A Unix time as the log shows it: ISO 8601 UTC, then the number.
  private func time(_ unixTime: Int64) -> String {
    "\(UTCTime.iso8601(unixTime)) (Unix time \(unixTime))"
  }

  /// Logs `line` with the service, the remote host and the user (`user` already escaped as a
  /// field), in the format of pam_lockstep(8), LOG FORMAT.
  private func log(_ priority: Int32, _ line: LogLine, user: String) {
    session.log(priority, line.by(service: session.service(), rhost: session.remoteHost(), user: user).text)
  }

  /// A line about a refused login, with the reason's word in the log format.
  private func refused(_ message: String, _ reason: String) -> LogLine {
    LogLine(message, event: "login", outcome: "refused").with("reason", reason)
  }

  /// A line about a login failed closed (`PAM_AUTHINFO_UNAVAIL`) for `reason`.
  private func failedClosed(_ why: String, _ reason: String) -> LogLine {
    LogLine("\(why); failing closed", event: "login", outcome: "error").with("reason", reason)
  }

  /// A line about a code the user asked for and the agent did not send.
  private func notSent(_ why: String, _ refusal: SendRefusal) -> LogLine {
    LogLine("no code sent: \(why)", event: "send", outcome: "refused").with("reason", refusal.logReason)
  }
}
