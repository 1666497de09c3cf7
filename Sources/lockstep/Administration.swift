import ArgumentParser
import LockstepCore
import LockstepPlatform

/// `lockstep revoke USER`: removes an enrollment.
struct Revoke: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Remove a user's enrollment: the secret and backup codes stop working at once.",
    discussion: """
      The record is removed while holding the user's lock, so a login in progress finishes \
      first. An unreadable record is removed only with --force; an unsafe one (a link, a file \
      owned by someone else) never is. With --contact, only the email address or number codes \
      are sent to is removed (and any code sent and not yet used), and the authenticator app \
      keeps working.
      """)

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var userArgument: UserArgument

  @Flag(name: .long, help: "Remove the record even if it cannot be parsed.")
  var force = false

  @Flag(name: .long, help: "Remove only the address codes are sent to, keeping the authenticator app.")
  var contact = false

  func validate() throws {
    if contact && force {
      throw ValidationError("--contact changes a record, which must parse; --force is for removing one")
    }
  }

  func run() throws {
    let store = try storeOptions.records()
    let user = try userArgument.name()
    guard contact else {
      try store.remove(user, force: force)
      print("Revoked \(user)'s enrollment.")
      return
    }
    let (before, _) = try store.update(user) { record throws(Failure) in
      guard record.parameters.kind != .delivered else {
        throw Failure(
          "\(user) has no authenticator app, only the address; revoke the whole enrollment instead", code: Exit.refused)
      }
      record.contact = nil
      record.state.sent.dropPendingCode()
    }
    print(
      before.contact.map { "Removed \(user)'s \($0.channel.name) address \($0.masked); the app's codes still work." }
        ?? "\(user) had no address codes are sent to; nothing changed.")
  }
}

/// `lockstep unlock USER`: clears a lockout.
struct Unlock: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Clear a user's lockout and failure count, so the next code is checked.")

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var userArgument: UserArgument

  func run() throws {
    let store = try storeOptions.records()
    let user = try userArgument.name()
    let now = SystemClock.now()
    let (before, _) = try store.update(user) { record throws(Failure) in
      record.failures = 0
      record.lockedUntil = 0
    }
    let wasLocked = before.lockedUntil != 0 && now < before.lockedUntil
    print(
      "Unlocked \(user) (it had \(Output.counted(Int(before.failures), "consecutive failure"))"
        + (wasLocked ? " and was locked until \(Output.time(before.lockedUntil)))." : " and was not locked)."))
  }
}

/// `lockstep backup-codes USER`: issues a fresh set of backup codes.
struct BackupCodes: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "backup-codes",
    abstract: "Issue a fresh set of backup codes, invalidating the old ones, without changing the secret.",
    discussion: "The new codes are printed once; only their hashes are stored.")

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var userArgument: UserArgument
  @OptionGroup var output: JSONOption

  @Option(name: .long, help: "How many codes to issue, 1 to 100.")
  var count = BackupCodeHashes.defaultCount

  func validate() throws {
    guard (1...BackupCodeHashes.maximumCount).contains(count) else {
      throw ValidationError("--count must be between 1 and \(BackupCodeHashes.maximumCount)")
    }
  }

  func run() throws {
    let store = try storeOptions.records()
    let user = try userArgument.name()
    _ = try store.record(of: user)  // fail early, before the slow hashing
    let issued = try issueBackupCodes(count: count)
    try store.update(user) { record throws(Failure) in record.backupCodes = issued.hashes }
    let codes = Output.codes(issued.codes)
    if output.json {
      Output.printJSON(["user": user.description, "backupCodes": codes])
    } else {
      print("New backup codes for \(user) (each works once; the old ones no longer work):")
      for code in codes { print("  \(code)") }
    }
  }
}
