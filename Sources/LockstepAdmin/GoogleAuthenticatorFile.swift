public import LockstepCore

/// Reads the `~/.google_authenticator` file that Debian's `google-authenticator` tool
/// (package `libpam-google-authenticator`) writes and `pam_google_authenticator.so` reads.
///
/// The format: the base32 secret on the first line; option lines that start with `" `
/// (`" TOTP_AUTH`, `" HOTP_COUNTER 1`, `" RATE_LIMIT 3 30 …`, `" WINDOW_SIZE 17`,
/// `" DISALLOW_REUSE …`, `" STEP_SIZE 30`, `" TIME_SKEW 0`); then the unused 8-digit
/// scratch codes, one a line. Options google-authenticator writes but lockstep has no use for
/// (rate limits, grace-period logins) and unknown options become warnings; a line that is
/// neither an option nor a scratch code is an error. Parsing never traps, whatever the input.
public enum GoogleAuthenticatorFile {
  /// The largest file read, in bytes (the same limit `pam_google_authenticator` applies).
  public static let maximumSize = 64 * 1024
  /// The most scratch codes imported (the most a lockstep record holds).
  public static let maximumScratchCodes = BackupCodeHashes.maximumCount
  /// The length of a scratch code in digits.
  public static let scratchCodeLength = 8
  /// The window google-authenticator uses when the file has no `WINDOW_SIZE`.
  public static let defaultWindowSize = 3
  /// The window sizes google-authenticator accepts.
  public static let windowSizeRange = 1...100
  /// The step sizes google-authenticator accepts, in seconds.
  public static let stepSizeRange = 1...60

  /// Parses the text of a `.google_authenticator` file.
  public static func parse(_ text: String) throws(LineError) -> ImportedToken {
    var bytes = Array(text.utf8)
    defer { wipe(&bytes) }
    return try parse(bytes: bytes)
  }

  /// Parses the bytes of a `.google_authenticator` file. The caller should wipe `bytes`
  /// afterwards: they hold the secret and the scratch codes.
  public static func parse(bytes: [UInt8]) throws(LineError) -> ImportedToken {
    guard bytes.count <= maximumSize else {
      throw LineError(
        line: 0, "the file is larger than \(maximumSize) bytes, too large for a google-authenticator file")
    }
    guard !bytes.isEmpty else { throw LineError(line: 0, "the file is empty") }
    let lines = TextLines.split(bytes)
    guard let first = lines.first else { throw LineError(line: 1, "the secret is missing") }
    let secretText = TextLines.trimmed(first.bytes)
    if secretText.isEmpty || secretText.first == UInt8(ascii: "\"") {
      throw LineError(line: 1, "the secret is missing: the first line must hold the base32 secret")
    }
    guard let secret = secretText.withUnsafeBytes({ Base32.decode($0) }) else {
      throw LineError(line: 1, "the first line is not a base32 secret")
    }

    var state = State()
    for line in lines.dropFirst() {
      let content = TextLines.trimmed(line.bytes)
      if content.isEmpty { continue }
      if content.first == UInt8(ascii: "\"") {
        try state.option(content.dropFirst(), line: line.number)
      } else if TextLines.isDigits(content) && content.count == scratchCodeLength {
        try state.scratchCode(Array(content), line: line.number)
      } else if TextLines.isDigits(content) {
        state.warnings.append(
          "line \(line.number): a number of \(content.count) digits is not a scratch code (they have 8); ignored")
      } else {
        throw LineError(line: line.number, "the line is neither an option (starting with '\" ') nor a scratch code")
      }
    }
    return state.token(secret: secret)
  }

  /// What the option and scratch-code lines have said so far.
  private struct State {
    var seen: Set<String> = []
    var totpAuth = false
    var hotpCounter: UInt64?
    var windowSize: Int?
    var stepSize: Int?
    var disallowReuse = false
    var lastUsedStep: Int64?
    var timeSkew: Int64?
    var scratchCodes: [[UInt8]] = []
    var warnings: [String] = []

