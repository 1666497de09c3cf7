import ArgumentParser
import LockstepCore
import LockstepPlatform

/// `lockstep enroll USER`: gives a user a new secret, shows it as a URI and QR code, confirms
/// one code, and issues backup codes.
struct Enroll: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Enroll a user: create a secret, show it as a QR code, and issue backup codes.",
    discussion: """
      A new 160-bit secret is generated unless --secret-file gives one in base32 (use - for \
      standard input; a secret is never accepted on the command line). The otpauth:// URI and its \
      QR code are shown for the user's authenticator app, and one current code is asked for \
      before anything is saved, so a mistyped setup never locks the user out. The backup codes \
      are printed once and only their hashes are stored. The user must be an account on this \
      host (the system's user database knows it); give --allow-unknown-user for a name that \
      LDAP or SSSD will provide later.

      With --email or --sms, codes are sent to the user by lockstepd instead (see lockstepd(8)): \
      for a user already enrolled, the address is added beside the authenticator app; otherwise \
      (or with --force) the user gets a record with no secret, only the address and backup codes. \
      The address is confirmed first by a code the agent sends to it, unless --no-confirm.
      """)

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var userArgument: UserArgument
  @OptionGroup var unknownUser: UnknownUserOption
  @OptionGroup var output: JSONOption

  @Option(
    name: .long,
    help: ArgumentHelp("Read the base32 secret from this file, or from standard input for -.", valueName: "file"))
  var secretFile: String?

  @OptionGroup var token: TokenOptions

  @Option(name: .long, help: "The account name shown in the authenticator app (default: the user name).")
  var label: String?

  @Option(name: .long, help: "How to draw the QR code: utf8, ansi or none (default: utf8 on a terminal, else none).")
  var qr: QRStyle?

  @Option(name: .long, help: ArgumentHelp("Have codes sent to this email address.", valueName: "address"))
  var email: String?

  @Option(
    name: .long,
    help: ArgumentHelp("Have codes sent by SMS to this number, in E.164 form (+447700900123).", valueName: "number"))
  var sms: String?

  @Flag(name: .long, help: "Save without asking for a current code (or one sent to --email or --sms) first.")
  var noConfirm = false

  @Flag(name: .long, help: "Replace an existing enrollment (the old secret and backup codes stop working).")
  var force = false

  func validate() throws {
    guard email == nil || sms == nil else { throw ValidationError("give --email or --sms, not both") }
    if let email, Contact(email: email) == nil {
      throw ValidationError("'\(LogText.escape(Array(email.utf8)))' is not an email address lockstep sends to")
    }
    if let sms, Contact(phone: sms) == nil {
      throw ValidationError("--sms needs a number in E.164 form: +, the country code, then the number (+447700900123)")
    }
    if contact != nil && (secretFile != nil || token.hotp || qr != nil) {
      throw ValidationError("--secret-file, --hotp and --qr are for an authenticator app, not --email or --sms")
    }
  }

  /// The contact given, checked by `validate`.
  var contact: Contact? { email.flatMap { Contact(email: $0) } ?? sms.flatMap { Contact(phone: $0) } }

  func run() throws {
    let store = try storeOptions.records(creating: true)
    let user = try userArgument.name()
    try unknownUser.check(user)
    if let contact { return try enroll(contact, for: user, in: store) }
    let previous = force ? try? store.read(user) : nil
    try store.refuseExisting(user, force: force)

    let secret = try secretFile.map { path throws(Failure) in try Input.secret(path: path) } ?? TokenOptions.newSecret()
    let parameters = token.parameters
    let issuer = token.effectiveIssuer
    let label = self.label ?? user.description
    let uri = KeyURI.make(secret: secret, parameters: parameters, issuer: issuer, label: label)
    let now = SystemClock.now()
    var record = UserRecord(parameters: parameters, secret: secret, enrolled: now)
    // A contact stays beside the new secret.
    record.contact = previous?.contact

    // Show the URI before asking for a code; with --json the result goes to standard output
    // at the end, so the URI goes to standard error when a code is asked for.
    let style = QRStyle.effective(qr)
    if !output.json {
      show(uri: uri, style: style, to: { print($0) })
    } else if !noConfirm {
      show(uri: uri, style: style, to: { printError($0) })
    }

    if !noConfirm {
      let typed = try Input.code(
        prompt: "Type the code the authenticator app shows now: ", usedStandardInput: secretFile == "-")
      let attempt = typed.withUnsafeBytes { Attempt.typed($0) }
      let verifier = Verifier(policy: VerificationPolicy(), crypto: crypto)
      let (outcome, updated) = verifier.verify(attempt, against: record, now: now)
      guard case .accepted(.code) = outcome, let updated else {
        throw Failure(
          "the code is wrong, so nothing was saved; check the app's clock and try again",
          code: Exit.refused)
      }
      // The confirmation code is used up: it cannot be replayed at a login.
      record.lastStep = updated.lastStep
      record.counter = updated.counter
    }

    let backup = try issueBackupCodes(count: BackupCodeHashes.defaultCount)
    record.backupCodes = backup.hashes

    try store.enroll(record, for: user, force: force)

    let codes = Output.codes(backup.codes)
    if output.json {
      Output.printJSON([
        "user": user.description, "uri": uri, "kind": parameters.kind.rawValue,
        "algorithm": parameters.algorithm.rawValue, "digits": parameters.digits, "period": parameters.period,
        "issuer": issuer, "label": label, "confirmed": !noConfirm, "backupCodes": codes,
      ])
    } else {
      print("Enrolled \(user) in \(store.place).")
      if !noConfirm {
        // The module refuses the confirmation code as a replay, and counts it as a failure.
        print(
          parameters.kind == .totp
            ? "The code just typed is used up: wait for the app's next code (within \(parameters.period) seconds) to log in."
            : "The code just typed is used up: have the app show the next code to log in.")
      }
      print("Backup codes (each works once; they are shown only now):")
      for code in codes { print("  \(code)") }
    }
  }

  private func show(uri: String, style: QRStyle, to write: (String) -> Void) {
    if style != .none {
      if let code = QRCode(uri) {
        write(code.rendered(style))
      } else {
        printError("lockstep: warning: the URI is too long for a QR code; type it into the app instead.")
      }
    }
    write(uri)
  }
}
