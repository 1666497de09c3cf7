import LockstepAdmin
import LockstepCore

/// Any bytes through the importer of pam_oath's `/etc/users.oath`, which `lockstep import-oath`
/// runs, and through its reader of pam_oath's login times.
///
/// Properties: each entry is a distinct, usable user with parameters pam_oath knows, the
/// secret of its line, a counter only for HOTP, and a last code of the user's length; the
/// record the CLI makes of it can be stored; errors are bounded, in line order, and one safe
/// line each, as are warnings, which never quote a secret; and a login time that is read
/// prints back as the same text (checked with an independent calendar).
func fuzz(_ input: UnsafeRawBufferPointer) {
  let fileBytes = Array(input)
  if let seconds = OathUsersFile.parseLocalTime(fileBytes.prefix(20)) {
    checkLocalTime(Array(fileBytes.prefix(20)), seconds)
  }

  let contents = OathUsersFile.parse(bytes: fileBytes)
  require(contents.errors.count <= OathUsersFile.maximumErrors + 1, "\(contents.errors.count) errors")
  require(contents.errors.allSatisfy { isOneSafeLine($0.description) }, "an error that is not one safe line")
  require(zip(contents.errors, contents.errors.dropFirst()).allSatisfy { $0.line < $1.line }, "errors out of order")
  require(zip(contents.entries, contents.entries.dropFirst()).allSatisfy { $0.line < $1.line }, "entries out of order")
  require(Set(contents.entries.map(\.user)).count == contents.entries.count, "a user imported twice")

  let lines = fileBytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
  for entry in contents.entries {
    let p = entry.parameters
    require(p.isValid && p.algorithm == .sha1, "parameters \(p)")
    require(p.kind == .hotp || p.period == 30 || p.period == 60, "a period pam_oath does not have")
    require(entry.line >= 1 && entry.line <= lines.count, "an entry on line \(entry.line)")
    let fields = lines[entry.line - 1].split { [0x20, 0x09, 0x0d, 0x0b, 0x0c].contains($0) }
    require(fields.count >= 4, "an entry from a line of \(fields.count) fields")
    let secretHex = Array(fields[3]).map { $0 | 0x20 }
    require(hex(bytes(of: entry.secret)) == secretHex, "the secret is not the one on its line")
    require(entry.secret.count <= OathUsersFile.maximumSecretLength, "a secret too long")
    require(p.kind == .hotp || entry.counter == 0, "a counter for TOTP")
    require(entry.lastCode.map { $0.count == p.digits } ?? true, "a last code of the wrong length")
    require(entry.lastStep == nil, "a last step before it was resolved")
    let secretText = String(decoding: secretHex, as: UTF8.self)
    for warning in entry.warnings {
      require(isOneSafeLine(warning), "a warning that is not one safe line: \(warning)")
      let quotesSecret =
        secretHex.count >= 16 && warning.lowercased().contains(secretText)
        && !entry.user.description.lowercased().contains(secretText)
      require(!quotesSecret, "a warning quotes the secret")
    }
    let record = UserRecord(parameters: p, secret: entry.secret, counter: entry.counter)
    require(survivesRecordFormat(record), "the imported entry cannot be stored")
  }
}

/// Checks that `seconds`, read from `text`, prints back as `text` (a leap second, `:60`,
/// reads as the next minute).
private func checkLocalTime(_ text: [UInt8], _ seconds: Int64) {
  let leap = text[17...18].elementsEqual("60".utf8)
  let shown = format(leap ? seconds - 1 : seconds)
  var expected = text
  if leap { expected.replaceSubrange(17...18, with: "59".utf8) }
  require(shown == expected, "\(String(decoding: text, as: UTF8.self)) read as \(seconds)")
}

/// `YYYY-MM-DDTHH:MM:SSL` for seconds since 1970, from the days-to-civil algorithm.
private func format(_ seconds: Int64) -> [UInt8] {
  let days = seconds / 86_400
  let time = seconds % 86_400
  let z = days + 719_468
  let era = z / 146_097
  let dayOfEra = z - era * 146_097
  let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
  let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
  let monthIndex = (5 * dayOfYear + 2) / 153
  let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
  let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
  let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  func digits(_ value: Int64, _ width: Int) -> [UInt8] {
    (0..<width).reversed().map { place in
      UInt8(ascii: "0") + UInt8((value / (0..<place).reduce(1) { product, _ in product * 10 }) % 10)
    }
  }
  return digits(year, 4) + Array("-".utf8) + digits(month, 2) + Array("-".utf8) + digits(day, 2) + Array("T".utf8)
    + digits(time / 3600, 2) + Array(":".utf8) + digits(time / 60 % 60, 2) + Array(":".utf8) + digits(time % 60, 2)
    + Array("L".utf8)
}

/// Lower-case hexadecimal of `bytes`.
private func hex(_ bytes: [UInt8]) -> [UInt8] {
  let digits = Array("0123456789abcdef".utf8)
  return bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }
}
