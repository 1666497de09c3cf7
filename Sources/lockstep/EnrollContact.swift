import LockstepCore
import LockstepPlatform

extension Enroll {
  /// `enroll --email` or `--sms`: confirms the contact with a code the agent sends to it (unless
  /// `--no-confirm`), then adds it to the user's record, or makes a record of its own for a user
  /// with no authenticator app (and backup codes for when no code can be sent).
  func enroll(_ contact: Contact, for user: UserName, in store: RecordStore) throws(Failure) {
    let existing = force ? nil : try store.read(user)
    if !noConfirm { try confirm(contact, for: user) }
    let backupCodes: [[UInt8]]
    if existing != nil {
      try store.update(user) { record throws(Failure) in record.contact = contact }
      backupCodes = []
    } else {
      let parameters = TokenParameters(
        kind: .delivered, algorithm: token.parameters.algorithm, digits: token.digits, period: token.period)
      var record = UserRecord(parameters: parameters, secret: SecretBytes([]), enrolled: SystemClock.now())
      record.contact = contact
      let backup = try issueBackupCodes(count: 10)
      record.backupCodes = backup.hashes
      try store.enroll(record, for: user, force: force)
      backupCodes = backup.codes
    }
    let codes = Output.codes(backupCodes)
    if output.json {
      var object: [String: Any] = [
        "user": user.description, "channel": contact.channel.name, "contact": contact.masked,
        "confirmed": !noConfirm, "alone": existing == nil,
      ]
      if existing == nil { object["backupCodes"] = codes }
      Output.printJSON(object)
      return
    }
    if existing != nil {
      print("Codes for \(user) can now also be sent by \(contact.channel.name) to \(contact.masked).")
    } else {
      print("Enrolled \(user) in \(store.place): codes are sent by \(contact.channel.name) to \(contact.masked).")
      print("Backup codes (each works once; they are shown only now):")
      for code in codes { print("  \(code)") }
    }
  }

  /// Has the agent send a code to `contact`, and asks for it back: up to three tries.
  private func confirm(_ contact: Contact, for user: UserName) throws(Failure) {
    let agent = try storeOptions.sendingAgent()
    guard let code = SentCode.make(digits: token.digits, crypto: crypto) else {
      throw Failure("could not make a code: the random generator failed", code: Exit.storeUnusable)
    }
    switch try agent.answer(.deliver(user, contact: contact, code: code)) {
    case .sent: printError("A code was sent by \(contact.channel.name) to \(contact.masked).")
    case .notSent:
      throw Failure(
        "the agent at \(agent.place) could not send a code to \(contact.masked) (its log says why); "
          + "check the delivery settings in lockstepd.conf, or give --no-confirm",
        code: Exit.refused)
    case let reply: throw agent.unexpected(reply, to: "sending a code to \(contact.masked)")
    }
    for _ in 1...3 {
      let typed = try Input.code(prompt: "Type the code sent to \(contact.masked): ")
      let equal = typed.withUnsafeBytes { a in code.withUnsafeBytes { crypto.constantTimeEqual(a, $0) } }
      if equal { return }
      printError("lockstep: that is not the code sent.")
    }
    throw Failure("the code sent to \(contact.masked) was not typed, so nothing was saved", code: Exit.refused)
  }
}
