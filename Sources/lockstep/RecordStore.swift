import LockstepCore
import LockstepPlatform

/// Where a command reads and writes records: this host's store directory, or the store of the
/// agent (lockstepd) that lockstepd.conf sets up, a fleet's database. Every command that works
/// on records goes through this, so that each one behaves the same on both.
///
/// On a directory, a change is made under the user's lock. Through the agent, a change is a
/// fetch, the change, and an `update` that the agent makes only if the record is still the one
/// fetched; when a login on some host changed it in between (a code or backup code used, a
/// failure counted), the change is made again on the new record, so that nothing a login
/// recorded is lost.
enum RecordStore {
  case directory(Store)
  case agent(AgentClient)

  /// How many times a change through the agent is made again on a record that logins keep
  /// changing, before the command gives up.
  static let updateAttempts = 5

  /// The store as messages name it: the directory, or the agent's socket.
  var place: String {
    switch self {
    case .directory(let store): store.path
    case .agent(let agent): agent.storeName
    }
  }

  /// The enrolled users, by name.
  func names() throws(Failure) -> [UserName] {
    switch self {
    case .directory(let store):
      do { return try store.userNames() } catch { throw .store(error) }
    case .agent(let agent): return try agent.names()
    }
  }

  /// `user`'s record, or `nil` when the user is not enrolled; fails when the record cannot be
  /// read or trusted.
  func read(_ user: UserName) throws(Failure) -> UserRecord? {
    switch self {
    case .directory(let store):
      do { return try store.read(user) } catch { throw .store(error) }
    case .agent(let agent):
      switch try agent.record(of: user) {
      case .success(let record): return record
      case .failure(let refusal):
        throw agent.refusal(refusal.reason, of: "the record of \(user)")
      }
    }
  }

  /// `user`'s record; fails when the user is not enrolled.
  func record(of user: UserName) throws(Failure) -> UserRecord {
    guard let record = try read(user) else { throw .notEnrolled(user, in: place) }
    return record
  }

  /// Fails when `user` is enrolled and `force` is off. With `force`, a record that cannot be
  /// parsed may be replaced, but not one that is unsafe (a link, a foreign owner).
  func refuseExisting(_ user: UserName, force: Bool, remark: String = "") throws(Failure) {
    let found: Bool
    switch self {
    case .directory(let store):
      do { found = try store.read(user) != nil } catch {
        if case .malformedRecord = error, force { return }
        throw .store(error)
      }
    case .agent(let agent):
      switch try agent.record(of: user) {
      case .success(let record): found = record != nil
      case .failure where force: return
      case .failure(let refusal):
        throw agent.refusal(refusal.reason, of: "the record of \(user)")
      }
    }
    guard found && !force else { return }
    throw Failure(
      "\(user) is already enrolled; use --force to replace the enrollment\(remark)", code: Exit.alreadyEnrolled)
  }

  /// Writes a new enrollment of `user`: refused when the user is enrolled already, unless
  /// `force`, which replaces it.
  func enroll(_ record: UserRecord, for user: UserName, force: Bool, remark: String = "") throws(Failure) {
    switch self {
    case .directory(let store):
      try store.whileLocked(
        user, checkingAgain: { () throws(Failure) in try refuseExisting(user, force: force, remark: remark) }
      ) { held throws(Failure) in
        do throws(StoreError) { try store.write(record, holding: held) } catch { throw .store(error) }
      }
    case .agent(let agent):
      let request = AgentRequest.store(user, record: RecordFormat.serialize(record), mode: force ? .replace : .create)
      switch try agent.answer(request) {
      case .done: return
      case .refused(let reason):
        // Enrolled from elsewhere since the check: the same refusal as the check's.
        try refuseExisting(user, force: force, remark: remark)
        throw agent.refusal(AgentClient.printable(reason), of: "the record of \(user)")
      case let reply: throw agent.unexpected(reply, to: "storing the record of \(user)")
      }
    }
  }

  /// Reads `user`'s record, lets `change` modify it, and saves it; nothing is written if
  /// `change` throws or leaves the record as it was. Returns the record as it was and as it is
  /// now. Fails when the user is not enrolled.
  @discardableResult
  func update(
    _ user: UserName, _ change: (inout UserRecord) throws(Failure) -> Void
  ) throws(Failure) -> (before: UserRecord, after: UserRecord) {
    switch self {
    case .directory(let store): return try store.update(user, change)
    case .agent(let agent):
      for _ in 0..<Self.updateAttempts {
        let before = try record(of: user)
        var after = before
        try change(&after)
        let expected = RecordFormat.serialize(before)
        let changed = RecordFormat.serialize(after)
        guard !changed.hasSameBytes(as: expected) else { return (before, after) }
        switch try agent.answer(.update(user, expected: expected, record: changed)) {
        case .done: return (before, after)
        case .outdated: continue
        case .notEnrolled: throw .notEnrolled(user, in: place)
        case .refused(let reason):
          throw agent.refusal(AgentClient.printable(reason), of: "the record of \(user)")
        case let reply: throw agent.unexpected(reply, to: "updating the record of \(user)")
        }
      }
      throw Failure(
        "the record of \(user) changed \(Self.updateAttempts) times while this command ran (logins in progress); "
          + "nothing was changed, try again", code: Exit.storeUnusable)
    }
  }

  /// Removes `user`'s record; fails when the user is not enrolled. With `force`, a local
  /// record that cannot be parsed is removed too.
  func remove(_ user: UserName, force: Bool) throws(Failure) {
    switch self {
    case .directory(let store):
      let check = { () throws(Failure) in
        do {
          guard try store.read(user) != nil else { throw Failure.notEnrolled(user, in: store.path) }
        } catch let error as StoreError {
          guard case .malformedRecord = error, force else { throw Failure.store(error) }
        } catch let error as Failure {
          throw error
        } catch {
          throw Failure("\(error)", code: Exit.storeUnusable)
        }
      }
      try check()
      try store.whileLocked(user, checkingAgain: check) { held throws(Failure) in
        do throws(StoreError) { try store.remove(holding: held) } catch { throw Failure.store(error) }
      }
    case .agent(let agent):
      switch try agent.answer(.remove(user)) {
      case .done(changed: true): return
      case .done(changed: false): throw .notEnrolled(user, in: place)
      case .refused(let reason):
        throw agent.refusal(AgentClient.printable(reason), of: "the removal of \(user)")
      case let reply: throw agent.unexpected(reply, to: "removing the record of \(user)")
      }
    }
  }
}
