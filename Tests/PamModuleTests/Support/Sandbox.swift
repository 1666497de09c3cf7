import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform

/// A throwaway world for one test: a store directory and a PAM configuration directory in a
/// fresh temporary directory, removed when the sandbox is released.
final class Sandbox {
  /// The temporary directory holding everything else.
  let root: String
  /// The store the module is pointed at.
  var store: String { root + "/store" }
  /// The directory given to `pam_start_confdir`.
  var confdir: String { root + "/pam.d" }
  /// Where the driver writes what the module logs.
  var syslog: String { root + "/syslog" }

  /// The secret used by `enroll` unless a test gives another.
  static let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

  /// Texts that must never appear in the log: the enrolled secrets (see `SecretLog.swift`).
  var secretTexts: Set<String> = []
  /// Numbers that must never appear in the log: every code and backup code typed.
  var typedCodes: Set<String> = []
  /// Whether a file system is mounted on the store (see `Mounts.swift`).
  var storeIsMounted = false

  /// Creates the directories and a service `lockstep-test` that runs the module with `arguments`
  /// (a `store=` pointing at this sandbox is added unless the arguments name one).
  init(arguments: [String] = []) throws {
    for built in [Paths.module, Paths.driver] where !FileManager.default.fileExists(atPath: built) {
      throw TestFailure("\(built) is missing: run `make test` (or `make` before `swift test`)")
    }
    root = FileManager.default.temporaryDirectory.path + "/lockstep-test-" + UUID().uuidString
    try FileManager.default.createDirectory(
      atPath: root, withIntermediateDirectories: false,
      attributes: [.posixPermissions: 0o700])
    try FileManager.default.createDirectory(
      atPath: store, withIntermediateDirectories: false,
      attributes: [.posixPermissions: 0o700])
    try FileManager.default.createDirectory(atPath: confdir, withIntermediateDirectories: false)
    // Without an "other" service libpam logs a complaint into every test's syslog.
    try "auth required pam_deny.so\n".write(toFile: confdir + "/other", atomically: true, encoding: .utf8)
    try configure(arguments: arguments)
  }

  deinit {
    reportSecretsInTheLog()
    if storeIsMounted { unmountStore() }
    try? FileManager.default.removeItem(atPath: root)
  }

  /// (Re)writes the `lockstep-test` service with the module and `arguments`. A `store=`
  /// pointing at this sandbox is added unless the arguments name one or an `agent=`, and `fail_delay=0` unless
  /// they set a delay: the tests of what a refusal does need not wait for the delay that hides
  /// its timing (`RefusalTimingTests` checks that delay itself, at its default).
  func configure(arguments: [String], service: String = "lockstep-test") throws {
    let storeArgument =
      arguments.contains { $0.hasPrefix("store=") || $0.hasPrefix("agent=") } ? [] : ["store=" + store]
    let delayArgument = arguments.contains { $0.hasPrefix("fail_delay=") } ? [] : ["fail_delay=0"]
    let line = (["auth", "required", Paths.module] + storeArgument + delayArgument + arguments.map(Self.quoted))
      .joined(separator: " ")
    try writeService(service, lines: [line])
  }

  /// Writes a service file with arbitrary `lines` (for stacks of several modules).
  func writeService(_ service: String, lines: [String]) throws {
    try (lines.joined(separator: "\n") + "\n").write(toFile: confdir + "/" + service, atomically: true, encoding: .utf8)
  }

  /// An argument as libpam reads it: bracketed when it holds spaces.
  static func quoted(_ argument: String) -> String {
    argument.contains(" ") ? "[" + argument.replacingOccurrences(of: "]", with: "\\]") + "]" : argument
  }

  /// Enrolls `user` afresh by writing a record through the store, as the CLI does, after
  /// removing any record the user had (as `lockstep revoke` does: a record that replaces one
  /// with the same secret would keep its replay watermark); returns the record as stored.
  @discardableResult
  func enroll(
    _ user: String, secret: String = Sandbox.secret, parameters: TokenParameters = .standard,
    change: (inout UserRecord) -> Void = { _ in }
  ) throws -> UserRecord {
    guard let key = Base32.decode(secret), let name = UserName(user) else { throw TestFailure("bad test input") }
    noteSecret(secret)
    var record = UserRecord(parameters: parameters, secret: key, enrolled: 1_700_000_000)
    change(&record)
    let store = try Store(path: store)
    let lock = try store.lock(name)
    try store.remove(holding: lock)
    try store.write(record, holding: lock)
    guard let stored = try store.read(name) else { throw TestFailure("the record just written is missing") }
    return stored
  }

  /// Enrolls `user` as `enroll` does, with `count` new backup codes (hashed by libcrypto, as
  /// the CLI hashes them); returns the codes as a user types them.
  func enrollWithBackupCodes(_ user: String, count: Int) throws -> [String] {
    let crypto = LibCrypto()
    guard let codes = BackupCodeHashes.generateCodes(count: count, crypto: crypto),
      let hashes = BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto)
    else { throw TestFailure("no backup codes") }
    try enroll(user) { $0.backupCodes = hashes }
    return codes.map { String(decoding: $0, as: UTF8.self) }
  }

  /// A stack line that runs after the module and saves the `PAM_AUTHTOK` it is handed (through
  /// `pam_exec`'s `expose_authtok`) to the file `capturedPasswordPath`; applications cannot
  /// read that item themselves. The command is a system program, not a script written here:
  /// a freshly written executable can fail to start (`ETXTBSY`) while a child spawned by a
  /// concurrent test still holds the descriptor it was written through.
  var passwordCaptureLine: String {
    "auth optional pam_exec.so expose_authtok quiet /bin/dd of=\(capturedPasswordPath) status=none"
  }

  /// Where `passwordCaptureLine` saves the password.
  var capturedPasswordPath: String { root + "/authtok" }

  /// The password `passwordCaptureLine` saved, without the NUL that some `pam_exec` versions
  /// send after it.
  func capturedPassword() throws -> String {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: capturedPasswordPath))
    return String(decoding: bytes.last == 0 ? bytes.dropLast() : bytes, as: UTF8.self)
  }

  /// The user's record as the module left it.
  func record(_ user: String) throws -> UserRecord? {
    guard let name = UserName(user) else { throw TestFailure("bad user name") }
    return try Store(path: store).read(name)
  }

  /// The raw bytes of a file in the store, or nil if it is absent.
  func storeFile(_ name: String) -> Data? {
    FileManager.default.contents(atPath: store + "/" + name)
  }

  /// Lines the module logged so far.
  func logLines() -> [String] {
    guard let text = try? String(contentsOfFile: syslog, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").map(String.init)
  }
}
