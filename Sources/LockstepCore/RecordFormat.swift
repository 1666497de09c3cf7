/// The on-disk text of a user record, version 1.
///
/// ```
/// lockstep-record 1
/// kind totp
/// algorithm SHA1
/// digits 6
/// period 30
/// secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
/// counter 0
/// last-step 59017393
/// offset 0
/// failures 0
/// locked-until 0
/// last-success 1770521790
/// enrolled 1770520000
/// state-id 5f3a9c0e12d47b86
/// backup-iterations 50000
/// backup-salt 8f0c...
/// backup-code 3b1e...
/// ```
///
/// An invitation (`Invitation`) not taken up yet adds `invited-until` (Unix time),
/// `invite-issuer` (text, optional) and `invite-qr` (the QR code's matrix in hex, as
/// `QRMatrix.encoded` writes it), or `sealed-invite-qr` (the same sealed under the host key) in a
/// sealed store.
///
/// A user whose codes are sent has a contact, `email alice@example.com` or `sms +447700900123`
/// (at most one), and, once a code has been sent, the sent-code state (`SentCodeState`):
/// `sent-code` (the pending code's keyed hash, hex; absent when none is pending),
/// `sent-code-expires`, `sent-code-attempts`, `send-window-start`, `sends-in-window` and
/// `last-send`. A user with no authenticator app is `kind delivered`: no `secret`, a contact
/// required, and `algorithm` and `digits` saying how sent codes are made.
///
/// The first line names the format and its version; every other line is a key, one space and
/// a value. In a sealed store the key is not in clear: `sealed-secret` holds it sealed under the
/// host key (hex, see `Sealing`) instead of `secret`. One of the two, `kind`, `algorithm` and
/// `digits` are required; the others default to
/// zero (and `last-step` to none); `backup-code` may repeat, every other key appears at most
/// once. `counter` to `last-success` are the state as of the record's writing; once logins
/// have changed it, the current state is in the user's state file (`StateSlot`), tied to this
/// version of the record by `state-id`. Blank lines and lines starting with `#` are ignored. Anything else — an unknown key,
/// a number out of range, a value that does not parse — makes the whole record invalid: the
/// module fails closed rather than guess.
public enum RecordFormat {
  /// The first word of every record.
  public static let magic = "lockstep-record"
  /// The version this code reads and writes.
  public static let version = 1
  /// The largest record accepted, in bytes.
  public static let maximumSize = 64 * 1024

  /// Parses a record from its bytes. A sealed secret is given to `opening`, which returns it in
  /// clear, or `nil` when it does not open; without `opening`, a sealed record is refused.
  public static func parse(
    _ text: UnsafeRawBufferPointer, opening: (([UInt8]) -> SecretBytes?)? = nil
  ) throws(LineError) -> UserRecord {
    guard text.count <= maximumSize else { throw LineError(line: 0, "the record is too large") }
    var fields = Fields()
    var lineNumber = 0
    var sawHeader = false
    var start = 0
    while start < text.count {
      var end = start
      while end < text.count && text[end] != UInt8(ascii: "\n") { end += 1 }
      lineNumber += 1
      let line = UnsafeRawBufferPointer(rebasing: text[start..<end])
      start = end + 1
      if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
      guard let space = line.firstIndex(of: UInt8(ascii: " ")) else {
        throw LineError(line: lineNumber, "expected a key and a value")
      }
      let key = String(decoding: line[..<space], as: UTF8.self)
      let value = UnsafeRawBufferPointer(rebasing: line[(space + 1)...])
      if !sawHeader {
        guard key == magic else { throw LineError(line: lineNumber, "not a lockstep record") }
        guard let v = Int64(ascii: value), v == Int64(version) else {
          throw LineError(line: lineNumber, "unsupported record version")
        }
        sawHeader = true
        continue
      }
      try fields.take(key: key, value: value, line: lineNumber)
    }
    guard sawHeader else { throw LineError(line: 0, "the record is empty") }
    if let sealed = fields.sealedSecret {
      guard fields.secret == nil else { throw LineError(line: 0, "'secret' and 'sealed-secret' exclude each other") }
      guard let opening else { throw LineError(line: 0, "the secret is sealed, and no host key was given") }
      guard let secret = opening(sealed) else {
        throw LineError(line: 0, "the sealed secret does not open with the host key (another key, or another user's)")
      }
      fields.secret = secret
    }
    if let sealed = fields.sealedInviteQR {
      guard fields.inviteQR == nil else {
        throw LineError(line: 0, "'invite-qr' and 'sealed-invite-qr' exclude each other")
      }
      guard let opening, let opened = opening(sealed) else {
        throw LineError(line: 0, "the sealed invitation does not open with the host key")
      }
      fields.inviteQR = opened.withUnsafeBytes { Array($0) }
    }
    return try fields.record()
  }

