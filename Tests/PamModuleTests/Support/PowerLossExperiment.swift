import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform

/// What a power-loss experiment did and found.
struct PowerLossTally: Sendable {
  /// Power cuts, each followed by a remount and the checks.
  var cuts = 0
  /// Users' states checked after a cut (four users, each against what was reported before it).
  var statesChecked = 0
  /// Codes (TOTP and backup) typed again after a cut that a login had reported accepted.
  var replays = 0
  /// Logins and commands whose result was reported before a cut.
  var reported = 0
  /// Logins and commands still running when the power went (their result is unknown).
  var inFlight = 0
  /// Cuts that lost or tore something that was written but not synced.
  var lossyCuts = 0
  /// State slots found torn after a cut (the other slot then holds the state).
  var tornSlots = 0
  /// Wrong guesses that were checked (answered `PAM_AUTH_ERR`), against the lockout's budget.
  var guessesChecked = 0
  /// Everything that broke a promise, with the cut it followed.
  var violations: [String] = []
  /// Processes killed just before a change, the power staying on, before a later cut.
  var crashes = 0
  /// Killed processes that did not die before the cut (and where they were blocked).
  var stuck: [String] = []

  mutating func add(_ other: PowerLossTally) {
    cuts += other.cuts
    statesChecked += other.statesChecked
    replays += other.replays
    reported += other.reported
    inFlight += other.inFlight
    lossyCuts += other.lossyCuts
    tornSlots += other.tornSlots
    guessesChecked += other.guessesChecked
    violations += other.violations
    stuck += other.stuck
    crashes += other.crashes
  }
}

/// splitmix64: a small generator whose seed, printed, names the random choices of a run.
struct SplitMix {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }

  /// A number in `0..<n`.
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

  mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) < p * 1_000_000 }

  /// A number of seconds in `0..<limit`.
  mutating func seconds(below limit: Double) -> Double { Double(next() % 1_000_000) / 1_000_000 * limit }
}

/// One store on a powercut-fs disk, four users and a model of what each of them may hold.
///
/// Each round, four actors run at once, each one process after another: alice logs in with
/// fresh TOTP codes and sometimes a wrong one; mallory guesses wrong codes at a frozen time
/// and is sometimes unlocked with `lockstep unlock`; bob logs in with backup codes and gets
/// new ones from `lockstep backup-codes`; carol is re-enrolled (`enroll --force`, `revoke`
/// then `enroll`, `import google-authenticator`) and logs in. The cut comes just before a
/// randomly chosen change of the store (the file system pauses there), or at a random time;
/// some pauses are crashes instead (the process asking for the change is killed there, and the
/// others go on until a later change is cut).
/// Then every process is killed and reaped, so that what each printed is exactly what it
/// reported before the cut; then the power is cut and the disk remounted. The checks hold the
/// new state against what was reported.
final class PowerLossExperiment {
  let disk: PowerCutDisk
  var sandbox: Sandbox { disk.sandbox }
  private(set) var tally = PowerLossTally()
  private var random: SplitMix
  private let crypto = LibCrypto()
  /// How long a round takes when no cut interrupts it, learnt as rounds run: cuts are spread
  /// over it.
  private var roundLength = 0.5
  /// How many changes the processes of a whole round make, learnt likewise: aimed cuts are
  /// spread over them.
  private var changesPerRound = 40.0

  static let maxFailures = 5

  /// The first time step of alice's and carol's codes. Nine digits (the year 2065), so that no
  /// step the module logs reads as a typed eight-digit backup code to the check for secrets in
  /// the log.
  static let firstStep: Int64 = 100_000_000

  // alice: TOTP codes, each at a time step of its own, always later than the last.
  private let aliceSecret: String
  private var aliceStep = firstStep
  private var aliceAccepted: [Int64] = []
  private var aliceWrongInARow = 0

