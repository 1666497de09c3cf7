import LockstepCore

/// Checks a file from `/etc/pam.d` for lines that load `pam_lockstep.so` in a way that does not
/// protect logins as intended.
///
/// The file is read as Linux-PAM reads it: `#` starts a comment, a trailing backslash joins a
/// line with the next, each line is `[-]TYPE CONTROL MODULE [ARGUMENTS…]`, the control may be a
/// bracketed list such as `[success=1 default=ignore]`, and an argument may be bracketed to
/// hold spaces (`[prompt=Your code: ]`, with `\]` for a literal `]`). `@include` lines and
/// `include`/`substack` controls are noted but the files they name are not read.
public enum PamConfigAudit {
  /// The largest file audited, in bytes.
  public static let maximumSize = 1024 * 1024
  /// The module file name the audit looks for.
  public static let moduleName = "pam_lockstep.so"

  /// One logical line of a PAM configuration file.
  public struct Line: Equatable, Sendable {
    /// The physical line it starts on, counted from 1.
    public var number: Int
    /// The management group in lower case: `auth`, `account`, `password` or `session`, or
    /// `@include` for an include directive.
    public var type: String
    /// Whether the type had a leading `-` (skip the line silently if the module is missing).
    public var quiet: Bool
    /// The control in lower case: a keyword (`required`, `sufficient`, …) or the contents of
    /// the brackets of a `[value=action …]` control.
    public var control: String
    /// Whether the control was bracketed.
    public var bracketed: Bool
    /// The module path as written (or the included file for `@include` and `include`).
    public var module: String
    /// The arguments, with the brackets of bracketed arguments removed.
    public var arguments: [String]

    /// A line with the given fields.
    public init(
      number: Int, type: String, quiet: Bool, control: String, bracketed: Bool, module: String, arguments: [String]
    ) {
      self.number = number
      self.type = type
      self.quiet = quiet
      self.control = control
      self.bracketed = bracketed
      self.module = module
      self.arguments = arguments
    }

    /// Whether the line loads `pam_lockstep.so`, with or without a directory.
    public var loadsLockstep: Bool {
      type != "@include" && (module == PamConfigAudit.moduleName || module.hasSuffix("/" + PamConfigAudit.moduleName))
    }