  /// Whether the record in `text` holds no secret in clear, whatever else it holds: its secret
  /// is sealed (`sealed-secret`), or it is a `delivered` record, which has none.
  public static func isSealed(_ text: UnsafeRawBufferPointer) -> Bool {
    var sealed = false
    let record = try? parse(
      text,
      opening: { _ in
        sealed = true
        return nil
      })
    return sealed || record?.parameters.kind == .delivered
  }

  /// The text of `record`, in secret storage because it contains the key: in clear, or as
  /// `sealedSecret` (the secret sealed under the host key) when that is given, and an
  /// invitation's QR code as `sealedInviteQR` likewise.
  public static func serialize(
    _ record: UserRecord, sealedSecret: [UInt8]? = nil, sealedInviteQR: [UInt8]? = nil
  ) -> SecretBytes {
    var text: [UInt8] = []
    text.reserveCapacity(512 + record.backupCodes.hashes.count * 80)
    func line(_ key: String, _ value: String) {
      text.append(contentsOf: key.utf8)
      text.append(UInt8(ascii: " "))
      text.append(contentsOf: value.utf8)
      text.append(UInt8(ascii: "\n"))
    }
    let p = record.parameters
    line(magic, String(version))
    line("kind", p.kind.rawValue)
    line("algorithm", p.algorithm.rawValue)
    line("digits", String(p.digits))
    line("period", String(p.period))
    if p.kind == .delivered {
      // No secret: the codes are sent.
    } else if let sealedSecret {
      line("sealed-secret", Hex.encode(sealedSecret))
    } else {
      text.append(contentsOf: "secret ".utf8)
      record.secret.withUnsafeBytes { Base32.encode($0, appendingTo: &text) }
      text.append(UInt8(ascii: "\n"))
    }
    line("counter", String(record.counter))
    line("last-step", record.lastStep.map { String($0) } ?? "none")
    line("offset", String(record.offset))
    line("failures", String(record.failures))
    line("locked-until", String(record.lockedUntil))
    line("last-success", String(record.lastSuccess))
    line("enrolled", String(record.enrolled))
    line("state-id", Hex.encode((0..<8).map { UInt8(truncatingIfNeeded: record.stateID >> (56 - 8 * $0)) }))
    if let invitation = record.invitation {
      line("invited-until", String(invitation.expires))
      if !invitation.issuer.isEmpty { line("invite-issuer", invitation.issuer) }
      if let sealedInviteQR {
        line("sealed-invite-qr", Hex.encode(sealedInviteQR))
      } else {
        line("invite-qr", Hex.encode(invitation.qr.encoded))
      }
    }
    switch record.contact {
    case .email(let address): line("email", address)
    case .sms(let number): line("sms", number)
    case nil: break
    }
    let sent = record.state.sent
    if !sent.isEmpty {
      if !sent.digest.isEmpty { line("sent-code", Hex.encode(sent.digest)) }
      line("sent-code-expires", String(sent.expires))
      line("sent-code-attempts", String(sent.attemptsLeft))
      line("send-window-start", String(sent.windowStart))
      line("sends-in-window", String(sent.sendsInWindow))
      line("last-send", String(sent.lastSend))
    }
    let backup = record.backupCodes
    if !backup.hashes.isEmpty {
      line("backup-iterations", String(backup.iterations))
      line("backup-salt", Hex.encode(backup.salt))
      for hash in backup.hashes { line("backup-code", Hex.encode(hash)) }
    }
    let result = SecretBytes(text)
    wipe(&text)
    return result
  }
}