  // mallory: wrong guesses at a frozen time; the lockout allows `maxFailures` between unlocks.
  private let mallorySecret: String
  private let malloryTime: Int64 = 1_800_000_000
  private var malloryWrongCode = ""
  private var guessesSinceUnlock = 0
  /// Whether mallory's last answered guess was refused unchecked.
  private var malloryIsLockedOut = false

  // bob: backup codes; nil while it is not known which set the store holds.
  private var bobCodes: [String]? = []
  private var bobUsed: [String] = []
  private var bobUsedSinceCut: [String] = []

  // carol: the enrollments she may have (nil: none), and per secret the codes accepted.
  private var carolCandidates: [String?] = [nil]
  private var carolStep = firstStep
  private var carolAccepted: [String: Int64] = [:]
  private var carolAttempted: [String: Set<Int64>] = [:]

  /// Whether the disk ignores syncs after the set-up (to show that the checks can fail).
  private let disksIgnoreSyncs: Bool

  /// The processes started and not yet reaped: killed when the experiment ends early.
  private var unreaped: Set<pid_t> = []

  deinit {
    for pid in unreaped { kill(pid, SIGKILL) }
    let deadline = monotonicSeconds() + PowerCutDisk.deadline
    for pid in unreaped {
      var raw: Int32 = 0
      while waitpid(pid, &raw, WNOHANG) == 0 && monotonicSeconds() < deadline { usleep(1000) }
      removeFaketimeLeftovers(of: pid)
    }
  }

  init(seed: UInt64, ignoringSyncs: Bool = false) throws {
    disksIgnoreSyncs = ignoringSyncs
    random = SplitMix(state: seed)
    disk = try PowerCutDisk(on: Sandbox(arguments: ["lockout_message"]))
    aliceSecret = Self.newSecret(crypto)
    mallorySecret = Self.newSecret(crypto)
  }

  static func newSecret(_ crypto: LibCrypto) -> String {
    Base32.encode(crypto.randomBytes(count: 20) ?? [])
  }

  /// Enrolls the four users through the CLI on a mounted disk.
  func setUp() throws {
    try disk.mount()
    for (user, secret) in [("alice", aliceSecret), ("mallory", mallorySecret)] {
      try require(enroll(user, secret: secret, force: false).status == 0, "enrolling \(user)")
    }
    let bob = try enroll("bob", secret: Self.newSecret(crypto), force: false)
    try require(bob.status == 0, "enrolling bob")
    bobCodes = Self.backupCodes(in: bob.output)
    try require(bobCodes?.count == 10, "bob's backup codes in \(bob.output)")
    malloryWrongCode = try wrongCode(secret: mallorySecret, at: malloryTime)
    try checkCarol(record: nil)
    if disksIgnoreSyncs {
      try disk.unmount()
      try disk.mount(ignoringSyncs: true)
    }
  }

  /// Runs `cuts` rounds, each ending in a power cut, a remount and the checks.
  func run(cuts: Int) throws {
    try setUp()
    for _ in 0..<cuts {
      try round()
      try check()
      checkTheLog()
    }
    try disk.unmount()
  }

  // MARK: - A round

  /// One process of an actor.
  private struct Planned {
    enum Purpose {
      case aliceCode(step: Int64), aliceWrong, malloryGuess, malloryUnlock, bobBackup(String), bobNewCodes
      case carolChange(to: String?), carolCode(secret: String, step: Int64)
    }
    var purpose: Purpose
    var executable: String
    var arguments: [String]
    var environment: [String: String] = [:]
  }

  private struct Running {
    var actor: Int
    var planned: Planned
    var pid: pid_t
    var output: String
  }

