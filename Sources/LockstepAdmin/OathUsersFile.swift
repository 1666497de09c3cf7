public import LockstepCore

/// Reads the users file of `pam_oath` (OATH Toolkit, Debian package `libpam-oath`), usually
/// `/etc/users.oath`.
///
/// Each line that is not blank or a `#` comment is
/// `TYPE USER PIN SECRET [COUNTER [LASTOTP [TIME]]]`, separated by any whitespace:
/// - `TYPE` is `HOTP`, `HOTP/E` (counter-based), `HOTP/T30` or `HOTP/T60` (time-based, 30 or
///   60 second steps), each optionally followed by `/6`, `/7` or `/8` digits;
/// - `PIN` is `-` for none, `+` for a password checked by another module, or the password;
/// - `SECRET` is the key in hexadecimal;
/// - `pam_oath` appends `COUNTER`, the last accepted code and the local time of that login
///   (`2024-01-01T00:00:00L`) after each login. For HOTP, `COUNTER` is the counter of the last
///   code accepted when a last code is present; for TOTP it is not a time step.
///
/// Good lines become entries, bad lines become errors with their line number: an import takes
/// the good ones and reports the rest. Parsing never traps, whatever the input.
public enum OathUsersFile {
  /// The largest file read, in bytes.
  public static let maximumSize = 4 * 1024 * 1024
  /// The most entries read; further lines are reported as one error.
  public static let maximumEntries = 10_000
  /// The most errors collected; after that, one more error says the rest was not read.
  public static let maximumErrors = 100
  /// The longest secret accepted, in bytes.
  public static let maximumSecretLength = 64
  /// The farthest a local time can be from UTC, in seconds (UTC-12 to UTC+14).
  public static let largestZoneOffsetAhead: Int64 = 14 * 3600
  /// The farthest a local time can be behind UTC, in seconds.
  public static let largestZoneOffsetBehind: Int64 = 12 * 3600

  /// One user's token from the file.
  public struct Entry {
    /// The line it was read from, counted from 1.
    public var line: Int
    /// The user the token belongs to.
    public var user: UserName
    /// How codes are computed: `HOTP/E…` is HOTP, `HOTP/T30…` and `HOTP/T60…` are TOTP with
    /// that period; always SHA1; digits from the suffix, 6 by default.
    public var parameters: TokenParameters
    /// The shared key, decoded from hexadecimal.
    public var secret: SecretBytes
    /// HOTP: the counter value the next code is expected at (one past the file's counter when
    /// the file records a last code, the file's counter otherwise). 0 for TOTP.
    public var counter: UInt64
    /// Whether the line had a PIN (a password in the file, or `+`), which lockstep does not
    /// check.
    public var hasPIN: Bool
    /// The last code pam_oath accepted, as ASCII digits; `nil` when absent.
    public var lastCode: [UInt8]?
    /// The time of the last login as the file writes it, in the server's local time zone
    /// (which the file does not name), counted as seconds since 1970 as if it were UTC; `nil`
    /// when absent or unreadable.
    public var lastLoginLocalTime: Int64?
    /// TOTP: the last time step whose code was accepted, to seed the replay watermark; `nil`
    /// after parsing (the file's time has no zone), and set by `resolveLastStep(of:crypto:)`.
    public var lastStep: Int64?
    /// Things the administrator should know about this line, one sentence each; none quotes
    /// the secret or the PIN.
    public var warnings: [String]

    /// An entry with the given fields; the parser builds these.
    public init(
      line: Int, user: UserName, parameters: TokenParameters, secret: SecretBytes, counter: UInt64 = 0,
      hasPIN: Bool = false, lastCode: [UInt8]? = nil, lastLoginLocalTime: Int64? = nil, lastStep: Int64? = nil,
      warnings: [String] = []
    ) {
      self.line = line
      self.user = user
      self.parameters = parameters
      self.secret = secret
      self.counter = counter
      self.hasPIN = hasPIN
      self.lastCode = lastCode
      self.lastLoginLocalTime = lastLoginLocalTime
      self.lastStep = lastStep
      self.warnings = warnings
    }
  }

  /// What a users file held: the entries that can be imported and the lines that cannot.
  public struct Contents {
    /// The good lines, in file order.
    public var entries: [Entry]
    /// The bad lines, one error each, in file order; an error on line 0 concerns the whole file.
    public var errors: [LineError]

