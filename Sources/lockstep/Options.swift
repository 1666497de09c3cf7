import ArgumentParser
import LockstepConfiguration
import LockstepCore
import LockstepPlatform

#if canImport(Glibc)
  import Glibc
#endif

/// The options every subcommand shares: where the store is. A store directory given with
/// `--store` or `$LOCKSTEP_STORE` comes first; else lockstepd's configuration (`--config`, or
/// the default file when it exists) says where the agent is; else the default directory.
struct StoreOptions: ParsableArguments {
  /// The default store, the same as the module's `store=` default.
  static let defaultPath = "/var/lib/lockstep"

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The directory of user records (default: $LOCKSTEP_STORE, or /var/lib/lockstep when it is unset).",
      valueName: "dir"))
  var store: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "lockstepd's configuration: work on the store its agent serves, a fleet's database (default: "
        + "\(AgentConfiguration.defaultPath) when it exists and no store directory is given).",
      valueName: "file"))
  var config: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The host key that seals the store's secrets, when the file exists.",
      valueName: "file"))
  var hostKey = HostKey.defaultPath

  /// The store directory given: the option, else `LOCKSTEP_STORE`.
  private var givenPath: String? {
    if let store, !store.isEmpty { return store }
    if let value = getenv("LOCKSTEP_STORE"), let text = String(validatingCString: value), !text.isEmpty {
      return text
    }
    return nil
  }

  /// This host's store directory: the one given, else the default.
  var path: String { givenPath ?? Self.defaultPath }

  /// The configuration that names the store, if it does: `--config`, or the default file when
  /// no store directory is given and the file exists.
  var configuration: AgentConfiguration? {
    get throws(Failure) {
      let file: String
      if let config {
        file = config
      } else if givenPath == nil && access(AgentConfiguration.defaultPath, F_OK) == 0 {
        file = AgentConfiguration.defaultPath
      } else {
        return nil
      }
      do { return try AgentConfiguration.load(file) } catch {
        throw Failure("the agent's configuration \(error)", code: Exit.storeUnusable)
      }
    }
  }

  func validate() throws {
    if config != nil, let store, !store.isEmpty {
      throw ValidationError("--store and --config name two stores; give one")
    }
  }

  /// Checks that the process runs as root, then opens where the records are: the store
  /// directory, or the agent that the configuration names (a configuration whose agent serves
  /// a store directory, `store =`, opens that directory).
  func records(creating: Bool = false) throws(Failure) -> RecordStore {
    try requireRoot()
    guard let configuration = try configuration else {
      return .directory(creating ? try openCreating() : try open())
    }
    if let directory = configuration.store {
      return .directory(try open(directory, creating: creating, hostKey: configuration.hostKey ?? hostKey))
    }
    return .agent(AgentClient(socket: configuration.socket, timeoutSeconds: AgentClient.defaultTimeout))
  }

  /// The agent that sends codes for this host: the one the configuration names, or the one at
  /// the default socket. Its exchanges may take as long as a send to a provider does.
  func sendingAgent() throws(Failure) -> AgentClient {
    let configuration = try configuration
    let seconds = AgentClient.defaultTimeout + (configuration?.delivery.limits.sendTimeoutSeconds ?? 30)
    return AgentClient(socket: configuration?.socket ?? AgentProtocol.defaultSocket, timeoutSeconds: seconds)
  }

  /// Checks that the process runs as root, then opens and checks this host's store directory.
  func open() throws(Failure) -> Store {
    try requireRoot()
    return try open(path, creating: false, hostKey: hostKey)
  }

  /// Like `open()`, but creates the store directory (root-owned, `0700`) if it is missing.
  func openCreating() throws(Failure) -> Store {
    try requireRoot()
    return try open(path, creating: true, hostKey: hostKey)
  }

  private func open(_ directory: String, creating: Bool, hostKey keyPath: String) throws(Failure) -> Store {
    do {
      let key = try HostKey(path: keyPath, crypto: crypto)
      if creating { try Store.createDirectory(path: directory) }
      return try Store(path: directory, hostKey: key)
    } catch {
      throw .store(error)
    }
  }
}

/// `--json`, for the commands that print something a script may want to read.
struct JSONOption: ParsableArguments {
  @Flag(name: .long, help: "Print the result as JSON instead of text.")
  var json = false
}

/// The user a command acts on.
struct UserArgument: ParsableArguments {
  @Argument(help: ArgumentHelp("The user's login name.", valueName: "user"))
  var user: String

  init() {}

  /// A user given some other way (for example several on one command line).
  init(user: String) {
    self.user = user
  }

  /// The name, checked the way the module checks it.
  func name() throws(Failure) -> UserName {
    guard let name = UserName(user) else {
      throw Failure(
        "'\(LogText.escape(Array(user.utf8)))' cannot be a user name: it is empty, too long, starts with a dot, "
          + "contains '/' or a control character, or is not valid UTF-8 text (the module refuses such names too)",
        code: Exit.usage)
    }
    return name
  }
}

/// `--allow-unknown-user`, for the commands that enroll a named user.
struct UnknownUserOption: ParsableArguments {
  @Flag(
    name: .long,
    help: ArgumentHelp(
      "Enroll a name that is not an account on this host, such as one LDAP or SSSD will provide later.",
      discussion: """
        Without it, a name the system's user database (getpwnam) does not know is refused: a \
        typo would leave the real user unenrolled, and locked out where a code is required.
        """))
  var allowUnknownUser = false

  /// Fails unless `user` is an account on this host or `--allow-unknown-user` was given.
  func check(_ user: UserName) throws(Failure) {
    guard !allowUnknownUser, !accountExists(user) else { return }
    throw Failure(
      "\(user) is not a user on this host; check the spelling, or give --allow-unknown-user if the account "
        + "will come from LDAP or SSSD later", code: Exit.usage)
  }

  /// Whether the system's user database (`/etc/passwd`, or whatever NSS is set up to ask) knows `user`.
  private func accountExists(_ user: UserName) -> Bool {
    var entry = passwd()
    var found: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 16_384)
    let name = user.bytes.map { CChar(bitPattern: $0) } + [0]
    let failure = getpwnam_r(name, &entry, &buffer, buffer.count, &found)
    return failure == 0 && found != nil
  }
}

/// Stops unless the process runs as root: the store and its records are root's alone.
func requireRoot() throws(Failure) {
  guard geteuid() == 0 else {
    throw Failure(
      "this command must be run as root, because the store is readable and writable only by root",
      code: Exit.notRoot)
  }
}
