import LockstepCore

/// Checks an OpenSSH `sshd_config` for settings under which SSH logins are not asked for a
/// code by pam_lockstep.
///
/// The file is read as sshd reads it: keywords in any case, `Keyword value` or
/// `Keyword=value`, `#` comments, and for each keyword the first value wins. Lines after a
/// `Match` line apply only to some connections; they are not evaluated, but a finding notes
/// any that change an authentication setting. `Include` lines are followed when the caller
/// gives a way to read the files they name (in place, as sshd does: the first value read wins
/// whether it comes from the including file or an included one), and noted otherwise.
///
/// The facts the rules rest on (OpenSSH 8.7 and later; sshd_config(5), auth-pam.c):
/// - pam_lockstep runs only through PAM, so `UsePAM` must be `yes` (its default is `no`).
/// - The code prompt reaches the user only through keyboard-interactive authentication
///   (`KbdInteractiveAuthentication`, default `yes`; `ChallengeResponseAuthentication` is its
///   deprecated alias).
/// - Without `AuthenticationMethods`, one method is enough: a user with a key, or any other
///   method that does not run the PAM stack, gets in without a code.
/// - `PasswordAuthentication` with `UsePAM yes` runs the PAM stack too, but answers every
///   hidden prompt with the password, so the code prompt gets the password.
public enum SshdConfigAudit {
  /// The largest file audited, in bytes.
  public static let maximumSize = 1024 * 1024

  /// The global (outside `Match`) settings the audit looks at: each keyword in lower case
  /// mapped to its first value and line.
  public struct Settings: Equatable, Sendable {
    /// The first value of each keyword (lower-case keyword → arguments, line).
    public var values: [String: (arguments: [String], line: Int)] = [:]
    /// Whether `KbdInteractiveAuthentication`'s value was given under its deprecated alias,
    /// `ChallengeResponseAuthentication`.
    public var deprecatedSpelling = false
    /// The first line of each keyword that appears inside a `Match` block.
    public var matchOverrides: [String: Int] = [:]
    /// The lines of `Include` directives that were not followed (no way to read files was
    /// given, or a file they name could not be read).
    public var includes: [Int] = []
    /// Where each line number above comes from, when `Include` lines were followed: the lines
    /// of all the files are then numbered in the order sshd reads them, and `origins[n - 1]` is
    /// the file and line of number `n`. Empty for a single file, whose numbers are its own.
    public var origins: [(file: String, line: Int)] = []

    /// The file (empty for the text itself) and line where number `line` comes from.
    public func origin(of line: Int) -> (file: String, line: Int) {
      guard line >= 1, line <= origins.count else { return ("", line) }
      return origins[line - 1]
    }

    /// Empty settings.
    public init() {}

    /// The first global value of `keyword` (in lower case) as one lower-case word, and its line.
    public func word(_ keyword: String) -> (value: String, line: Int)? {
      guard let entry = values[keyword], let first = entry.arguments.first else { return nil }
      return (first.lowercased(), entry.line)
    }

    /// Equal when the same keywords have the same values on the same lines.
    public static func == (lhs: Settings, rhs: Settings) -> Bool {
      lhs.matchOverrides == rhs.matchOverrides && lhs.includes == rhs.includes
        && lhs.values.count == rhs.values.count
        && lhs.values.allSatisfy { key, value in
          rhs.values[key].map { $0.arguments == value.arguments && $0.line == value.line } ?? false
        }
    }
  }

  /// Reads the files an `Include` argument names, in the order sshd reads them: each with its
  /// path and text (`nil` when it cannot be read). See `parse(_:include:)`.
  public typealias IncludeReader = (String) -> [(path: String, text: String?)]

  /// The deepest nesting of `Include` followed, as in sshd.
  public static let maximumIncludeDepth = 16
  /// The most included files read in one parse, so that files that include each other through
  /// a pattern end long before the depth limit would.
  public static let maximumIncludedFiles = 256

  /// Reads the settings of an sshd_config text; with `include`, the files its `Include` lines
  /// name are read in their place, as sshd reads them.
  public static func parse(_ text: String, include: IncludeReader? = nil) -> Settings {
    var reader = Reader(settings: Settings(), include: include)
    reader.read(text, file: "", depth: 0)
    return reader.settings
  }

  /// The state of one parse: the settings so far, where each line came from, and whether a
  /// `Match` line has been read.
  private struct Reader {
    var settings: Settings
    let include: IncludeReader?
    var inMatch = false
    var includedFiles = 0