    /// Contents with the given entries and errors.
    public init(entries: [Entry] = [], errors: [LineError] = []) {
      self.entries = entries
      self.errors = errors
    }
  }

  /// Parses the text of a users file.
  public static func parse(_ text: String) -> Contents {
    var bytes = Array(text.utf8)
    defer { wipe(&bytes) }
    return parse(bytes: bytes)
  }

  /// Parses the bytes of a users file. The caller should wipe `bytes` afterwards: they hold
  /// secrets.
  public static func parse(bytes: [UInt8]) -> Contents {
    guard bytes.count <= maximumSize else {
      return Contents(errors: [
        LineError(line: 0, "the file is larger than \(maximumSize) bytes, too large for a users file")
      ])
    }
    var contents = Contents()
    var users: Set<UserName> = []
    for line in TextLines.split(bytes) {
      if contents.errors.count >= maximumErrors {
        contents.errors.append(LineError(line: line.number, "too many errors; the rest of the file was not read"))
        break
      }
      let fields = TextLines.fields(line.bytes)
      guard let first = fields.first, first.first != UInt8(ascii: "#") else { continue }
      if contents.entries.count >= maximumEntries {
        contents.errors.append(
          LineError(line: line.number, "more than \(maximumEntries) entries; the rest of the file was not read"))
        break
      }
      do throws(LineError) {
        let entry = try parseEntry(fields, line: line.number)
        if users.contains(entry.user) {
          throw LineError(
            line: line.number, "user '\(entry.user)' appears again; only the first line for a user is imported")
        }
        users.insert(entry.user)
        contents.entries.append(entry)
      } catch {
        contents.errors.append(error)
      }
    }
    return contents
  }