/// The fields of a record as they are read, before they are checked as a whole.
private struct Fields {
  var kind: TokenKind?
  var algorithm: OTPAlgorithm?
  var digits: Int?
  var period: Int?
  var secret: SecretBytes?
  var sealedSecret: [UInt8]?
  var counter: UInt64?
  var lastStep: Int64??
  var offset: Int64?
  var failures: Int?
  var lockedUntil: Int64?
  var lastSuccess: Int64?
  var enrolled: Int64?
  var backupIterations: Int?
  var backupSalt: [UInt8]?
  var backupCodes: [[UInt8]] = []
  var stateID: UInt64?
  var contact: Contact?
  var invitedUntil: Int64?
  var inviteIssuer: String?
  var inviteQR: [UInt8]?
  var sealedInviteQR: [UInt8]?
  var sentDigest: [UInt8]?
  var sentExpires: Int64?
  var sentAttempts: Int?
  var sendWindowStart: Int64?
  var sendsInWindow: Int?
  var lastSend: Int64?

  mutating func take(key: String, value: UnsafeRawBufferPointer, line: Int) throws(LineError) {
    func once<T>(_ slot: T?, _ parsed: T?) throws(LineError) -> T {
      guard slot == nil else { throw LineError(line: line, "'\(key)' appears twice") }
      guard let parsed else { throw LineError(line: line, "invalid value for '\(key)'") }
      return parsed
    }
    func number(_ range: ClosedRange<Int64>) -> Int64? {
      guard let n = Int64(ascii: value), range.contains(n) else { return nil }
      return n
    }
    let text = { String(decoding: value, as: UTF8.self) }
    let unixTime: ClosedRange<Int64> = 0...UserRecord.latestTime
    switch key {
    case "kind": kind = try once(kind, TokenKind(rawValue: text()))
    case "algorithm": algorithm = try once(algorithm, OTPAlgorithm(name: text()))
    case "digits":
      digits = try once(
        digits,
        number(Int64(TokenParameters.digitRange.lowerBound)...Int64(TokenParameters.digitRange.upperBound)).map(
          Int.init))
    case "period":
      period = try once(
        period,
        number(Int64(TokenParameters.periodRange.lowerBound)...Int64(TokenParameters.periodRange.upperBound)).map(
          Int.init))
    case "secret":
      guard secret == nil else { throw LineError(line: line, "'secret' appears twice") }
      guard let decoded = Base32.decode(value) else {
        throw LineError(line: line, "the secret is not valid base32")
      }
      secret = decoded
    case "sealed-secret":
      guard sealedSecret == nil else { throw LineError(line: line, "'sealed-secret' appears twice") }
      guard let blob = Hex.decode(value), blob.count > Sealing.nonceLength + Sealing.tagLength else {
        throw LineError(line: line, "the sealed secret is not a sealed blob in hex")
      }
      sealedSecret = blob
    case "counter":
      counter = try once(counter, UInt64(ascii: value).flatMap { $0 <= UserRecord.largestCounter ? $0 : nil })
    case "last-step":
      let parsed: Int64?? = text() == "none" ? .some(nil) : number(0...Int64.max).map { .some($0) }
      lastStep = try once(lastStep, parsed)
    case "offset": offset = try once(offset, number(UserRecord.offsetRange))
    case "failures": failures = try once(failures, number(0...Int64(UserRecord.largestFailureCount)).map(Int.init))
    case "locked-until": lockedUntil = try once(lockedUntil, number(unixTime))
    case "last-success": lastSuccess = try once(lastSuccess, number(unixTime))
    case "enrolled": enrolled = try once(enrolled, number(unixTime))
    case "state-id":
      stateID = try once(
        stateID, Hex.decode(value).flatMap { $0.count == 8 ? $0.reduce(0) { $0 << 8 | UInt64($1) } : nil })
    case "email", "sms":
      guard contact == nil else { throw LineError(line: line, "a record holds one 'email' or 'sms'") }
      let parsed = key == "email" ? Contact(email: text()) : Contact(phone: text())
      guard let parsed else {
        throw LineError(line: line, key == "email" ? "invalid email address" : "invalid number (E.164: +, then digits)")
      }
      contact = parsed
    case "invited-until": invitedUntil = try once(invitedUntil, number(unixTime))
    case "invite-issuer":
      inviteIssuer = try once(
        inviteIssuer,
        String(validating: Array(value), as: UTF8.self).flatMap { Invitation.isValidIssuer($0) ? $0 : nil })
    case "invite-qr": inviteQR = try once(inviteQR, Hex.decode(value))
    case "sealed-invite-qr":
      sealedInviteQR = try once(
        sealedInviteQR, Hex.decode(value).flatMap { $0.count > Sealing.nonceLength + Sealing.tagLength ? $0 : nil })
    case "sent-code":
      // All zeros is how a state slot says "none": never a digest.
      sentDigest = try once(
        sentDigest,
        Hex.decode(value).flatMap { $0.count == SentCodeState.digestLength && $0.contains { $0 != 0 } ? $0 : nil })
    case "sent-code-expires": sentExpires = try once(sentExpires, number(unixTime))
    case "sent-code-attempts":
      sentAttempts = try once(sentAttempts, number(0...Int64(SentCodeState.largestCount)).map(Int.init))
    case "send-window-start": sendWindowStart = try once(sendWindowStart, number(unixTime))
    case "sends-in-window":
      sendsInWindow = try once(sendsInWindow, number(0...Int64(SentCodeState.largestCount)).map(Int.init))
    case "last-send": lastSend = try once(lastSend, number(unixTime))
    case "backup-iterations": backupIterations = try once(backupIterations, number(1...10_000_000).map(Int.init))
    case "backup-salt":
      backupSalt = try once(backupSalt, Hex.decode(value).flatMap { $0.count >= 8 && $0.count <= 64 ? $0 : nil })
    case "backup-code":
      guard let hash = Hex.decode(value), hash.count == BackupCodeHashes.hashLength else {
        throw LineError(line: line, "invalid value for 'backup-code'")
      }
      guard backupCodes.count < BackupCodeHashes.maximumCount else {
        throw LineError(line: line, "too many backup codes")
      }
      backupCodes.append(hash)
    default:
      // Never quoted: a line that begins with the secret (split by spaces, as base32 allows)
      // would otherwise put the start of the secret in the log.
      throw LineError(line: line, "unknown key")
    }
  }

