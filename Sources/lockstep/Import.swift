import ArgumentParser
import LockstepAdmin
import LockstepCore
import LockstepPlatform

#if canImport(Glibc)
  import Glibc
#endif

/// `lockstep import`: moves existing enrollments over without re-enrolling phones.
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import enrollments from google-authenticator or pam_oath, keeping the users' phones.",
    subcommands: [ImportGoogleAuthenticator.self, ImportOath.self])
}

/// `lockstep import google-authenticator USER FILE`, or `--all` for every user's file.
struct ImportGoogleAuthenticator: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "google-authenticator",
    abstract: "Import a user's ~/.google_authenticator file (TOTP or HOTP, with its scratch codes), or every user's.",
    discussion: """
      The secret, the token type, the step size, the HOTP counter, the codes already used \
      (DISALLOW_REUSE) and the learnt clock skew (TIME_SKEW) are carried over; the scratch codes \
      become backup codes, stored only as hashes. Options lockstep sets in the PAM line instead \
      (the window) are reported, with the module argument that matches. The file itself is left \
      as it is; remove it once logins work. With --all, every account in the user database whose \
      home holds a .google_authenticator file it owns is imported, and a summary printed; users \
      already enrolled are skipped (replaced with --force), and nothing is written if any file \
      cannot be read or is not the user's own. --dry-run shows what would be imported.
      """)

  @OptionGroup var storeOptions: StoreOptions

  @Argument(help: ArgumentHelp("The user's login name (not with --all).", valueName: "user"))
  var user: String?

  @Argument(help: ArgumentHelp("The google-authenticator file to read (not with --all).", valueName: "file"))
  var file: String?

  @Flag(name: .long, help: "Import every user's ~/.google_authenticator, one user per file.")
  var all = false

  @Flag(name: .long, help: "Show what would be imported, and write nothing.")
  var dryRun = false

  @OptionGroup var unknownUser: UnknownUserOption

  @Flag(name: .long, help: "Replace an existing enrollment.")
  var force = false

  @OptionGroup var output: JSONOption

  /// The file name google-authenticator keeps in each user's home.
  static let fileName = ".google_authenticator"

  func validate() throws {
    if all {
      guard user == nil && file == nil else { throw ValidationError("--all takes no user or file") }
    } else if file == nil {
      throw ValidationError("give a user and a google-authenticator file, or --all for every user's")
    }
  }

  func run() throws {
    let store = try storeOptions.records(creating: true)
    if all { return try importAll(into: store) }
    let user = try UserArgument(user: self.user ?? "").name()
    let file = self.file ?? ""
    try unknownUser.check(user)
    try store.refuseExisting(user, force: force, remark: nothingImported)
    let (token, record, warnings) = try Self.read(file, for: user)
    if !dryRun { try write([(user, record)], to: store, force: force) }

    let p = token.parameters
    let windowNote: String? =
      token.windowSize.map { size in
        p.kind == .totp
          ? "google-authenticator accepted \(size) codes around now; the module argument window=\(token.suggestedWindow) "
            + "comes closest (the default is \(ModuleSetting.window.defaultValue))"
          : "google-authenticator accepted \(size) codes ahead; the module argument "
            + "lookahead=\(token.suggestedLookahead) comes closest (the default is \(ModuleSetting.lookahead.defaultValue))"
      }
    if output.json {
      Output.printJSON([
        "user": user.description, "kind": p.kind.rawValue, "algorithm": p.algorithm.rawValue, "digits": p.digits,
        "period": p.period, "backupCodes": token.scratchCodes.count, "suggestedWindow": token.suggestedWindow,
        "suggestedLookahead": token.suggestedLookahead, "warnings": warnings, "dryRun": dryRun,
      ])
    } else {
      print(
        (dryRun ? "Would import" : "Imported") + " \(user) from \(file): \(p.kind.rawValue) \(Output.parameters(p)), "
          + "\(token.scratchCodes.count) scratch codes as backup codes"
          + (dryRun ? " (dry run: nothing was written)." : "."))
      if let windowNote { print("Note: \(windowNote).") }
      for warning in warnings { printError("lockstep: warning: \(warning)") }
    }
  }

  /// Reads and parses one google-authenticator file as `user`'s record (a file that `owner`
  /// must own, when given); the warnings say what was not carried over.
  private static func read(
    _ file: String, for user: UserName, owner: uid_t? = nil
  ) throws(Failure) -> (
    ImportedToken, UserRecord, [String]
  ) {
    var bytes = try Input.file(path: file, limit: GoogleAuthenticatorFile.maximumSize, owner: owner)
    defer { wipe(&bytes) }
    let token: ImportedToken
    do { token = try GoogleAuthenticatorFile.parse(bytes: bytes) } catch {
      throw Failure("\(file) is not a usable google-authenticator file: \(error)", code: Exit.usage)
    }
    var warnings = token.warnings
    var offset: Int64 = 0
    if let skew = token.timeSkew {
      if UserRecord.offsetRange.contains(skew) {
        offset = skew
      } else {
        warnings.append("TIME_SKEW \(skew) is out of range and was not imported")
      }
    }
    let backup: BackupCodeHashes
    if token.scratchCodes.isEmpty {
      backup = .none
    } else {
      guard let hashes = BackupCodeHashes.issue(codes: token.scratchCodes, crypto: crypto) else {
        throw Failure("could not hash the scratch codes: the random generator failed", code: Exit.storeUnusable)
      }
      backup = hashes
    }
    let record = UserRecord(
      parameters: token.parameters, secret: token.secret, counter: token.counter, lastStep: token.lastUsedStep,
      offset: offset, enrolled: SystemClock.now(), backupCodes: backup)
    return (token, record, warnings)
  }

  /// `--all`: every account's file, all read before any is written.
  private func importAll(into store: RecordStore) throws(Failure) {
    var found: [(user: UserName, file: String, uid: uid_t)] = []
    var unusable: [(file: String, reason: String)] = []
    for account in Accounts.all() {
      let file = account.home + "/" + Self.fileName
      switch Accounts.ownFile(file, uid: account.uid) {
      case .absent: continue
      case .problem(let reason): unusable.append((file, reason))
      case .owned:
        guard let name = UserName(account.name) else {
          unusable.append(
            (file, "belongs to '\(LogText.escape(Array(account.name.utf8)))', which cannot be a record name"))
          continue
        }
        if !found.contains(where: { $0.file == file }) { found.append((name, file, account.uid)) }
      }
    }
    // A home shared by several accounts: the file is the one of the account that owns it.
    var problems = unusable.filter { problem in !found.contains { $0.file == problem.file } }.map {
      "\($0.file) \($0.reason)"
    }
    var toImport: [(UserName, UserRecord)] = []
    var skipped: [UserName] = []
    var warnings: [String] = []
    var imported: [[String: Any]] = []
    for (user, file, uid) in found {
      do {
        try store.refuseExisting(user, force: force)
      } catch  where error.code == Exit.alreadyEnrolled {
        skipped.append(user)
        continue
      }
      do {
        let (token, record, notes) = try Self.read(file, for: user, owner: uid)
        toImport.append((user, record))
        warnings += notes.map { "\(user): \($0)" }
        imported.append([
          "user": user.description, "file": file, "kind": token.parameters.kind.rawValue,
          "backupCodes": token.scratchCodes.count,
        ])
      } catch {
        problems.append(error.message)
      }
    }
    if let first = problems.first {
      for problem in problems.dropFirst() { printError("lockstep: \(problem).") }
      let more = problems.count > 1 ? " (and \(problems.count - 1) more problems, above)" : ""
      throw Failure("\(first)\(more); nothing was imported", code: Exit.usage)
    }
    if !dryRun { try write(toImport, to: store, force: force) }
    if output.json {
      Output.printJSON([
        "imported": imported, "skipped": skipped.map(\.description), "warnings": warnings, "dryRun": dryRun,
      ])
      return
    }
    let names = toImport.map { $0.0.description }
    print(
      (dryRun ? "Would import " : "Imported ") + Output.counted(names.count, "user")
        + (names.isEmpty ? "" : ": " + names.joined(separator: ", ")) + ".")
    if !skipped.isEmpty {
      print(
        "Skipped \(Output.counted(skipped.count, "user")) already enrolled: "
          + skipped.map(\.description).joined(separator: ", ") + " (--force replaces them).")
    }
    if dryRun { print("Dry run: nothing was written.") }
    for warning in warnings { printError("lockstep: warning: \(warning)") }
  }
}