  /// Parses a token type such as `HOTP/T30/8`: the kind, the period (30 for HOTP) and the
  /// digits; `nil` for a type pam_oath does not know.
  public static func parseType(_ text: String) -> TokenParameters? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count >= 1, parts.count <= 3, parts[0] == "HOTP" else { return nil }
    var kind = TokenKind.hotp
    var period = 30
    var digits = 6
    if parts.count >= 2 {
      switch parts[1] {
      case "E": kind = .hotp
      case "T30": kind = .totp
      case "T60":
        kind = .totp
        period = 60
      default: return nil
      }
    }
    if parts.count == 3 {
      switch parts[2] {
      case "6": digits = 6
      case "7": digits = 7
      case "8": digits = 8
      default: return nil
      }
    }
    return TokenParameters(kind: kind, algorithm: .sha1, digits: digits, period: period)
  }

  /// Parses pam_oath's login time, `YYYY-MM-DDTHH:MM:SSL` (local time, no zone), into seconds
  /// since 1970 counted as if the time were UTC; `nil` if it is not exactly that shape or not
  /// a real date and time (years 1970 to 9999).
  public static func parseLocalTime(_ text: some Collection<UInt8>) -> Int64? {
    let bytes = Array(text)
    guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
      bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
      bytes[19] == UInt8(ascii: "L"),
      let year = TextLines.number(bytes[0..<4]), let month = TextLines.number(bytes[5..<7]),
      let day = TextLines.number(bytes[8..<10]), let hour = TextLines.number(bytes[11..<13]),
      let minute = TextLines.number(bytes[14..<16]), let second = TextLines.number(bytes[17..<19]),
      year >= 1970, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
      hour <= 23, minute <= 59, second <= 60
    else { return nil }
    return (daysFromCivil(year: year, month: month, day: day) * 86_400) + hour * 3600 + minute * 60 + second
  }

  /// The time step of the last code pam_oath accepted for a TOTP `entry`, found by computing
  /// the codes around its last login time over every time zone (UTC-12 to UTC+14, plus 100
  /// steps of slack for pam_oath's window); `nil` for HOTP, when the entry has no last code or
  /// login time, or when no step or more than one step has that code.
  public static func resolveLastStep(of entry: Entry, crypto: some CryptoProvider) -> Int64? {
    guard entry.parameters.kind == .totp, let code = entry.lastCode, code.count == entry.parameters.digits,
      let local = entry.lastLoginLocalTime
    else { return nil }
    let slack: Int64 = 100
    let first = entry.parameters.timeStep(at: local - largestZoneOffsetAhead) - slack
    let last = entry.parameters.timeStep(at: local + largestZoneOffsetBehind) + slack
    guard first >= 0 else { return nil }
    var found: Int64?
    var step = first
    while step <= last {
      let candidate = OneTimePassword.text(
        secret: entry.secret, counter: UInt64(step), algorithm: entry.parameters.algorithm,
        digits: entry.parameters.digits, crypto: crypto)
      if candidate == code {
        if found != nil { return nil }
        found = step
      }
      step += 1
    }
    return found
  }

  private static func parseEntry(_ fields: [ArraySlice<UInt8>], line: Int) throws(LineError) -> Entry {
    let typeText = String(decoding: fields[0], as: UTF8.self)
    guard let parameters = parseType(typeText) else {
      throw LineError(
        line: line,
        "unknown token type '\(TextLines.printable(fields[0]))'; pam_oath knows HOTP, HOTP/E, HOTP/T30 and HOTP/T60")
    }
    guard fields.count >= 4 else {
      throw LineError(line: line, "a line needs at least a type, a user, a PIN (or '-') and a secret")
    }
    guard let user = UserName(bytes: fields[1]) else {
      throw LineError(line: line, "the user name '\(TextLines.printable(fields[1]))' cannot be used")
    }
    var warnings: [String] = []
    let pin = fields[2]
    let hasPIN = !(pin.count == 1 && pin.first == UInt8(ascii: "-"))
    if pin.count == 1 && pin.first == UInt8(ascii: "+") {
      warnings.append(
        "line \(line): pam_oath left the PIN of '\(user)' to another module; keep that module in the PAM stack")
    } else if hasPIN {
      warnings.append(
        "line \(line): '\(user)' had a PIN in pam_oath, which lockstep does not check; keep a password in the PAM stack"
      )
    }
    let secretField = fields[3]
    guard secretField.count / 2 <= maximumSecretLength else {
      throw LineError(line: line, "the secret is longer than \(maximumSecretLength) bytes")
    }
    guard var key = secretField.withUnsafeBytes({ Hex.decode($0) }), !key.isEmpty else {
      throw LineError(line: line, "the secret is not hexadecimal")
    }
    let secret = SecretBytes(key)
    wipe(&key)
    if secret.count < 16 {
      warnings.append(
        "line \(line): the secret of '\(user)' has \(secret.count * 8) bits, less than the 128 that RFC 4226 asks for")
    }
    var fileCounter: UInt64 = 0
    if fields.count >= 5 {
      guard let value = TextLines.number(fields[4]), UInt64(value) < UserRecord.largestCounter else {
        throw LineError(line: line, "the counter is not a whole number lockstep can hold")
      }
      fileCounter = UInt64(value)
    }
    var lastCode: [UInt8]?
    if fields.count >= 6 {
      if TextLines.isDigits(fields[5]) && fields[5].count == parameters.digits {
        lastCode = Array(fields[5])
      } else {
        warnings.append("line \(line): the last code is not \(parameters.digits) digits; ignored")
      }
    }
    var lastLogin: Int64?
    if fields.count >= 7 {
      lastLogin = parseLocalTime(fields[6])
      if lastLogin == nil {
        warnings.append("line \(line): the last login time is not of the form 2024-01-31T23:59:59L; ignored")
      }
    }
    if fields.count > 7 {
      warnings.append("line \(line): \(fields.count - 7) fields after the last login time are ignored")
    }
    var counter: UInt64 = 0
    if parameters.kind == .hotp {
      // pam_oath records the counter of the code it accepted, next to that code.
      counter = lastCode == nil ? fileCounter : fileCounter + 1
    } else if lastCode != nil {
      warnings.append(
        "line \(line): the time step of the last code of '\(user)' is not known yet, as the file's login time has no time zone"
      )
    }
    return Entry(
      line: line, user: user, parameters: parameters, secret: secret, counter: counter, hasPIN: hasPIN,
      lastCode: lastCode, lastLoginLocalTime: lastLogin, lastStep: nil, warnings: warnings)
  }

  private static func isLeap(_ year: Int64) -> Bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
  }

  private static func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), for
  /// years 1970 to 9999.
  private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = y / 400
    let yearOfEra = y - era * 400
    let monthIndex = month > 2 ? month - 3 : month + 9
    let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }
}