    /// The action of a bracketed control for `value` (such as `success`), falling back to its
    /// `default=`; `nil` for a keyword control or when neither is given.
    public func action(for value: String) -> String? {
      guard bracketed else { return nil }
      var fallback: String?
      for pair in control.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { continue }
        if parts[0] == value { return String(parts[1]) }
        if parts[0] == "default" { fallback = String(parts[1]) }
      }
      return fallback
    }
  }

  /// The findings for the PAM configuration `text` of the service file `fileName` (such as
  /// `sshd` or `/etc/pam.d/sudo`), in line order; a file that does not load pam_lockstep gets
  /// one `info` finding.
  public static func audit(fileName: String, text: String) -> [Finding] {
    let bytes = Array(text.utf8)
    guard bytes.count <= maximumSize else {
      return [
        Finding(
          severity: .error, rule: "pam.too-large", line: 0,
          message: "The file is larger than \(maximumSize) bytes, which is not a PAM configuration.",
          fix: "Check that the right file was given.")
      ]
    }
    var findings: [Finding] = []
    let (lines, syntaxErrors) = parse(bytes)
    findings += syntaxErrors
    let service = fileName.split(separator: "/").last.map(String.init) ?? fileName
    let authLines = lines.filter { $0.type == "auth" }
    var sawLockstep = false
    for line in lines where line.loadsLockstep {
      sawLockstep = true
      findings += check(line, authLines: authLines, firstFactor: lines.first { isFirstFactor($0) })
    }
    if !sawLockstep {
      findings.append(
        Finding(
          severity: .info, rule: "pam.not-loaded", line: 0,
          message: "The file does not load \(moduleName), so this service asks for no code.",
          fix: "Add 'auth required \(moduleName)' where the code should be asked for."))
    } else if service.hasPrefix("sshd"), let include = lines.first(where: { isCommonAuthInclude($0) }),
      authLines.contains(where: { $0.loadsLockstep })
    {
      findings.append(
        Finding(
          severity: .info, rule: "pam.sshd-common-auth", line: include.number,
          message: "sshd's stack includes common-auth, so users are asked for their password as well as the code.",
          fix:
            "With 'AuthenticationMethods publickey,keyboard-interactive' in sshd_config, comment out this line to ask for a key and a code only."
        ))
    }
    return findings.sorted { ($0.line, $0.severity.rawValue) < ($1.line, $1.severity.rawValue) }
  }

  /// The logical lines of a PAM configuration, and a finding for each line that cannot be read.
  public static func parse(_ text: String) -> (lines: [Line], errors: [Finding]) {
    parse(Array(text.utf8))
  }

  static func parse(_ bytes: [UInt8]) -> (lines: [Line], errors: [Finding]) {
    var lines: [Line] = []
    var errors: [Finding] = []
    var pending: [UInt8] = []
    var pendingStart = 0
    for physical in TextLines.split(bytes) {
      var content = physical.bytes
      if let hash = content.firstIndex(of: UInt8(ascii: "#")) { content = content[..<hash] }
      while let last = content.last, TextLines.isBlank(last) { content = content.dropLast() }
      if pending.isEmpty { pendingStart = physical.number }
      if content.last == UInt8(ascii: "\\") {
        pending += content.dropLast()
        pending.append(UInt8(ascii: " "))
        continue
      }
      pending += content
      let logical = pending
      pending = []
      switch parseLine(logical[...], number: pendingStart) {
      case .none: break
      case .line(let line): lines.append(line)
      case .error(let finding): errors.append(finding)
      }
    }
    if !pending.isEmpty {
      switch parseLine(pending[...], number: pendingStart) {
      case .none: break
      case .line(let line): lines.append(line)
      case .error(let finding): errors.append(finding)
      }
    }
    return (lines, errors)
  }

  private enum Parsed {
    case none
    case line(Line)
    case error(Finding)
  }

  /// Splits a logical line into words, keeping bracketed words whole (brackets included).
  private static func words(_ text: ArraySlice<UInt8>) -> [[UInt8]]? {
    var words: [[UInt8]] = []
    var index = text.startIndex
    while index < text.endIndex {
      if TextLines.isBlank(text[index]) {
        index += 1
        continue
      }
      var word: [UInt8] = []
      if text[index] == UInt8(ascii: "[") {
        word.append(text[index])
        index += 1
        var closed = false
        while index < text.endIndex {
          let byte = text[index]
          if byte == UInt8(ascii: "\\"), index + 1 < text.endIndex, text[index + 1] == UInt8(ascii: "]") {
            word.append(UInt8(ascii: "]"))
            index += 2
            continue
          }
          word.append(byte)
          index += 1
          if byte == UInt8(ascii: "]") {
            closed = true
            break
          }
        }
        guard closed else { return nil }
      } else {
        while index < text.endIndex, !TextLines.isBlank(text[index]) {
          word.append(text[index])
          index += 1
        }
      }
      words.append(word)
    }
    return words
  }

  private static func parseLine(_ text: ArraySlice<UInt8>, number: Int) -> Parsed {
    guard let words = words(text) else {
      return .error(
        Finding(
          severity: .error, rule: "pam.syntax", line: number, message: "A '[' is never closed with ']'.",
          fix: "Close the bracket, writing a literal ']' inside it as '\\]'."))
    }
    guard let first = words.first else { return .none }
    let firstText = String(decoding: first, as: UTF8.self)
    if firstText == "@include" {
      let target = words.count > 1 ? String(decoding: words[1], as: UTF8.self) : ""
      return .line(
        Line(
          number: number, type: "@include", quiet: false, control: "", bracketed: false, module: target,
          arguments: []))
    }
    guard words.count >= 3 else {
      return .error(
        Finding(
          severity: .error, rule: "pam.syntax", line: number,
          message: "The line has fewer than the three fields TYPE CONTROL MODULE.",
          fix: "Complete the line or comment it out."))
    }
    var type = firstText.lowercased()
    let quiet = type.hasPrefix("-")
    if quiet { type.removeFirst() }
    var control = String(decoding: words[1], as: UTF8.self)
    let bracketed = control.hasPrefix("[") && control.hasSuffix("]") && control.count >= 2
    if bracketed { control = String(control.dropFirst().dropLast()) }
    control = control.lowercased()
    let module = String(decoding: words[2], as: UTF8.self)
    let arguments = words.dropFirst(3).map { word -> String in
      let text = String(decoding: word, as: UTF8.self)
      if text.hasPrefix("[") && text.hasSuffix("]") && text.count >= 2 { return String(text.dropFirst().dropLast()) }
      return text
    }
    return .line(
      Line(
        number: number, type: type, quiet: quiet, control: control, bracketed: bracketed, module: module,
        arguments: arguments))
  }

  private static func isCommonAuthInclude(_ line: Line) -> Bool {
    let includes =
      line.type == "@include"
      || (line.type == "auth" && !line.bracketed && ["include", "substack"].contains(line.control))
    return includes && (line.module == "common-auth" || line.module.hasSuffix("/common-auth"))
  }

  /// Modules that succeed only for a caller who is already root (`su`'s first line), so
  /// letting them skip the code asks nothing of anyone who could not bypass it anyway.
  private static let rootOnlyModules = ["pam_rootok.so"]

  /// Whether a line, when its module succeeds, can skip the lines after it (and which).
  private static func skippedLineCount(after line: Line) -> Int? {
    let moduleName = line.module.split(separator: "/").last.map(String.init) ?? line.module
    if rootOnlyModules.contains(moduleName) { return nil }
    if !line.bracketed { return line.control == "sufficient" ? Int.max : nil }
    guard let action = line.action(for: "success") else { return nil }
    if action == "done" { return Int.max }
    if let jump = Int(action), jump > 0 { return jump }
    return nil
  }

  /// Whether a line can authenticate a user on its own (a password module, or an included
  /// auth stack such as common-auth): not pam_lockstep, not a module that only denies or only
  /// lets root through.
  private static func isFirstFactor(_ line: Line) -> Bool {
    let moduleName = line.module.split(separator: "/").last.map(String.init) ?? line.module
    if line.type == "@include" { return moduleName.contains("auth") }
    return line.type == "auth" && !line.loadsLockstep && moduleName != "pam_deny.so"
      && !rootOnlyModules.contains(moduleName)
  }

  /// The findings for one line that loads pam_lockstep; `firstFactor` is a line of the file
  /// that can authenticate a user on its own, if there is one.
  private static func check(_ line: Line, authLines: [Line], firstFactor: Line?) -> [Finding] {
    var findings: [Finding] = []
    let n = line.number
    let options = ModuleOptions(arguments: line.arguments)
    for problem in options.problems {
      findings.append(
        Finding(
          severity: .error, rule: "pam.argument", line: n,
          message: "pam_lockstep refuses every login on this line: \(problem).",
          fix: "Correct or remove the argument; 'man pam_lockstep' or the README lists the valid ones."))
    }
    guard line.type == "auth" else {
      findings.append(
        Finding(
          severity: .error, rule: "pam.type", line: n,
          message:
            "pam_lockstep is loaded as a '\(ModuleOptions.printable(line.type))' module, but it only implements 'auth'.",
          fix: "Change the type to 'auth', or remove the line."))
      return findings
    }
    if line.quiet {
      findings.append(
        Finding(
          severity: .warning, rule: "pam.quiet", line: n,
          message:
            "With '-auth', PAM silently skips this line if the module file is missing, and logins go on without a code.",
          fix: "Write 'auth' without the leading '-'."))
    }
    let sufficient: Bool
    let ignoresFailure: Bool
    if line.bracketed {
      sufficient = line.action(for: "success") == "done"
      // A wrong code is PAM_AUTH_ERR, a locked-out user PAM_MAXTRIES.
      ignoresFailure = line.action(for: "auth_err") == "ignore" || line.action(for: "maxtries") == "ignore"
    } else {
      sufficient = line.control == "sufficient"
      ignoresFailure = line.control == "optional"
    }
    if sufficient {
      findings.append(
        Finding(
          severity: .error, rule: "pam.sufficient", line: n,
          message: "A correct code alone ends the stack with success, skipping the rest of it, the password included.",
          fix: "Use 'required' (or 'requisite') instead."))
      if options.nullok {
        findings.append(
          Finding(
            severity: .error, rule: "pam.nullok-sufficient", line: n,
            message:
              "With 'nullok' as well as 'sufficient', unenrolled users skip the code and enrolled ones can skip the password.",
            fix: "Use 'required' and keep 'nullok' only while users are being enrolled."))
      }
    }
    if ignoresFailure {
      findings.append(
        Finding(
          severity: .error, rule: "pam.optional", line: n,
          message: "A wrong code does not stop the login, since the module's failure is ignored.",
          fix: "Use 'required' (or 'requisite') instead."))
    }
    if options.nullok, let firstFactor {
      findings.append(
        Finding(
          severity: .warning, rule: "pam.nullok", line: n,
          message:
            "With 'nullok', a user without a lockstep record logs in on line \(firstFactor.number)'s '\(ModuleOptions.printable(firstFactor.module))' alone (a password), without a code.",
          fix: "Enroll every user of this service, then remove 'nullok'."))
    } else if options.nullok {
      findings.append(
        Finding(
          severity: .info, rule: "pam.nullok", line: n,
          message:
            "With 'nullok', users without a lockstep record are ignored by the module; no other module here lets them in.",
          fix: "Remove 'nullok' once every user is enrolled."))
    }
    if options.invitations, !(firstFactor.map { $0.number < n } ?? false) {
      findings.append(
        Finding(
          severity: .warning, rule: "pam.invitations", line: n,
          message:
            "With 'invitations', whoever reaches this prompt for an invited user is shown that user's new secret, and no module above this line asks for a password first.",
          fix:
            "Keep 'invitations' only where a first factor comes first: a password module above this line, or sshd's 'AuthenticationMethods publickey,keyboard-interactive'."
        ))
    }
    // Lines before this one that can jump over it when they succeed.
    if let position = authLines.firstIndex(where: { $0.number == line.number }) {
      for (index, earlier) in authLines[..<position].enumerated() {
        guard let skipped = skippedLineCount(after: earlier) else { continue }
        let distance = position - index
        if skipped >= distance {
          findings.append(
            Finding(
              severity: .warning, rule: "pam.skippable", line: n,
              message:
                "Line \(earlier.number) ('\(ModuleOptions.printable(earlier.module))') can skip this line when it succeeds, so a login may not be asked for a code.",
              fix: "Move pam_lockstep before line \(earlier.number), or make that line 'required'."))
          break
        }
      }
    }
    return findings
  }
}
