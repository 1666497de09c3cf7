import ArgumentParser
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform

/// `lockstep verify USER`: checks a code exactly as the module does.
struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check a code (or a backup code) exactly as the module would, reading it from standard input.",
    discussion: """
      The check is the module's own, with its default policy (a window of \(ModuleSetting.window.defaultValue) \
      time step, a look-ahead of \(ModuleSetting.lookahead.defaultValue) counter values, a lockout after \
      \(ModuleSetting.maxFailures.defaultValue) failures). Unless --dry-run is given, \
      its effect is recorded as a login's would be: an accepted code cannot be used again, a \
      backup code is used up, and a wrong code counts as a failure. Exits with status 0 when \
      the code is accepted and 1 when it is refused.
      """)

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var userArgument: UserArgument
  @OptionGroup var output: JSONOption

  @Option(
    name: .long,
    help: "Accept codes up to this many time steps before or after now, \(ModuleSetting.window.rangeText).")
  var window = ModuleSetting.window.defaultValue

  @Option(
    name: .long,
    help: "HOTP: accept counter values up to this many past the expected one, \(ModuleSetting.lookahead.rangeText).")
  var lookahead = ModuleSetting.lookahead.defaultValue

  @Flag(name: .long, help: "Check the code without recording anything.")
  var dryRun = false

  func validate() throws {
    for (value, setting) in [(window, ModuleSetting.window), (lookahead, .lookahead)] {
      guard setting.range.contains(value) else {
        throw ValidationError("--\(setting.name) must be \(setting.rangeText)")
      }
    }
  }

  func run() throws {
    let store = try storeOptions.records()
    let user = try userArgument.name()
    _ = try store.record(of: user)
    let typed = try Input.code(prompt: "Verification code: ")
    let attempt = typed.withUnsafeBytes { Attempt.typed($0) }
    let verifier = Verifier(policy: VerificationPolicy(window: window, lookahead: lookahead), crypto: crypto)
    let (outcome, recorded) = try check(attempt, for: user, in: store, verifier: verifier)
    report(outcome, user: user, recorded: recorded)
    if case .accepted = outcome { return }
    throw ExitCode(Exit.refused)
  }

  /// Checks `attempt` where the record is, and records the outcome unless `--dry-run`; says
  /// whether the record was changed. Through the agent the check is a login's (the agent's
  /// `verify`), and what it records follows from the outcome.
  private func check(
    _ attempt: Attempt, for user: UserName, in store: RecordStore, verifier: Verifier<LibCrypto>
  ) throws(Failure) -> (VerificationOutcome, recorded: Bool) {
    switch store {
    case .directory(let directory):
      let held: UserLock
      do { held = try directory.lock(user) } catch { throw Failure.store(error) }
      let record = try directory.record(of: user, holding: held)
      let (outcome, updated) = verifier.verify(attempt, against: record, now: SystemClock.now())
      if !dryRun, let updated {
        do throws(StoreError) { try directory.save(updated, over: record, holding: held) } catch { throw .store(error) }
      }
      return (outcome, !dryRun && updated != nil)
    case .agent where dryRun:
      return (verifier.verify(attempt, against: try store.record(of: user), now: SystemClock.now()).outcome, false)
    case .agent(let agent):
      let outcome = try agent.verify(attempt, for: user, policy: verifier.policy)
      switch outcome {
      case .accepted, .rejected(.wrongCode, _, _), .rejected(.replayedCode, _, _): return (outcome, true)
      case .rejected(.replayedEnrollmentCode, _, _), .rejected(.notACode, _, _), .lockedOut: return (outcome, false)
      }
    }
  }

  /// Prints the outcome; `recorded` tells whether the record was changed by it.
  private func report(_ outcome: VerificationOutcome, user: UserName, recorded: Bool) {
    var object: [String: Any] = ["user": user.description, "recorded": recorded]
    let text: String
    switch outcome {
    case .accepted(.code(let step)):
      object["accepted"] = true
      object["result"] = "code"
      object["step"] = step
      text = "Accepted: the code for step \(step)."
    case .accepted(.backupCode(let remaining)):
      object["accepted"] = true
      object["result"] = "backup-code"
      object["backupCodesRemaining"] = remaining
      text = "Accepted: a backup code (\(remaining) left)."
    case .accepted(.sentCode):
      object["accepted"] = true
      object["result"] = "sent-code"
      text = "Accepted: the code sent to the user."
    case .rejected(let reason, let failures, let lockedUntil):
      object["accepted"] = false
      object["failures"] = failures
      object["lockedUntil"] = Output.orNull(lockedUntil)
      switch reason {
      case .wrongCode:
        object["result"] = "wrong-code"
        text = "Refused: the code is wrong"
      case .replayedCode(let step):
        object["result"] = "replayed-code"
        object["step"] = step
        text = "Refused: the code for step \(step) was already used"
      case .replayedEnrollmentCode(let step):
        object["result"] = "replayed-enrollment-code"
        object["step"] = step
        return finish(
          object,
          "Refused: the code for step \(step) confirmed the enrollment and was already used; "
            + "it was not counted as a failure.")
      case .notACode:
        object["result"] = "not-a-code"
        return finish(object, "Refused: that is not a code; it was not counted as a failure.")
      }
      let locked = lockedUntil.map { ", locked until \(Output.time($0))" } ?? ""
      return finish(
        object, text + (dryRun ? " (it would be failure \(failures)\(locked))." : " (failure \(failures)\(locked))."))
    case .lockedOut(let until):
      object["accepted"] = false
      object["result"] = "locked-out"
      object["lockedUntil"] = until
      text = "Refused: \(user) is locked out until \(Output.time(until)); the code was not checked."
    }
    finish(object, text)
  }

  private func finish(_ object: [String: Any], _ text: String) {
    if output.json {
      Output.printJSON(object)
    } else {
      print(dryRun ? text + " (Dry run: nothing was recorded.)" : text)
    }
  }
}