  private func round() throws {
    // Most cuts are aimed at a change of the store (a write, a sync, a rename...), since the
    // store syncs at once and a cut at a random time seldom finds anything pending; the others
    // come at a random time.
    let aimed = random.chance(0.75)
    try disk.arm(atChange: aimed ? 1 + random.below(max(1, Int(changesPerRound))) : 0)
    var budgets = [3, 2 + random.below(4), 2, 2]
    var running: [Running] = []
    let start = monotonicSeconds()
    let cutAfter = aimed ? PowerCutDisk.deadline : random.seconds(below: roundLength * 1.2)
    var finished = false
    var paused: pid_t?
    while monotonicSeconds() - start < cutAfter {
      if aimed, let pause = try disk.pausedOperation() {
        guard random.chance(0.3), let index = running.firstIndex(where: { $0.pid == pause.process }) else {
          paused = pause.process
          break
        }
        // A crash, not yet the cut: the process dies just before this change, the power stays
        // on, the others go on, and the cut comes at a later change.
        let crashed = running.remove(at: index)
        kill(crashed.pid, SIGKILL)
        try disk.resume()
        guard try reapKilled(crashed, within: PowerCutDisk.deadline) else {
          throw TestFailure("process \(crashed.pid) did not die after SIGKILL and a resume")
        }
        tally.crashes += 1
        try disk.arm(atChange: 1 + random.below(max(1, Int(changesPerRound / 2))))
      }
      for index in running.indices.reversed() {
        var raw: Int32 = 0
        if waitpid(running[index].pid, &raw, WNOHANG) == running[index].pid {
          record(running[index], exitStatus: Self.exitStatus(raw))
          unreaped.remove(running[index].pid)
          running.remove(at: index)
        }
      }
      for actor in budgets.indices where budgets[actor] > 0 && !running.contains(where: { $0.actor == actor }) {
        guard let planned = try plan(actor: actor) else {
          budgets[actor] = 0
          continue
        }
        budgets[actor] -= 1
        let output = sandbox.root + "/run-\(actor)"
        let child = try Child(planned.executable, planned.arguments, environment: planned.environment, output: output)
        running.append(Running(actor: actor, planned: planned, pid: child.pid, output: output))
        unreaped.insert(child.pid)
      }
      if running.isEmpty && budgets.allSatisfy({ $0 == 0 }) {
        finished = true
        break
      }
      // The round's event loop: it polls its children, the file system and the clock.
      usleep(500)
    }
    if finished { roundLength = 0.8 * roundLength + 0.2 * (monotonicSeconds() - start) }

    // Every process that uses the store dies before the power goes, so what each printed is
    // what it reported before the cut, and nothing runs after it. The one whose request the
    // file system paused cannot die until the cut answers that request; with SIGKILL pending
    // it dies as the call returns.
    for process in running { kill(process.pid, SIGKILL) }
    var stuck: [Running] = []
    for process in running where process.pid != paused {
      if try !reapKilled(process, within: 5) { stuck.append(process) }
    }
    let modes = PowerCutDisk.Mode.allCases
    let cut = try disk.cut(modes[random.below(modes.count)], seed: random.next())
    for process in running where process.pid == paused { _ = try reapKilled(process, within: PowerCutDisk.deadline) }
    for process in stuck where try !reapKilled(process, within: PowerCutDisk.deadline) {
      throw TestFailure("process \(process.pid) (\(process.planned.purpose)) did not die after SIGKILL")
    }
    let fields = Self.fields(of: cut)
    if (fields["kept-bytes"] ?? 0) < (fields["bytes"] ?? 0) || (fields["kept-dirops"] ?? 0) < (fields["dirops"] ?? 0) {
      tally.lossyCuts += 1
    }
    if finished && !aimed { changesPerRound = 0.8 * changesPerRound + 0.2 * Double(fields["changes"] ?? 0) }
    try disk.unmount()
    try disk.mount(ignoringSyncs: disksIgnoreSyncs)
  }

