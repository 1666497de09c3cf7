/// Where a code comes from when another module in the stack already asked for a password.
public enum FirstPassMode: String, Sendable {
  /// Always prompt (the default).
  case none
  /// Try the stacked `PAM_AUTHTOK` as the code if it looks like one; prompt if it does not work.
  case tryFirstPass = "try_first_pass"
  /// Use only the stacked `PAM_AUTHTOK`; never prompt.
  case useFirstPass = "use_first_pass"
}

/// The module's arguments from its line in `/etc/pam.d`, parsed into one typed value.
///
/// Parsing never fails as a whole: every argument that is unknown or has a bad value is
/// reported in `problems`, and the module refuses to authenticate while there are any,
/// so that a typo cannot silently weaken a configuration.
public struct ModuleOptions: Equatable, Sendable {
  /// The default store directory.
  public static let defaultStore = "/var/lib/lockstep"
  /// The default host key, which seals the store's secrets when it exists.
  public static let defaultHostKey = "/etc/lockstep/host.key"
  /// The default prompt.
  public static let defaultPrompt = "Verification code: "
  /// The prompt used with `forward_pass`, where password and code are typed together.
  public static let defaultForwardPassPrompt = "Password & verification code: "

  /// `store=DIR`: the directory holding the user records.
  public var store = ModuleOptions.defaultStore
  /// `agent=PATH`: ask lockstepd at this socket instead of reading `store` (a fleet's shared
  /// store); `nil` for the local store.
  public var agent: String?
  /// `host_key=PATH`: the host key that opens the store's sealed secrets and seals those the
  /// module writes, used when the file exists (see `HostKey`).
  public var hostKey = ModuleOptions.defaultHostKey
  /// `nullok`: users with no record are let through by this module (`PAM_IGNORE`).
  public var nullok = false
  /// `window=N`: how many time steps before and after the current one are accepted.
  public var window = ModuleSetting.window.defaultValue
  /// `lookahead=N`: how many HOTP counter values past the expected one are accepted.
  public var lookahead = ModuleSetting.lookahead.defaultValue
  /// `max_failures=N`: consecutive failures that start a lockout.
  public var maxFailures = ModuleSetting.maxFailures.defaultValue
  /// `lockout=SECONDS`: how long a lockout lasts.
  public var lockoutSeconds = ModuleSetting.lockout.defaultValue
  /// `prompt=TEXT`: the prompt; `nil` means the default for the mode.
  public var prompt: String?
  /// `echo`: show the code as it is typed.
  public var echo = false
  /// `try_first_pass` or `use_first_pass`.
  public var firstPass = FirstPassMode.none
  /// `forward_pass`: one prompt for password and code; the password is passed on as `PAM_AUTHTOK`.
  public var forwardPass = false
  /// `fail_delay=MS`: every refusal of an answer is returned no sooner than this many
  /// milliseconds after the answer arrived, so that how long a refusal takes tells nothing of
  /// the work behind it (whether the user is enrolled, has backup codes, was locked out).
  public var failDelayMilliseconds = ModuleSetting.failDelay.defaultValue
  /// `lock_timeout=SECONDS`: how long a login waits for another process to release the
  /// user's lock before it fails closed.
  public var lockTimeoutSeconds = ModuleSetting.lockTimeout.defaultValue
  /// `agent_timeout=SECONDS`: how long a login waits for the agent's whole answer before it
  /// fails closed.
  public var agentTimeoutSeconds = ModuleSetting.agentTimeout.defaultValue
  /// `send_timeout=SECONDS`: how long a login waits for the agent to send a code.
  public var sendTimeoutSeconds = ModuleSetting.sendTimeout.defaultValue
  /// `send_at_once`: a user whose codes can only be sent (no authenticator app) has one sent
  /// before the first prompt, rather than on pressing Enter at it.
  public var sendAtOnce = false
  /// `lockout_message`: tell a locked-out user so through the application (`PAM_ERROR_MSG`).
  /// Only for services where a first factor always comes first (sudo, key then code), since
  /// it tells whoever reaches the prompt that the account is enrolled.
  public var lockoutMessage = false
  /// `invitations`: a user with an open invitation (`lockstep invite`) takes it up here: the
  /// module shows the QR code and the key URI, and the first right code enrolls the user. Only
  /// for stacks where a first factor (a key, a password) always comes first, since whoever
  /// reaches the prompt gets the new secret. With `agent=`, the agent holds the invitation
  /// and makes the enrollment. Not with `forward_pass` or the `*_first_pass` options.
  public var invitations = false
  /// `debug`: log the effective configuration and each decision.
  public var debug = false
  /// Arguments that were not understood, one sentence each.
  public var problems: [String] = []

  /// The defaults.
  public init() {}