/// `lockstep import pam-oath FILE [USER...]`.
struct ImportOath: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pam-oath",
    abstract: "Import users from a pam_oath users file such as /etc/users.oath (HOTP, HOTP/T30, HOTP/T60).",
    discussion: """
      Every user in the file is imported, or only the users named. The HOTP counter and, for \
      time-based tokens, the last code used are carried over, so no code works twice. PINs are \
      not imported (lockstep has none); keep a password module in the PAM stack. Nothing is \
      written if any line cannot be read or any user is already enrolled (without --force).
      """)

  @OptionGroup var storeOptions: StoreOptions

  @Argument(help: ArgumentHelp("The pam_oath users file to read.", valueName: "file"))
  var file: String

  @Argument(help: ArgumentHelp("Import only these users (default: everyone in the file).", valueName: "user"))
  var users: [String] = []

  @Flag(name: .long, help: "Replace existing enrollments.")
  var force = false

  @OptionGroup var output: JSONOption

  func run() throws {
    let store = try storeOptions.records(creating: true)
    var wanted: [UserName] = []
    for name in users { wanted.append(try UserArgument(user: name).name()) }
    var bytes = try Input.file(path: file, limit: OathUsersFile.maximumSize)
    defer { wipe(&bytes) }
    let contents = OathUsersFile.parse(bytes: bytes)
    if let first = contents.errors.first {
      let more = contents.errors.count > 1 ? " (and \(contents.errors.count - 1) more problems)" : ""
      throw Failure("\(file) \(first)\(more); nothing was imported", code: Exit.usage)
    }
    var entries = contents.entries
    if !wanted.isEmpty {
      for name in wanted where !entries.contains(where: { $0.user == name }) {
        throw Failure("\(name) is not in \(file); nothing was imported", code: Exit.notEnrolled)
      }
      entries = entries.filter { wanted.contains($0.user) }
    }
    guard !entries.isEmpty else { throw Failure("\(file) has no users to import", code: Exit.usage) }
    for entry in entries { try store.refuseExisting(entry.user, force: force, remark: nothingImported) }

    let now = SystemClock.now()
    var records: [(UserName, UserRecord)] = []
    var warnings: [String] = []
    var summaries: [[String: Any]] = []
    for entry in entries {
      var lastStep: Int64?
      if entry.parameters.kind == .totp {
        lastStep = entry.lastStep ?? OathUsersFile.resolveLastStep(of: entry, crypto: crypto)
      }
      records.append(
        (
          entry.user,
          UserRecord(
            parameters: entry.parameters, secret: entry.secret, counter: entry.counter, lastStep: lastStep,
            enrolled: now)
        ))
      warnings += entry.warnings
      summaries.append([
        "user": entry.user.description, "kind": entry.parameters.kind.rawValue,
        "algorithm": entry.parameters.algorithm.rawValue, "digits": entry.parameters.digits,
        "period": entry.parameters.period, "counter": entry.counter, "lastStep": Output.orNull(lastStep),
      ])
    }
    try write(records, to: store, force: force)
    if output.json {
      Output.printJSON(["imported": summaries, "warnings": warnings])
    } else {
      for (user, record) in records {
        print("Imported \(user): \(record.parameters.kind.rawValue) \(Output.parameters(record.parameters)).")
      }
      for warning in warnings { printError("lockstep: warning: \(warning)") }
    }
  }
}

/// How a refusal of an import that wrote nothing ends.
private let nothingImported = " (nothing was imported)"

/// Writes each record, checking again that the user did not get enrolled meanwhile.
private func write(_ records: [(UserName, UserRecord)], to store: RecordStore, force: Bool) throws(Failure) {
  for (user, record) in records {
    try store.enroll(record, for: user, force: force, remark: nothingImported)
  }
}
