import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// What one run of the CLI did.
struct CLIRun {
  var status: Int32
  var stdout: String
  var stderr: String

  /// Standard error without the noise of helper tools, as lines.
  var errorLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

/// Runs the built `lockstep` binary as a subprocess.
///
/// The binary is the one `swift test` builds next to the test bundle: this test target depends
/// on the `lockstep` executable target, so the same `swift test` invocation (whatever its
/// `--scratch-path` and configuration) always builds `lockstep` into the bin directory that holds
/// the test executable, found through `/proc/self/exe`. The environment variable `LOCKSTEP_CLI`
/// overrides it, for example to test `build/lockstep`.
enum CLI {
  static let path: String = {
    if let override = ProcessInfo.processInfo.environment["LOCKSTEP_CLI"], !override.isEmpty { return override }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    // On some setups the test executable sits inside a bundle directory (`X.xctest/...`).
    while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("lockstep").path),
      directory.path != "/"
    {
      directory = directory.deletingLastPathComponent()
    }
    return directory.appendingPathComponent("lockstep").path
  }()

  /// Runs `lockstep` with `arguments`, feeding `input` on standard input.
  static func run(
    _ arguments: [String], input: String = "", environment: [String: String] = [:], asUser: Bool = false
  ) throws -> CLIRun {
    let process = Process()
    if asUser {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
      process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", path] + arguments
    } else {
      process.executableURL = URL(fileURLWithPath: path)
      process.arguments = arguments
    }
    var env = ProcessInfo.processInfo.environment
    env["LOCKSTEP_STORE"] = nil
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let inURL = scratch.appendingPathComponent("in")
    let outURL = scratch.appendingPathComponent("out")
    let errURL = scratch.appendingPathComponent("err")
    try Data(input.utf8).write(to: inURL)
    try Data().write(to: outURL)
    try Data().write(to: errURL)
    process.standardInput = try FileHandle(forReadingFrom: inURL)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    return CLIRun(
      status: process.terminationStatus,
      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
  }
}

/// A throwaway store: a root-owned `0700` directory in a fresh temporary directory.
final class TemporaryStore {
  let root: URL
  let path: String

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    path = root.appendingPathComponent("store").path
    #expect(mkdir(path, 0o700) == 0)
    #expect(chmod(path, 0o700) == 0)
  }

  deinit { try? FileManager.default.removeItem(at: root) }

  /// Runs `lockstep` with `--store` pointing here.
  func run(_ arguments: [String], input: String = "") throws -> CLIRun {
    try CLI.run(arguments + ["--store", path], input: input)
  }

  /// Every file in the store with its mode and contents, to show that a command changed nothing.
  func snapshot() throws -> [String: String] {
    var result: [String: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: path) {
      let file = path + "/" + name
      var st = stat()
      _ = lstat(file, &st)
      let contents = (try? String(contentsOfFile: file, encoding: .utf8)) ?? "<unreadable>"
      result[name] = String(st.st_mode, radix: 8) + "\n" + contents
    }
    var st = stat()
    _ = stat(path, &st)
    result["."] = String(st.st_mode, radix: 8)
    return result
  }

  /// The text of `user`'s record.
  func record(_ user: String) throws -> String {
    try String(contentsOfFile: path + "/" + user, encoding: .utf8)
  }

  /// Writes `text` as `user`'s record, root-owned `0600`.
  func writeRecord(_ user: String, _ text: String) throws {
    let file = path + "/" + user
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    #expect(chmod(file, 0o600) == 0)
  }

  /// Enrolls `user` with `secret` without confirmation; returns the backup codes printed.
  @discardableResult
  func enroll(_ user: String, secret: String, extra: [String] = []) throws -> [String] {
    let result = try run(
      ["enroll", user, "--allow-unknown-user", "--secret-file", "-", "--no-confirm", "--json"] + extra,
      input: secret + "\n")
    #expect(result.status == 0, "\(result.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    return object?["backupCodes"] as? [String] ?? []
  }
}

/// Runs `/usr/bin/oathtool` and returns its output lines.
func oathtool(_ arguments: [String]) throws -> [String] {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/oathtool")
  process.arguments = arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
}

/// The current TOTP code for a base32 secret, from oathtool.
func totp(_ secret: String, algorithm: String = "sha1", digits: Int = 6, at unixTime: Int? = nil) throws -> String {
  var arguments = ["--totp=\(algorithm)", "-b", "-d", String(digits)]
  if let unixTime { arguments += ["-N", "@\(unixTime)"] }
  return try oathtool(arguments + [secret]).first ?? ""
}

/// Parses JSON output into an object.
func jsonObject(_ text: String) throws -> [String: Any] {
  let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
  return parsed as? [String: Any] ?? [:]
}

/// Whether the tests can run: they need root (the store must be root-owned) and oathtool.
let canRunCLITests = geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/oathtool")

/// A known secret (the RFC 6238 SHA-1 key, "12345678901234567890").
let knownSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

/// Checks that `result` failed with `status` and exactly one `lockstep: ` sentence.
func expectOneSentence(_ result: CLIRun, status: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(result.status == status, "\(result.stderr)", sourceLocation: sourceLocation)
  #expect(result.errorLines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
  let line = result.errorLines.first ?? ""
  #expect(line.hasPrefix("lockstep: ") && line.hasSuffix("."), "\(line)", sourceLocation: sourceLocation)
}