  /// Waits up to `seconds` for a process sent SIGKILL to die, and takes in what it printed
  /// before; false if it is still there. One blocked in a request that the file system has
  /// read (the kernel then waits for the answer) dies only once the request is answered; with
  /// SIGKILL pending it runs none of its own code again, and whatever it printed rests on syncs
  /// made before the cut, since every sync after it fails. Such processes are counted.
  private func reapKilled(_ process: Running, within seconds: Double) throws -> Bool {
    let deadline = monotonicSeconds() + seconds
    var raw: Int32 = 0
    while waitpid(process.pid, &raw, WNOHANG) != process.pid {
      if monotonicSeconds() > deadline {
        let state = (try? String(contentsOfFile: "/proc/\(process.pid)/stack", encoding: .utf8)) ?? "?"
        // The kind of process only: its purpose holds codes and secrets.
        let kind = "\(process.planned.purpose)".prefix { $0 != "(" }
        tally.stuck.append("\(kind): \(state.split(separator: "\n").prefix(4).joined(separator: " < "))")
        return false
      }
      usleep(200)
    }
    unreaped.remove(process.pid)
    removeFaketimeLeftovers(of: process.pid)
    let status = Self.exitStatus(raw)
    record(process, exitStatus: status == 128 + SIGKILL ? nil : status)
    return true
  }

  /// The next process for `actor`, or nil when it has nothing (more) to do this round.
  private func plan(actor: Int) throws -> Planned? {
    switch actor {
    case 0:
      aliceStep += 1
      if aliceWrongInARow < 2 && random.chance(0.3) {
        aliceWrongInARow += 1
        return login("alice", try wrongCode(secret: aliceSecret, at: aliceStep * 30), at: aliceStep * 30, .aliceWrong)
      }
      aliceWrongInARow = 0
      let code = try oathtool(secret: aliceSecret, at: aliceStep * 30)
      return login("alice", code, at: aliceStep * 30, .aliceCode(step: aliceStep))
    case 1:
      if (guessesSinceUnlock >= Self.maxFailures || malloryIsLockedOut) && random.chance(0.3) {
        // Unlocking may take effect from the moment it starts.
        guessesSinceUnlock = 0
        return command(["unlock", "mallory"], .malloryUnlock)
      }
      return login("mallory", malloryWrongCode, at: malloryTime, .malloryGuess)
    case 2:
      guard let codes = bobCodes, codes.count >= 2, !random.chance(0.1) else {
        return command(["backup-codes", "bob"], .bobNewCodes)
      }
      bobCodes = Array(codes.dropFirst())  // spent, whatever happens to the login
      return login("bob", codes[0], at: nil, .bobBackup(codes[0]))
    default:
      guard carolCandidates.count == 1, let current = carolCandidates.first else { return nil }
      guard let secret = current else {
        let next = Self.newSecret(crypto)
        return command(
          ["enroll", "carol", "--allow-unknown-user", "--secret-file", try sandbox.secretFile(next), "--no-confirm"],
          .carolChange(to: next))
      }
      switch random.below(5) {
      case 0:
        let next = Self.newSecret(crypto)
        return command(
          [
            "enroll", "carol", "--allow-unknown-user", "--force", "--secret-file", try sandbox.secretFile(next),
            "--no-confirm",
          ],
          .carolChange(to: next))
      case 1:
        return command(["revoke", "carol"], .carolChange(to: nil))
      case 2:
        let next = Self.newSecret(crypto)
        return command(
          [
            "import", "google-authenticator", "carol", "--allow-unknown-user", try googleAuthenticatorFile(next),
            "--force",
          ],
          .carolChange(to: next))
      default:
        carolStep += 1
        carolAttempted[secret, default: []].insert(carolStep)
        let code = try oathtool(secret: secret, at: carolStep * 30)
        return login("carol", code, at: carolStep * 30, .carolCode(secret: secret, step: carolStep))
      }
    }
  }

  private func login(_ user: String, _ answer: String, at time: Int64?, _ purpose: Planned.Purpose) -> Planned {
    let request = LoginRequest(user: user, answers: [answer], time: time)
    return Planned(
      purpose: purpose, executable: Paths.driver, arguments: sandbox.driverArguments(request),
      environment: request.environment)
  }

  private func command(_ arguments: [String], _ purpose: Planned.Purpose) -> Planned {
    Planned(purpose: purpose, executable: Paths.cli, arguments: arguments + ["--store", sandbox.store])
  }

