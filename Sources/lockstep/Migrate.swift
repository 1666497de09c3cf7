import ArgumentParser
import LockstepCore
import LockstepPlatform

#if canImport(Glibc)
  import Glibc
#endif

/// `lockstep migrate --to-agent [SOCKET]` or `--from-agent [SOCKET]`: copies every record
/// between this host's store and the agent's (a fleet's database), whole: the enrollment with
/// its replay watermark, HOTP counter, failures, lockout and backup codes, which all travel in
/// the record's text.
struct Migrate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Copy every record from this host's store to the agent (lockstepd), or from the agent into the store.",
    usage: """
      lockstep migrate (--to-agent | --from-agent) [<socket>] [--store <dir>] [--force] [--dry-run] \
      [--agent-timeout <seconds>] [--json]
      """,
    discussion: """
      --to-agent copies each user's record, read under the user's lock, to the agent. A user \
      the agent has already with the same enrollment (parameters, secret and enrollment time) \
      is left as the agent has it, so a second run changes nothing; one with another \
      enrollment is refused, unless --force replaces it (the higher replay watermark of the \
      two is kept). --from-agent copies the agent's records into the store (created if \
      missing): a user enrolled here with the same enrollment keeps this store's record, with \
      the higher replay watermark and counter of the two, the fleet's failures, lockout and \
      last success when they are newer, and only the backup codes unused on both sides; \
      another enrollment is refused unless --force. One line is printed per user, then a \
      summary. A user that fails does not stop the others, but the command then exits with \
      status 6 when every failure is another enrollment and 4 otherwise; an agent that cannot \
      be reached, or cannot reach its database, stops it with status 4 (run it again: users \
      copied already are left as they are). --dry-run says what would happen to each user, \
      and writes nothing on either side.
      """)

  /// Which way the records go.
  enum Direction: String, EnumerableFlag {
    /// From the local store to the agent.
    case toAgent
    /// From the agent to the local store.
    case fromAgent

    static func help(for value: Direction) -> ArgumentHelp? {
      switch value {
      case .toAgent: "Copy every record of the local store to the agent."
      case .fromAgent: "Copy every record of the agent into the local store."
      }
    }
  }

  @OptionGroup var storeOptions: StoreOptions

  @Flag var direction: Direction

  @Argument(
    help: ArgumentHelp(
      "The agent's socket (default: the one lockstepd's configuration names, else \(AgentProtocol.defaultSocket)).",
      valueName: "socket"))
  var socket: String?

  @Flag(
    name: .long,
    help: "Replace a record enrolled differently on the other side (the higher replay watermark is kept).")
  var force = false

  @Flag(name: .long, help: "Say what would happen to each user, and write nothing.")
  var dryRun = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "How long each exchange with the agent may take, from 1 to 600 seconds.", valueName: "seconds"))
  var agentTimeout = AgentClient.defaultTimeout

  @OptionGroup var output: JSONOption

  /// What happened to one user, or would happen in a dry run.
  struct Outcome {
    enum Kind: String {
      /// The record was written where there was none (or, with `--force`, over another).
      case copied
      /// The same enrollment was there; its state was brought up to date (`--from-agent`).
      case updated
      /// The same enrollment was there, and nothing needed changing.
      case unchanged
      /// The record went away between the listing and the copy.
      case skipped
      /// Another enrollment was there, and `--force` was not given.
      case conflict
      /// The record could not be read, or was refused.
      case failed
    }

    var user: UserName
    var kind: Kind
    /// The words printed after `user: `.
    var detail: String

    init(_ user: UserName, _ kind: Kind, _ detail: String) {
      self.user = user
      self.kind = kind
      self.detail = detail
    }
  }

  func validate() throws {
    guard AgentClient.timeouts.contains(agentTimeout) else {
      throw ValidationError("--agent-timeout takes 1 to 600 seconds, not \(agentTimeout)")
    }
    if let socket, socket.isEmpty { throw ValidationError("the agent's socket cannot be an empty path") }
  }

  func run() throws {
    try requireRoot()
    let configured = try storeOptions.configuration?.socket
    let agent = AgentClient(socket: socket ?? configured ?? AgentProtocol.defaultSocket, timeoutSeconds: agentTimeout)
    let store: Store?
    let users: [UserName]
    switch direction {
    case .toAgent:
      let local = try storeOptions.open()
      do { users = try local.userNames() } catch { throw Failure.store(error) }
      // Asked first, so that an agent that cannot be reached stops the command before any user.
      _ = try agent.names()
      store = local
    case .fromAgent:
      // Asked first, so that an agent that cannot be reached leaves no new store behind; a dry
      // run creates none, and finds a store that does not exist yet empty.
      users = try agent.names()
      if !dryRun {
        store = try storeOptions.openCreating()
      } else if access(storeOptions.path, F_OK) != 0 && errno == ENOENT {
        store = nil
      } else {
        store = try storeOptions.open()
      }
    }
    var outcomes: [Outcome] = []
    var stopped: Failure?
    for user in users {
      do {
        let outcome: Outcome
        switch (direction, store) {
        case (.toAgent, let store?): outcome = try copyToAgent(user, from: store, agent)
        default: outcome = try copyFromAgent(user, agent, into: store)
        }
        outcomes.append(outcome)
        if !output.json { print("\(user): \(outcome.detail)") }
      } catch {
        stopped = error
        break
      }
    }
    try report(outcomes, of: users.count, stopped: stopped, agent: agent)
  }

  // MARK: To the agent

  /// Copies `user`'s record to the agent (or says what would happen); throws only when the
  /// agent cannot be asked, which stops the command.
  private func copyToAgent(_ user: UserName, from store: Store, _ agent: AgentClient) throws(Failure) -> Outcome {
    let found: UserRecord?
    do { found = try localRecord(user, in: store) } catch { return Outcome(user, .failed, notCopied + error.message) }
    guard let record = found else { return Outcome(user, .skipped, "skipped: revoked since the store was listed") }
    if dryRun { return try planCopyToAgent(user, record, agent) }
    // Asked first, to tell a copy from the same enrollment that the agent brings up to date.
    var catchUp: [String] = []
    if !force, case .success(let theirs?) = try agent.record(of: user), theirs.hasSameToken(as: record) {
      catchUp = Self.catchUp(theirs, record, dryRun: false)
    }
    let request = AgentRequest.store(user, record: RecordFormat.serialize(record), mode: force ? .replace : .create)
    switch try agent.answer(request) {
    case .done(changed: true) where !catchUp.isEmpty:
      return Outcome(user, .copied, (["already in the fleet store"] + catchUp).joined(separator: "; "))
    case .done(changed: true): return Outcome(user, .copied, "copied")
    case .done(changed: false): return Outcome(user, .unchanged, "already in the fleet store")
    case .refused(let reason):
      // The agent's reason is words; what it holds tells whether --force would help.
      var conflict = false
      if !force, case .success(let theirs?) = try agent.record(of: user) {
        conflict = !theirs.hasSameToken(as: record)
      }
      return Outcome(
        user, conflict ? .conflict : .failed,
        "refused: \(AgentClient.printable(reason))" + (conflict ? " (--force replaces it)" : ""))
    case let reply: throw agent.unexpected(reply, to: "storing the record of \(user)")
    }
  }

  /// What `copyToAgent` would do, from the agent's record of `user`.
  private func planCopyToAgent(_ user: UserName, _ record: UserRecord, _ agent: AgentClient) throws(Failure) -> Outcome
  {
    let theirs: UserRecord
    switch try agent.record(of: user) {
    case .success(nil): return Outcome(user, .copied, "would copy")
    case .success(let found?): theirs = found
    case .failure(let refusal): return Outcome(user, .failed, "would fail: the agent refuses it: \(refusal.reason)")
    }
    let same = theirs.hasSameToken(as: record)
    if force {
      return Outcome(
        user, .copied,
        same ? "would copy over the fleet's record of the same enrollment" : "would copy over another enrollment")
    }
    if same {
      let catchUp = Self.catchUp(theirs, record, dryRun: true)
      return Outcome(
        user, catchUp.isEmpty ? .unchanged : .copied, (["already in the fleet store"] + catchUp).joined(separator: "; ")
      )
    }
    return Outcome(
      user, .conflict, "would be refused: enrolled in the fleet store with another enrollment (--force replaces it)")
  }

  /// What copying this store's record of the same enrollment changes in the agent's (logins
  /// here since the first copy), in words; none when nothing: the higher replay watermark or
  /// HOTP counter, and the backup codes used here stop working there.
  private static func catchUp(_ theirs: UserRecord, _ ours: UserRecord, dryRun: Bool) -> [String] {
    var raised = theirs
    raised.keepReplayWatermark(of: ours)
    var changes: [String] = []
    if raised.state != theirs.state {
      let name = ours.parameters.kind == .hotp ? "counter" : "replay watermark"
      changes.append(
        dryRun
          ? "its \(name) there is behind this store's and would be raised to it"
          : "its \(name) there was behind this store's and is raised to it")
    }
    raised.keepUsedBackupCodes(of: ours)
    let used = theirs.backupCodes.hashes.count - raised.backupCodes.hashes.count
    if used > 0 {
      changes.append(
        "the \(Output.counted(used, "backup code")) used here \(dryRun ? "would stop" : "stop") working there")
    }
    return changes
  }

  // MARK: From the agent

  /// Copies the agent's record of `user` into the store (or says what would happen; `store` is
  /// `nil` for a dry run into a store that does not exist yet); throws only when the agent
  /// cannot be asked, which stops the command.
  private func copyFromAgent(_ user: UserName, _ agent: AgentClient, into store: Store?) throws(Failure) -> Outcome {
    let fleet: UserRecord
    switch try agent.record(of: user) {
    case .success(let found?): fleet = found
    case .success(nil): return Outcome(user, .skipped, "skipped: removed from the fleet store since it was listed")
    case .failure(let refusal): return Outcome(user, .failed, "refused: \(refusal.reason)")
    }
    do {
      guard let store, !dryRun else {
        let local = try store.map { store throws(Failure) in try readReplaceable(user, in: store, holding: nil) }
        return plan(user, fleet, over: local ?? LocalRecord(record: nil)).outcome
      }
      return try store.whileLocked(user) { held throws(Failure) in
        let local = try readReplaceable(user, in: store, holding: held)
        let decided = plan(user, fleet, over: local)
        do throws(StoreError) {
          switch decided.write {
          case .none: break
          case .whole: try store.write(fleet, holding: held)
          case .merged(let merged): if let local = local.record { try store.save(merged, over: local, holding: held) }
          }
        } catch {
          throw .store(error)
        }
        return decided.outcome
      }
    } catch {
      return Outcome(user, .failed, notCopied + error.message)
    }
  }

  /// A local record as `readReplaceable` found it: `nil` with `unreadable` set when it could not
  /// be parsed and `--force` lets it be replaced.
  private struct LocalRecord {
    var record: UserRecord?
    var unreadable = false
  }

  /// `user`'s record in `store`, under `lock` when given; with `--force`, a record that does not
  /// parse counts as none (an unsafe one never does).
  private func readReplaceable(
    _ user: UserName, in store: Store, holding lock: UserLock?
  ) throws(Failure) -> LocalRecord {
    do {
      return LocalRecord(record: try store.read(user, holding: lock))
    } catch {
      guard case .malformedRecord = error else { throw .store(error) }
      guard force else {
        throw Failure(error.description + " (--force replaces it with the fleet's)", code: Exit.storeUnusable)
      }
      return LocalRecord(record: nil, unreadable: true)
    }
  }

  /// What the store is given: nothing, the fleet's record whole, or this store's record with
  /// the fleet's state merged in.
  private enum Write {
    case none
    case whole
    case merged(UserRecord)
  }

  /// What copying the fleet's record of `user` over `local` does (or would, in a dry run).
  private func plan(
    _ user: UserName, _ fleet: UserRecord, over local: LocalRecord
  ) -> (write: Write, outcome: Outcome) {
    guard let existing = local.record else {
      let detail = dryRun ? "would copy" : "copied"
      return (.whole, Outcome(user, .copied, detail + (local.unreadable ? " over an unreadable record" : "")))
    }
    guard fleet.hasSameToken(as: existing) else {
      if force {
        return (.whole, Outcome(user, .copied, (dryRun ? "would copy" : "copied") + " over another enrollment"))
      }
      return (
        .none,
        Outcome(
          user, .conflict,
          (dryRun ? "would be refused" : "refused")
            + ": enrolled in \(storeOptions.path) with another enrollment (--force replaces it with the fleet's)")
      )
    }
    let (merged, changes, remarks) = Self.merge(fleet, into: existing)
    let remark = remarks.isEmpty ? "" : " (" + remarks.joined(separator: "; ") + ")"
    guard !changes.isEmpty else { return (.none, Outcome(user, .unchanged, "already in the local store" + remark)) }
    let verb = dryRun ? "would be updated" : "updated"
    return (
      .merged(merged),
      Outcome(
        user, .updated, "\(verb) from the fleet (the same enrollment): " + changes.joined(separator: ", ") + remark)
    )
  }

  /// This store's record of a user with the fleet's state merged in: the higher replay
  /// watermark and HOTP counter of the two; the fleet's failures, lockout, last success and
  /// clock offset when they are newer; and only the backup codes unused on both sides. Returns
  /// what changed and what is worth knowing, in words.
  static func merge(
    _ fleet: UserRecord, into local: UserRecord
  ) -> (record: UserRecord, changes: [String], remarks: [String]) {
    var merged = local
    var changes: [String] = []
    var remarks: [String] = []
    if isNewer(fleet.state, than: local.state) {
      merged.state = fleet.state
      merged.keepReplayWatermark(of: local)
      changes.append("the fleet's newer login state")
    }
    merged.keepReplayWatermark(of: fleet)
    if changes.isEmpty && (merged.lastStep != local.lastStep || merged.counter != local.counter) {
      changes.append("the fleet's higher \(local.parameters.kind == .hotp ? "counter" : "replay watermark")")
    }
    let ours = local.backupCodes
    let theirs = fleet.backupCodes
    if ours.salt == theirs.salt && ours.iterations == theirs.iterations {
      // The same set: a code used on either side is used.
      merged.keepUsedBackupCodes(of: fleet)
      let used = ours.hashes.count - merged.backupCodes.hashes.count
      if used > 0 { changes.append("without the \(Output.counted(used, "backup code")) used in the fleet") }
    } else if !theirs.hashes.isEmpty {
      remarks.append("the fleet holds another set of backup codes; this store's are kept")
    }
    return (merged, changes, remarks)
  }

  /// Whether login state `a` is newer than `b`: a later last success, or the same one and more
  /// happened since (a later lockout, or more failures).
  static func isNewer(_ a: LoginState, than b: LoginState) -> Bool {
    (a.lastSuccess, a.lockedUntil, a.failures) > (b.lastSuccess, b.lockedUntil, b.failures)
  }

  // MARK: Both ways

  /// How the line of a user that could not be copied starts.
  private var notCopied: String { dryRun ? "would fail: " : "not copied: " }

  /// `user`'s record in `store`, read under the user's lock (so that its state is the one the
  /// last login saved, not one being written), except in a dry run, which must not create the
  /// lock's file. The lock is released before the agent is asked.
  private func localRecord(_ user: UserName, in store: Store) throws(Failure) -> UserRecord? {
    if dryRun {
      do { return try store.read(user) } catch { throw .store(error) }
    }
    return try store.whileLocked(user) { held throws(Failure) -> UserRecord? in
      do throws(StoreError) { return try store.read(user, holding: held) } catch { throw .store(error) }
    }
  }

  /// Prints the summary (or the JSON), then fails if any user was not copied or the command
  /// stopped early.
  private func report(
    _ outcomes: [Outcome], of total: Int, stopped: Failure?, agent: AgentClient
  ) throws(Failure) {
    let count = { (kind: Outcome.Kind) in outcomes.filter { $0.kind == kind }.count }
    if output.json {
      Output.printJSON([
        "direction": direction == .toAgent ? "to-agent" : "from-agent", "socket": agent.socket,
        "store": storeOptions.path,
        "dryRun": dryRun, "stopped": Output.orNull(stopped?.message),
        "users": outcomes.map { ["user": $0.user.description, "outcome": $0.kind.rawValue, "detail": $0.detail] },
      ])
    } else if total == 0 {
      print(
        direction == .toAgent
          ? "No users are enrolled in \(storeOptions.path); nothing to copy."
          : "The agent at \(agent.place) has no users; nothing to copy.")
    } else {
      let words: [(Outcome.Kind, String, String)] = [
        (.copied, "copied", "to copy"), (.updated, "updated", "to update"),
        (.unchanged, "already there", "already there"), (.skipped, "skipped", "skipped"),
        (.conflict, "refused (another enrollment)", "to be refused (another enrollment)"),
        (.failed, "failed", "to fail"),
      ]
      let parts = words.filter { count($0.0) > 0 }.map { "\(count($0.0)) \(dryRun ? $0.2 : $0.1)" }
      let way = direction == .toAgent ? "To" : "From"
      print(
        (dryRun ? "Dry run, nothing was written. " : "")
          + "\(way) the agent at \(agent.place), \(Output.counted(total, "user")): "
          + (parts.isEmpty ? "none tried" : parts.joined(separator: ", ")) + ".")
    }
    if let stopped {
      throw Failure(
        "\(stopped.message); stopped after \(outcomes.count) of \(Output.counted(total, "user"))",
        code: stopped.code)
    }
    let failed = count(.failed)
    let refused = failed + count(.conflict)
    guard refused > 0 else { return }
    throw Failure(
      "\(refused) of \(Output.counted(total, "user")) \(dryRun ? "would not be" : refused == 1 ? "was not" : "were not") "
        + "copied (see above)", code: failed > 0 ? Exit.storeUnusable : Exit.alreadyEnrolled)
  }
}