    mutating func read(_ text: String, file: String, depth: Int) {
      for line in TextLines.split(Array(text.utf8.prefix(maximumSize))) {
        if include != nil { settings.origins.append((file, line.number)) }
        let number = include == nil ? line.number : settings.origins.count
        let content = TextLines.trimmed(line.bytes)
        guard let first = content.first, first != UInt8(ascii: "#") else { continue }
        let words = splitWords(content)
        guard var keyword = words.first else { continue }
        var arguments = Array(words.dropFirst())
        if let equals = keyword.firstIndex(of: "=") {
          let rest = String(keyword[keyword.index(after: equals)...])
          keyword = String(keyword[..<equals])
          if !rest.isEmpty { arguments.insert(rest, at: 0) }
        } else if arguments.first == "=" {
          arguments.removeFirst()
        } else if let firstArgument = arguments.first, firstArgument.hasPrefix("=") {
          arguments[0] = String(firstArgument.dropFirst())
        }
        keyword = keyword.lowercased()
        let alias = keyword == "challengeresponseauthentication"
        if alias { keyword = "kbdinteractiveauthentication" }
        if keyword == "match" {
          inMatch = true
          continue
        }
        if keyword == "include" {
          follow(arguments, line: number, depth: depth)
          continue
        }
        if inMatch {
          if settings.matchOverrides[keyword] == nil { settings.matchOverrides[keyword] = number }
        } else if settings.values[keyword] == nil {
          settings.values[keyword] = (arguments, number)
          if alias { settings.deprecatedSpelling = true }
        }
      }
    }

    /// Reads the files an `Include` line names in its place, or notes the line if they cannot
    /// be read. A `Match` block in an included file ends with that file, as in sshd.
    private mutating func follow(_ patterns: [String], line: Int, depth: Int) {
      guard let include, depth < maximumIncludeDepth else {
        settings.includes.append(line)
        return
      }
      let outerMatch = inMatch
      defer { inMatch = outerMatch }
      var unread = false
      for pattern in patterns {
        for (path, text) in include(pattern) {
          guard let text, includedFiles < maximumIncludedFiles else {
            unread = true
            continue
          }
          inMatch = outerMatch
          includedFiles += 1
          read(text, file: path, depth: depth + 1)
        }
      }
      if unread { settings.includes.append(line) }
    }
  }