  /// Takes in what a process reported: `exitStatus` is nil for one killed at the cut, whose
  /// printed lines still count.
  private func record(_ process: Running, exitStatus: Int32?) {
    let output = (try? String(contentsOfFile: process.output, encoding: .utf8)) ?? ""
    let result = Login(parsing: CommandResult(status: exitStatus ?? -1, output: output, error: "")).result
    let loginReported = result != "(none)"
    let commandReported = exitStatus != nil
    switch process.planned.purpose {
    case .aliceCode(let step):
      guard loginReported else { break }
      if result == "PAM_SUCCESS" {
        aliceAccepted.append(step)
      } else {
        violation("alice's fresh code at step \(step) was refused with \(result)")
      }
    case .aliceWrong:
      if result == "PAM_SUCCESS" { violation("a wrong code for alice was accepted") }
    case .malloryGuess:
      // A lockout is refused with PAM_AUTH_ERR like a checked guess; lockout_message tells them
      // apart.
      let unchecked = output.contains("error Too many wrong verification codes")
      if loginReported { malloryIsLockedOut = unchecked }
      if result == "PAM_AUTH_ERR" && !unchecked {
        guessesSinceUnlock += 1
        tally.guessesChecked += 1
        if guessesSinceUnlock > Self.maxFailures {
          violation(
            "mallory had \(guessesSinceUnlock) guesses checked since the last unlock, more than \(Self.maxFailures)")
        }
      } else if loginReported && result != "PAM_AUTH_ERR" {
        violation("mallory's wrong guess was answered \(result)")
      }
    case .malloryUnlock:
      if commandReported && exitStatus != 0 { violation("lockstep unlock mallory failed: \(output)") }
    case .bobBackup(let code):
      guard loginReported else { break }
      if result == "PAM_SUCCESS" {
        bobUsed.append(code)
        bobUsedSinceCut.append(code)
      } else {
        violation("bob's unused backup code was refused with \(result)")
      }
    case .bobNewCodes:
      if commandReported && exitStatus == 0 {
        bobCodes = Self.backupCodes(in: output)
      } else {
        bobCodes = nil
        if commandReported { violation("lockstep backup-codes bob failed: \(output)") }
      }
    case .carolChange(let next):
      if commandReported && exitStatus == 0 {
        carolCandidates = [next]
      } else if commandReported {
        violation("a change to carol's enrollment failed: \(output)")
      } else {
        carolCandidates.append(next)
      }
    case .carolCode(let secret, let step):
      guard loginReported else { break }
      if result == "PAM_SUCCESS" {
        carolAccepted[secret] = max(carolAccepted[secret] ?? 0, step)
      } else {
        violation("carol's fresh code at step \(step) was refused with \(result)")
      }
    }
    if loginReported || commandReported { tally.reported += 1 } else { tally.inFlight += 1 }
  }

  // MARK: - The checks after a cut

  private func check() throws {
    tally.cuts += 1
    let store = try Store(path: sandbox.store)
    var records: [String: UserRecord] = [:]
    for name in try store.userNames() {
      do {
        if let record = try store.read(name) { records[name.description] = record }
      } catch {
        violation("\(name)'s record or state does not read after the cut: \(error)")
      }
      countTornSlots(of: name.description)
    }
    let errors = try sandbox.storeErrors()
    if !errors.isEmpty { violation("lockstep check finds \(errors) after the cut") }
    try checkAlice(record: records["alice"])
    try checkMallory(record: records["mallory"])
    try checkBob(record: records["bob"])
    try checkCarol(record: records["carol"])
  }

