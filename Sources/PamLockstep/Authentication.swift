internal import CPAM
import LockstepCore
import LockstepPlatform

/// One run of `pam_sm_authenticate`: the data path of a login, from the module's arguments to
/// a PAM code.
///
/// The record is read once without the lock to decide whether to prompt at all; the user then
/// answers with no lock held (a user who leaves the prompt open blocks no one); the record is
/// read again under the user's lock, the answer verified, and the new state written before the
/// lock is released. Every failure becomes a PAM code and a log line; nothing here traps.
struct Authentication {
  let session: PAMSession
  let options: ModuleOptions
  let verifier: Verifier<LibCrypto>

  init(session: PAMSession, options: ModuleOptions) {
    self.session = session
    self.options = options
    verifier = Verifier(policy: VerificationPolicy(options), crypto: LibCrypto())
  }

  func run() -> PAMCode {
    guard options.problems.isEmpty else {
      for problem in options.problems {
        session.log(LOG_ERR, "configuration error: \(problem); refusing to authenticate")
      }
      return PAMCode(PAM_SERVICE_ERR)
    }
    if options.debug { session.log(LOG_DEBUG, "configuration: \(options.summary)") }
    let rawUser: [UInt8]
    switch session.user() {
    case .success(let name): rawUser = name
    case .failure(let code): return code
    }
    guard let user = UserName(bytes: rawUser) else {
      log(LOG_NOTICE, "refusing an unusable user name", user: LogText.escape(rawUser))
      return PAMCode(PAM_AUTH_ERR)
    }
    let store: Store
    let enrolled: UserRecord?
    do {
      store = try Store(path: options.store)
      enrolled = try store.enrollment(user)
    } catch {
      log(LOG_ERR, error.description, user: user.description)
      return PAMCode(PAM_AUTHINFO_UNAVAIL)
    }
    guard let enrolled else { return unenrolled(user) }
    return authenticate(user, store: store, digits: enrolled.parameters.digits)
  }

  /// A user without a record: let through by this module with `nullok`, otherwise prompted
  /// like everyone else (so the prompt does not reveal who is enrolled) and refused.
  private func unenrolled(_ user: UserName) -> PAMCode {
    if options.nullok {
      if options.debug { log(LOG_DEBUG, "not enrolled; ignored (nullok)", user: user.description) }
      return PAMCode(PAM_IGNORE)
    }
    if case .failure(let code) = obtainAttempt(digits: TokenParameters.standard.digits) { return code }
    log(LOG_NOTICE, "refused: user is not enrolled", user: user.description)
    return PAMCode(PAM_AUTH_ERR)
  }

  private func authenticate(_ user: UserName, store: Store, digits: Int) -> PAMCode {
    if options.firstPass != .none, let stacked = session.stackedPassword() {
      let attempt = stacked.withUnsafeBytes { Attempt.typed($0) }
      if attempt.couldBeCode(digits: digits) {
        let code = check(attempt, for: user, in: store)
        if code == PAMCode(PAM_SUCCESS) || options.firstPass == .useFirstPass { return code }
      } else if options.firstPass == .useFirstPass {
        log(LOG_NOTICE, "refused: the stacked password is not a code (use_first_pass)", user: user.description)
        return PAMCode(PAM_AUTH_ERR)
      }
    } else if options.firstPass == .useFirstPass {
      log(LOG_NOTICE, "refused: no stacked password to use (use_first_pass)", user: user.description)
      return PAMCode(PAM_AUTH_ERR)
    }
    switch obtainAttempt(digits: digits) {
    case .failure(let code): return code
    case .success(let attempt): return check(attempt, for: user, in: store)
    }
  }

  /// Prompts for the code (or, with `forward_pass`, the password and code together).
  private func obtainAttempt(digits: Int) -> Result<Attempt, PAMCode> {
    switch session.ask(options.effectivePrompt, echo: options.echo) {
    case .failure(let code): return .failure(code)
    case .success(let answer):
      return .success(
        answer.withUnsafeBytes { options.forwardPass ? Attempt.forwarded($0, digits: digits) : Attempt.typed($0) })
    }
  }

  /// Verifies `attempt` under the user's lock and stores the new state.
  private func check(_ attempt: Attempt, for user: UserName, in store: Store) -> PAMCode {
    let outcome: VerificationOutcome
    let record: UserRecord
    do {
      let lock = try store.lock(user)
      guard let current = try store.read(user, holding: lock) else {
        log(LOG_NOTICE, "refused: the record disappeared during the login", user: user.description)
        return PAMCode(PAM_AUTH_ERR)
      }
      record = current
      let now = SystemClock.now()
      let verdict = verifier.verify(attempt, against: current, now: now)
      outcome = verdict.outcome
      if let updated = verdict.updated { try store.save(updated, over: current, holding: lock) }
      noteClock(of: current, now: now, user: user)
    } catch {
      log(LOG_ERR, "\(error); failing closed", user: user.description)
      return PAMCode(PAM_AUTHINFO_UNAVAIL)
    }
    forwardPassword(of: attempt, outcome: outcome)
    return report(outcome, user: user, record: record)
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

  /// Logs the outcome and returns its PAM code.
  private func report(_ outcome: VerificationOutcome, user: UserName, record: UserRecord) -> PAMCode {
    let name = user.description
    switch outcome {
    case .accepted(.code(let step)):
      let unit = record.parameters.kind == .totp ? "time step" : "counter"
      log(LOG_INFO, "accepted verification code (\(unit) \(step))", user: name)
      return PAMCode(PAM_SUCCESS)
    case .accepted(.backupCode(let remaining)):
      log(LOG_NOTICE, "accepted backup code (\(remaining) left)", user: name)
      return PAMCode(PAM_SUCCESS)
    case .rejected(let reason, let failures, let lockedUntil):
      let what: String
      switch reason {
      case .wrongCode: what = "wrong verification code"
      case .replayedCode(let step): what = "replayed verification code (time step \(step) was already used)"
      case .notACode:
        log(LOG_NOTICE, "refused: the answer is not a code (not counted as a failure)", user: name)
        return PAMCode(PAM_AUTH_ERR)
      }
      log(LOG_NOTICE, "refused: \(what); failure \(failures) of \(options.maxFailures)", user: name)
      if let lockedUntil {
        log(
          LOG_WARNING,
          "locked out for \(options.lockoutSeconds) seconds, until \(lockedUntil) (Unix time), after \(failures) consecutive failures",
          user: name)
      }
      return PAMCode(PAM_AUTH_ERR)
    case .lockedOut(let until):
      log(LOG_NOTICE, "refused unchecked: locked out until \(until) (Unix time)", user: name)
      return PAMCode(PAM_MAXTRIES)
    }
  }

  /// Warns when the clock is behind the last accepted time step: codes cannot work until it
  /// catches up, and a clock set back is how replays would be attempted.
  private func noteClock(of record: UserRecord, now: Int64, user: UserName) {
    guard record.parameters.kind == .totp, let last = record.lastStep else { return }
    let current = verifier.currentStep(of: record, at: now)
    if current < last {
      log(LOG_WARNING, "the clock is behind the last accepted time step (\(current) < \(last))", user: user.description)
    }
  }

  /// Logs `message` with the user and the remote host, in `key=value` form for log tools.
  private func log(_ priority: Int32, _ message: String, user: String) {
    session.log(priority, "\(message); user=\(user) rhost=\(session.remoteHost())")
  }
}