  /// The findings for the sshd_config `text`, most serious first. With `include`, the files
  /// its `Include` lines name are read as sshd reads them (see `parse(_:include:)`), and each
  /// finding names the file its line is in (empty for `text` itself).
  ///
  /// `effective` is the configuration sshd itself reports (`sshd -T`: one lower-case `keyword
  /// value` line per setting, defaults included); when it is given, the rules judge its values,
  /// and the files are read only to say where a value was set and to note `Match` blocks.
  public static func audit(text: String, include: IncludeReader? = nil, effective: String? = nil) -> [Finding] {
    var findings: [Finding] = []
    if text.utf8.count > maximumSize {
      findings.append(
        Finding(
          severity: .error, rule: "sshd.too-large", line: 0,
          message: "The file is larger than \(maximumSize) bytes; only the start was read.",
          fix: "Check that the right file was given."))
    }
    let read = parse(text, include: include)
    var settings = read
    if let effective {
      // sshd's own values, placed where the files set them (line 0 for a default).
      settings = parse(effective)
      for (keyword, value) in settings.values {
        let same = read.values[keyword].map {
          $0.arguments.map { $0.lowercased() } == value.arguments.map { $0.lowercased() }
        }
        settings.values[keyword] = (value.arguments, same == true ? read.values[keyword]?.line ?? 0 : 0)
      }
      settings.matchOverrides = read.matchOverrides
      settings.deprecatedSpelling = read.deprecatedSpelling
    }

    // UsePAM (default no).
    if let (value, line) = settings.word("usepam") {
      if value != "yes" {
        findings.append(
          Finding(
            severity: .error, rule: "sshd.usepam", line: line,
            message:
              "'UsePAM \(ModuleOptions.printable(value))' keeps sshd from running the PAM stack, so no code is asked for.",
            fix: "Set 'UsePAM yes'."))
      }
    } else {
      findings.append(
        Finding(
          severity: .error, rule: "sshd.usepam", line: 0,
          message:
            "UsePAM is not set, and sshd's default is 'no', so the PAM stack never runs and no code is asked for.",
          fix: "Add 'UsePAM yes'."))
    }

    // KbdInteractiveAuthentication (default yes).
    let kbdInteractive = settings.word("kbdinteractiveauthentication")
    let kbdEnabled = kbdInteractive.map { $0.value == "yes" } ?? true
    if let (value, line) = kbdInteractive, value != "yes" {
      findings.append(
        Finding(
          severity: .error, rule: "sshd.kbdinteractive", line: line,
          message:
            "Keyboard-interactive authentication is '\(ModuleOptions.printable(value))', and it is the only way sshd shows the code prompt.",
          fix: "Set 'KbdInteractiveAuthentication yes'."))
    }
    if let entry = read.values["kbdinteractiveauthentication"], settings.deprecatedSpelling {
      findings.append(
        Finding(
          severity: .info, rule: "sshd.challengeresponse", line: entry.line,
          message: "'ChallengeResponseAuthentication' is a deprecated alias of 'KbdInteractiveAuthentication'.",
          fix: "Write 'KbdInteractiveAuthentication' instead."))
    }

    // AuthenticationMethods.
    let methods = settings.values["authenticationmethods"]
    let lists = methods?.arguments ?? []
    if methods == nil || lists.map({ $0.lowercased() }) == ["any"] {
      findings.append(
        Finding(
          severity: .warning, rule: "sshd.authmethods-missing", line: methods?.line ?? 0,
          message:
            "Without 'AuthenticationMethods', one method is enough, so a user with an SSH key (or a password) can log in without a code.",
          fix: "Add 'AuthenticationMethods publickey,keyboard-interactive' (or just 'keyboard-interactive')."))
    } else if let methods {
      for list in lists {
        let names = list.split(separator: ",").map { method -> String in
          String(method.split(separator: ":", maxSplits: 1).first ?? method).lowercased()
        }
        if !names.contains("keyboard-interactive") {
          findings.append(
            Finding(
              severity: .error, rule: "sshd.authmethods-list", line: methods.line,
              message:
                "The method list '\(ModuleOptions.printable(list))' does not include keyboard-interactive, so it lets users in without a code.",
              fix: "Add ',keyboard-interactive' to that list, or remove the list."))
        }
      }
    }

    // PasswordAuthentication (default yes).
    let password = settings.word("passwordauthentication")
    if password.map({ $0.value == "yes" }) ?? true, kbdEnabled {
      findings.append(
        Finding(
          severity: .warning, rule: "sshd.password", line: password?.line ?? 0,
          message:
            "With PasswordAuthentication on, sshd answers the code prompt with the password, so password logins always fail at the code.",
          fix: "Set 'PasswordAuthentication no'; keyboard-interactive asks for the password and the code itself."))
    }

    for line in settings.includes {
      findings.append(
        Finding(
          severity: .info, rule: "sshd.include", line: line,
          message: "Included files were not checked, and a setting there wins if it comes first.",
          fix: "Check the included files too, for example with 'sshd -T'."))
    }
    let watched = [
      "authenticationmethods", "kbdinteractiveauthentication", "passwordauthentication", "pubkeyauthentication",
    ]
    for keyword in watched {
      guard let line = settings.matchOverrides[keyword] else { continue }
      findings.append(
        Finding(
          severity: .info, rule: "sshd.match", line: line,
          message: "A Match block changes an authentication setting for some connections; it was not checked.",
          fix: "Check it by hand, for example with 'sshd -T -C user=NAME,host=HOST,addr=ADDR'."))
    }
    return findings.sorted { ($1.severity, $0.line) < ($0.severity, $1.line) }.map { finding in
      guard finding.line > 0 else { return finding }
      var located = finding
      (located.file, located.line) = read.origin(of: finding.line)
      return located
    }
  }

  /// Splits a line into words at blanks, honouring double quotes.
  private static func splitWords(_ bytes: ArraySlice<UInt8>) -> [String] {
    var words: [String] = []
    var current: [UInt8] = []
    var quoted = false
    var started = false
    for byte in bytes {
      if byte == UInt8(ascii: "\"") {
        quoted.toggle()
        started = true
      } else if TextLines.isBlank(byte) && !quoted {
        if started { words.append(String(decoding: current, as: UTF8.self)) }
        current = []
        started = false
      } else {
        current.append(byte)
        started = true
      }
    }
    if started { words.append(String(decoding: current, as: UTF8.self)) }
    return words
  }
}