  private func checkAlice(record: UserRecord?) throws {
    tally.statesChecked += 1
    guard let record else { return violation("alice's record is gone") }
    if let accepted = aliceAccepted.max() {
      if (record.lastStep ?? 0) < accepted {
        violation("alice's watermark is \(String(describing: record.lastStep)), below the accepted step \(accepted)")
      }
      // The last code accepted, and one from earlier, typed again at the time they were made.
      var replayed = [accepted]
      if aliceAccepted.count > 1 { replayed.append(aliceAccepted[random.below(aliceAccepted.count - 1)]) }
      for step in replayed {
        let replay = try sandbox.login(
          LoginRequest(
            user: "alice", answers: [try oathtool(secret: aliceSecret, at: step * 30)], time: step * 30, timeLimit: 60))
        tally.replays += 1
        if replay.result == "PAM_SUCCESS" {
          violation("alice's code of step \(step), accepted before, was accepted again")
        }
      }
    }
    aliceStep += 1
    let fresh = try sandbox.login(
      LoginRequest(
        user: "alice", answers: [try oathtool(secret: aliceSecret, at: aliceStep * 30)], time: aliceStep * 30,
        timeLimit: 60))
    if fresh.result == "PAM_SUCCESS" {
      aliceAccepted.append(aliceStep)
    } else {
      violation("alice's next login with a fresh code after the cut failed with \(fresh.result): \(fresh.lines)")
    }
    aliceWrongInARow = 0
  }

  private func checkMallory(record: UserRecord?) throws {
    tally.statesChecked += 1
    guard let record else { return violation("mallory's record is gone") }
    if guessesSinceUnlock >= Self.maxFailures && record.lockedUntil <= malloryTime {
      violation("mallory had \(guessesSinceUnlock) guesses checked but is not locked out after the cut")
    }
  }

  private func checkBob(record: UserRecord?) throws {
    tally.statesChecked += 1
    guard let record else { return violation("bob's record is gone") }
    // Every code used since the last cut, and two from earlier, must not match a stored hash.
    var used = bobUsedSinceCut
    for _ in 0..<2 where !bobUsed.isEmpty { used.append(bobUsed[random.below(bobUsed.count)]) }
    for code in used {
      let hash = Array(code.utf8).withUnsafeBytes { record.backupCodes.hash(of: $0, crypto: crypto) }
      if let hash, record.backupCodes.hashes.contains(hash) {
        violation("bob's backup code \(code), reported used, is in the store again")
      }
    }
    if let last = bobUsedSinceCut.last {
      let replay = try sandbox.login(LoginRequest(user: "bob", answers: [last], timeLimit: 60))
      tally.replays += 1
      if replay.result == "PAM_SUCCESS" { violation("bob's used backup code was accepted again") }
    }
    bobUsedSinceCut = []
    if bobCodes?.isEmpty ?? true {
      let issued = try sandbox.lockstep(["backup-codes", "bob"])
      if issued.status != 0 { violation("lockstep backup-codes bob after the cut failed: \(issued.error)") }
      bobCodes = Self.backupCodes(in: issued.output)
    }
    guard let code = bobCodes?.first else { return violation("no backup codes for bob after the cut") }
    bobCodes?.removeFirst()
    let fresh = try sandbox.login(LoginRequest(user: "bob", answers: [code], timeLimit: 60))
    if fresh.result == "PAM_SUCCESS" {
      bobUsed.append(code)
    } else {
      violation("bob's next login with an unused backup code after the cut failed with \(fresh.result)")
    }
  }

  private func checkCarol(record: UserRecord?) throws {
    tally.statesChecked += 1
    let actual = record.map { $0.secret.withUnsafeBytes { Base32.encode($0) } }
    if !carolCandidates.contains(actual) {
      violation("carol's enrollment is none of those the commands could have left")
    }
    if let record, let actual {
      let accepted = carolAccepted[actual] ?? 0
      if (record.lastStep ?? 0) < accepted {
        violation("carol's watermark is \(String(describing: record.lastStep)), below the accepted step \(accepted)")
      }
      if let step = record.lastStep, !(carolAttempted[actual] ?? []).contains(step) {
        violation("carol's new enrollment holds the step \(step), which no login with its secret tried")
      }
    }
    var secret = actual
    if secret == nil {
      let next = Self.newSecret(crypto)
      let enrolled = try sandbox.lockstep([
        "enroll", "carol", "--allow-unknown-user", "--secret-file", try sandbox.secretFile(next), "--no-confirm",
      ])
      if enrolled.status != 0 { violation("enrolling carol after the cut failed: \(enrolled.error)") }
      secret = next
    }
    carolCandidates = [secret]
    guard let secret else { return }
    carolStep += 1
    carolAttempted[secret, default: []].insert(carolStep)
    let fresh = try sandbox.login(
      LoginRequest(
        user: "carol", answers: [try oathtool(secret: secret, at: carolStep * 30)], time: carolStep * 30, timeLimit: 60)
    )
    if fresh.result == "PAM_SUCCESS" {
      carolAccepted[secret] = carolStep
    } else {
      violation("carol's next login with a fresh code failed with \(fresh.result): \(fresh.lines)")
    }
  }