    mutating func option(_ body: ArraySlice<UInt8>, line: Int) throws(LineError) {
      let fields = TextLines.fields(body)
      guard let nameField = fields.first else {
        warnings.append("line \(line): an empty option line; ignored")
        return
      }
      let name = String(decoding: nameField, as: UTF8.self)
      let arguments = Array(fields.dropFirst())
      let known = [
        "TOTP_AUTH", "HOTP_COUNTER", "RATE_LIMIT", "WINDOW_SIZE", "DISALLOW_REUSE", "STEP_SIZE", "TIME_SKEW",
      ]
      if known.contains(name) {
        if seen.contains(name) {
          warnings.append(
            "line \(line): '\(name)' appears again; google-authenticator uses the first, and so does the import")
          return
        }
        seen.insert(name)
      }
      switch name {
      case "TOTP_AUTH":
        totpAuth = true
      case "HOTP_COUNTER":
        guard arguments.count == 1, let value = TextLines.number(arguments[0]), value >= 1 else {
          throw LineError(line: line, "'HOTP_COUNTER' needs one whole number, 1 or more")
        }
        hotpCounter = UInt64(value)
      case "WINDOW_SIZE":
        guard arguments.count == 1, let value = TextLines.number(arguments[0]),
          GoogleAuthenticatorFile.windowSizeRange.contains(Int(clamping: value))
        else {
          throw LineError(line: line, "'WINDOW_SIZE' needs one whole number from 1 to 100")
        }
        windowSize = Int(value)
      case "STEP_SIZE":
        guard arguments.count == 1, let value = TextLines.number(arguments[0]),
          GoogleAuthenticatorFile.stepSizeRange.contains(Int(clamping: value))
        else {
          throw LineError(line: line, "'STEP_SIZE' needs one whole number of seconds from 1 to 60")
        }
        stepSize = Int(value)
      case "DISALLOW_REUSE":
        disallowReuse = true
        for argument in arguments {
          guard let step = TextLines.number(argument) else {
            throw LineError(line: line, "'DISALLOW_REUSE' may only be followed by time-step numbers")
          }
          lastUsedStep = max(lastUsedStep ?? step, step)
        }
      case "TIME_SKEW":
        var text = arguments.first ?? []
        let negative = text.first == UInt8(ascii: "-")
        if negative { text = text.dropFirst() }
        guard arguments.count == 1, let magnitude = TextLines.number(text), magnitude <= 1_000_000 else {
          throw LineError(line: line, "'TIME_SKEW' needs one whole number of time steps")
        }
        timeSkew = negative ? -magnitude : magnitude
      case "RATE_LIMIT":
        warnings.append(
          "line \(line): 'RATE_LIMIT' is not imported; lockstep limits guessing with max_failures= and lockout=")
      default:
        if name.count == 5, name.hasPrefix("LAST"), name.last?.isASCII == true, name.last?.isNumber == true {
          warnings.append("line \(line): '\(name)' (a grace-period login) is not imported")
        } else {
          warnings.append("line \(line): unknown option '\(TextLines.printable(nameField))'; ignored")
        }
      }
    }

    mutating func scratchCode(_ code: [UInt8], line: Int) throws(LineError) {
      if code.first == UInt8(ascii: "0") {
        // pam_google_authenticator only accepts scratch codes from 10000000 to 99999999.
        warnings.append("line \(line): a scratch code starting with 0 never worked with google-authenticator; ignored")
        return
      }
      if scratchCodes.contains(code) {
        warnings.append("line \(line): a scratch code appears twice; imported once")
        return
      }
      guard scratchCodes.count < GoogleAuthenticatorFile.maximumScratchCodes else {
        throw LineError(
          line: line,
          "more than \(GoogleAuthenticatorFile.maximumScratchCodes) scratch codes; lockstep keeps at most that many")
      }
      scratchCodes.append(code)
    }

    func token(secret: SecretBytes) -> ImportedToken {
      var warnings = self.warnings
      let kind: TokenKind = hotpCounter == nil ? .totp : .hotp
      if kind == .hotp && totpAuth {
        warnings.append("the file has both 'TOTP_AUTH' and 'HOTP_COUNTER'; imported as HOTP (counter-based)")
      }
      if kind == .hotp && disallowReuse {
        warnings.append("'DISALLOW_REUSE' only applies to time-based codes; ignored for this HOTP token")
      }
      if kind == .hotp && stepSize != nil {
        warnings.append("'STEP_SIZE' only applies to time-based codes; ignored for this HOTP token")
      }
      if kind == .totp && !totpAuth {
        warnings.append("the file has neither 'TOTP_AUTH' nor 'HOTP_COUNTER'; imported as TOTP (time-based)")
      }
      if secret.count < 16 {
        warnings.append(
          "the secret has \(secret.count * 8) bits, less than the 128 that RFC 4226 asks for; consider enrolling a new one"
        )
      }
      let size = windowSize ?? GoogleAuthenticatorFile.defaultWindowSize
      let window = (size - 1) / 2
      let lookahead = size - 1
      if kind == .totp && window > 10 {
        warnings.append(
          "a window of \(size) codes is wider than lockstep allows; window=10 (21 codes) is the closest")
      }
      if kind == .totp && size % 2 == 0 {
        warnings.append(
          "an even window of \(size) codes reaches one step further ahead than behind; window=\(window) accepts \(2 * window + 1)"
        )
      }
      if kind == .totp && !disallowReuse {
        warnings.append("google-authenticator allowed codes to be reused; lockstep accepts each code only once")
      }
      let parameters = TokenParameters(kind: kind, algorithm: .sha1, digits: 6, period: stepSize ?? 30)
      return ImportedToken(
        parameters: parameters, secret: secret, counter: hotpCounter ?? 0, windowSize: windowSize,
        suggestedWindow: min(window, 10), suggestedLookahead: min(lookahead, 100),
        disallowReuse: kind == .totp && disallowReuse, lastUsedStep: kind == .totp ? lastUsedStep : nil,
        timeSkew: timeSkew, scratchCodes: scratchCodes, warnings: warnings)
    }
  }
}