  func record() throws(LineError) -> UserRecord {
    guard let kind else { throw LineError(line: 0, "'kind' is missing") }
    guard let algorithm else { throw LineError(line: 0, "'algorithm' is missing") }
    guard let digits else { throw LineError(line: 0, "'digits' is missing") }
    let secret: SecretBytes
    if kind == .delivered {
      guard self.secret == nil else { throw LineError(line: 0, "a 'delivered' record holds no secret") }
      guard contact != nil else { throw LineError(line: 0, "a 'delivered' record needs 'email' or 'sms'") }
      secret = SecretBytes([])
    } else {
      guard let given = self.secret else { throw LineError(line: 0, "'secret' is missing") }
      secret = given
    }
    let backup: BackupCodeHashes
    if backupCodes.isEmpty {
      backup = .none
    } else {
      guard let backupSalt, let backupIterations else {
        throw LineError(line: 0, "backup codes without 'backup-salt' and 'backup-iterations'")
      }
      backup = BackupCodeHashes(iterations: backupIterations, salt: backupSalt, hashes: backupCodes)
    }
    var record = UserRecord(
      parameters: TokenParameters(kind: kind, algorithm: algorithm, digits: digits, period: period ?? 30),
      secret: secret, counter: counter ?? 0, lastStep: lastStep ?? nil, offset: offset ?? 0,
      failures: failures ?? 0, lockedUntil: lockedUntil ?? 0, lastSuccess: lastSuccess ?? 0,
      enrolled: enrolled ?? 0, backupCodes: backup, stateID: stateID ?? 0)
    record.contact = contact
    if let invitedUntil {
      guard kind != .delivered else { throw LineError(line: 0, "a 'delivered' record takes no invitation") }
      guard let inviteQR, let qr = QRMatrix(encoded: inviteQR) else {
        throw LineError(line: 0, "an invitation needs a QR code ('invite-qr' or 'sealed-invite-qr')")
      }
      record.invitation = Invitation(expires: invitedUntil, issuer: inviteIssuer ?? "", qr: qr)
    } else if inviteIssuer != nil || inviteQR != nil {
      throw LineError(line: 0, "'invite-issuer' and 'invite-qr' go with 'invited-until'")
    }
    record.state.sent = SentCodeState(
      digest: sentDigest ?? [], expires: sentExpires ?? 0, attemptsLeft: sentAttempts ?? 0,
      windowStart: sendWindowStart ?? 0, sendsInWindow: sendsInWindow ?? 0, lastSend: lastSend ?? 0)
    return record
  }
}