  /// Nothing secret in what the module logged this round (see `SecretLog.swift`); the log and
  /// the codes typed start afresh each round, so that the check stays small.
  private func checkTheLog() {
    for leaked in sandbox.secretsInTheLog() { violation("the module logged a secret or a typed code: \(leaked)") }
    _ = truncate(sandbox.syslog, 0)
    sandbox.typedCodes = []
  }

  /// Counts the slots of `user`'s state file that hold something but do not decode: torn by
  /// the cut, and left for the other slot.
  private func countTornSlots(of user: String) {
    guard let data = sandbox.storeFile(".\(user).state") else { return }
    for offset in StateFile.slotOffsets where data.count >= offset + StateSlot.size {
      let bytes = Array(data[offset..<offset + StateSlot.size])
      if bytes.contains(where: { $0 != 0 }) && bytes.withUnsafeBytes({ StateSlot(decoding: $0) }) == nil {
        tally.tornSlots += 1
      }
    }
  }

  // MARK: - Helpers

  private func violation(_ text: String) {
    tally.violations.append("after cut \(tally.cuts): \(text)")
  }

  private func require(_ condition: Bool, _ what: String) throws {
    if !condition { throw TestFailure("setting up the power-loss store failed: \(what)") }
  }

  private func enroll(_ user: String, secret: String, force: Bool) throws -> CommandResult {
    try sandbox.lockstep(
      ["enroll", user, "--allow-unknown-user", "--secret-file", try sandbox.secretFile(secret), "--no-confirm"]
        + (force ? ["--force"] : []))
  }

  /// A six-digit code that none of the three time steps around `time` accepts.
  private func wrongCode(secret: String, at time: Int64) throws -> String {
    let window = try (-1...1).map { try oathtool(secret: secret, at: time + 30 * Int64($0)) }
    var code = String(format: "%06d", random.below(1_000_000))
    while window.contains(code) { code = String(format: "%06d", random.below(1_000_000)) }
    return code
  }

  /// A google-authenticator file holding `secret` for TOTP, for `lockstep import`.
  private func googleAuthenticatorFile(_ secret: String) throws -> String {
    sandbox.noteSecret(secret)
    let path = sandbox.root + "/google_authenticator-\(random.next())"
    try (secret + "\n\" TOTP_AUTH\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The backup codes a command printed, one a line after two spaces.
  static func backupCodes(in output: String) -> [String] {
    output.split(separator: "\n").compactMap { line in
      let code = line.trimmingCharacters(in: .whitespaces)
      return line.hasPrefix("  ") && code.count == BackupCodeHashes.codeLength && code.allSatisfy(\.isNumber)
        ? code : nil
    }
  }

  /// The numbers of a cut's reply (`cut MODE changes=… files=… bytes=… kept-bytes=…`).
  static func fields(of reply: String) -> [String: Int] {
    var fields: [String: Int] = [:]
    for field in reply.split(separator: " ") {
      let parts = field.split(separator: "=")
      if parts.count == 2, let value = Int(parts[1]) { fields[String(parts[0])] = value }
    }
    return fields
  }

  static func exitStatus(_ raw: Int32) -> Int32 {
    raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
  }
}