  /// Parses the module's arguments.
  public init(arguments: [String]) {
    for argument in arguments {
      let (name, value) = Self.split(argument)
      switch (name, value) {
      case ("nullok", nil): nullok = true
      case ("echo", nil): echo = true
      case ("debug", nil): debug = true
      case ("lockout_message", nil): lockoutMessage = true
      case ("send_at_once", nil): sendAtOnce = true
      case ("invitations", nil): invitations = true
      case ("forward_pass", nil): forwardPass = true
      case ("try_first_pass", nil), ("use_first_pass", nil):
        let mode = FirstPassMode(rawValue: name) ?? .none
        if firstPass != .none && firstPass != mode {
          problems.append("'try_first_pass' and 'use_first_pass' exclude each other")
        }
        firstPass = mode
      case ("store", let dir?): store = path(name, dir, "directory") ?? store
      case ("agent", let socket?): agent = path(name, socket, "socket")
      case ("host_key", let file?): hostKey = path(name, file, "file") ?? hostKey
      case ("prompt", let text?): prompt = text
      case (ModuleSetting.window.name, let v?): window = number(argument, v, .window) ?? window
      case (ModuleSetting.lookahead.name, let v?): lookahead = number(argument, v, .lookahead) ?? lookahead
      case (ModuleSetting.maxFailures.name, let v?): maxFailures = number(argument, v, .maxFailures) ?? maxFailures
      case (ModuleSetting.lockout.name, let v?): lockoutSeconds = number(argument, v, .lockout) ?? lockoutSeconds
      case (ModuleSetting.failDelay.name, let v?):
        failDelayMilliseconds = number(argument, v, .failDelay) ?? failDelayMilliseconds
      case (ModuleSetting.lockTimeout.name, let v?):
        lockTimeoutSeconds = number(argument, v, .lockTimeout) ?? lockTimeoutSeconds
      case (ModuleSetting.agentTimeout.name, let v?):
        agentTimeoutSeconds = number(argument, v, .agentTimeout) ?? agentTimeoutSeconds
      case (ModuleSetting.sendTimeout.name, let v?):
        sendTimeoutSeconds = number(argument, v, .sendTimeout) ?? sendTimeoutSeconds
      default:
        problems.append("unknown argument '\(Self.printable(argument))'")
      }
    }
    if agent != nil && arguments.contains(where: { $0.hasPrefix("store=") }) {
      problems.append("'agent=' and 'store=' exclude each other: the agent names its own store")
    }
    if agent == nil && sendAtOnce {
      problems.append("'send_at_once' needs 'agent=': lockstepd sends the codes")
    }
    if invitations && (forwardPass || firstPass != .none) {
      problems.append(
        "'invitations' needs a prompt of its own: not 'forward_pass', 'try_first_pass' or 'use_first_pass'")
    }
    if forwardPass && firstPass != .none {
      problems.append("'forward_pass' cannot be combined with '\(firstPass.rawValue)'")
    }
  }

  /// The prompt to show.
  public var effectivePrompt: String {
    prompt ?? (forwardPass ? Self.defaultForwardPassPrompt : Self.defaultPrompt)
  }

  /// The prompt for a user who can have a code sent by `offer`: it says how, unless `prompt=`
  /// (the administrator's words) or `forward_pass` (password and code in one answer) applies.
  public func prompt(offering offer: DeliveryOffer?) -> String {
    guard let offer, prompt == nil, !forwardPass else { return effectivePrompt }
    return
      "Verification code (press Enter to have one sent by \(offer.channel.name) to \(Self.printable(offer.hint))): "
  }

  /// One line describing the configuration, for `debug` logging.
  public var summary: String {
    "store=\(Self.printable(store)) agent=\(agent.map(Self.printable) ?? "-") host_key=\(Self.printable(hostKey)) nullok=\(nullok) window=\(window) lookahead=\(lookahead) "
      + "max_failures=\(maxFailures) lockout=\(lockoutSeconds) echo=\(echo) "
      + "first_pass=\(firstPass.rawValue) forward_pass=\(forwardPass) fail_delay=\(failDelayMilliseconds) "
      + "lock_timeout=\(lockTimeoutSeconds) agent_timeout=\(agentTimeoutSeconds) lockout_message=\(lockoutMessage) "
      + "send_timeout=\(sendTimeoutSeconds) send_at_once=\(sendAtOnce) invitations=\(invitations) "
      + "prompt=\"\(Self.printable(effectivePrompt))\""
  }

  private mutating func path(_ name: String, _ value: String, _ what: String) -> String? {
    guard value.hasPrefix("/") && !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
      problems.append("'\(name)=' needs an absolute \(what) path without control characters")
      return nil
    }
    return value
  }

  private mutating func number(_ argument: String, _ text: String, _ setting: ModuleSetting) -> Int? {
    let range = setting.range
    guard let n = Int64(asciiString: text), n >= Int64(range.lowerBound), n <= Int64(range.upperBound) else {
      problems.append("'\(Self.printable(argument))' needs a whole number \(setting.rangeText)")
      return nil
    }
    return Int(n)
  }

  private static func split(_ argument: String) -> (String, String?) {
    guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
    return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
  }

  /// `text` with control characters escaped and cut to a sane length, safe for a log line.
  public static func printable(_ text: String) -> String {
    LogText.escape(Array(text.utf8))
  }
}
