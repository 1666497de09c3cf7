import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("lockstep on bad input", .enabled(if: canRunCLITests, "needs root and oathtool"))
struct ErrorTests {
  @Test(
    "an unknown user is reported with status 3 and no file is created",
    arguments: [["status"], ["unlock"], ["revoke"], ["backup-codes"], ["verify"], ["resync"], ["export", "--uri"]])
  func unknownUser(command: [String]) throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let before = try store.snapshot()
    let result = try store.run([command[0], "nobody-here"] + command.dropFirst(), input: "123456\n654321\n")
    expectOneSentence(result, status: 3)
    #expect(result.errorLines.first?.contains("nobody-here is not enrolled") == true)
    #expect(try store.snapshot() == before)
  }

  @Test(
    "a store writable by others is refused with status 4",
    arguments: [
      ["list"], ["status", "alice"], ["unlock", "alice"], ["enroll", "bob", "--allow-unknown-user", "--no-confirm"],
    ])
  func unsafeStore(command: [String]) throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    #expect(chmod(store.path, 0o777) == 0)
    let before = try store.snapshot()
    let result = try store.run(command)
    expectOneSentence(result, status: 4)
    #expect(result.errorLines.first?.contains("writable by group or others") == true)
    #expect(try store.snapshot() == before)
  }

  @Test("a record readable by others is refused with status 4")
  func unsafeRecord() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    #expect(chmod(store.path + "/alice", 0o644) == 0)
    let before = try store.snapshot()
    for command in [["status", "alice"], ["unlock", "alice"], ["revoke", "alice", "--force"]] {
      expectOneSentence(try store.run(command), status: 4)
    }
    #expect(try store.snapshot() == before)
  }

  @Test(
    "an unparseable record is refused with status 4 and left alone",
    arguments: [
      ["status", "alice"], ["unlock", "alice"], ["verify", "alice"], ["backup-codes", "alice"], ["revoke", "alice"],
      ["enroll", "alice", "--allow-unknown-user", "--no-confirm"], ["list"],
    ])
  func unparseableRecord(command: [String]) throws {
    let store = try TemporaryStore()
    try store.writeRecord("alice", "lockstep-record 1\nkind totp\nfrobnicate yes\n")
    let before = try store.snapshot()
    let result = try store.run(command, input: "123456\n")
    expectOneSentence(result, status: 4)
    #expect(result.errorLines.first?.contains("is invalid") == true)
    #expect(try store.snapshot() == before)
  }

  @Test("revoke --force removes an unparseable record; enroll --force replaces one")
  func forceOverUnparseable() throws {
    let store = try TemporaryStore()
    try store.writeRecord("alice", "garbage\n")
    #expect(try store.run(["revoke", "alice", "--force"]).status == 0)
    try store.writeRecord("alice", "garbage\n")
    #expect(
      try store.run(["enroll", "alice", "--allow-unknown-user", "--no-confirm", "--force", "--json"]).status == 0)
    #expect(try store.run(["status", "alice"]).status == 0)
  }

  @Test(
    "usage errors exit with status 2",
    arguments: [
      ["frobnicate"], ["enroll"], ["enroll", "alice", "--allow-unknown-user", "--digits", "9"],
      ["enroll", "alice", "--algorithm", "md5"],
      ["enroll", "../etc", "--no-confirm"], ["verify", "alice", "--window", "11"], ["export", "alice"],
    ])
  func usage(command: [String]) throws {
    let store = try TemporaryStore()
    let before = try store.snapshot()
    let result = try store.run(command)
    #expect(result.status == 2)
    #expect(result.errorLines.first?.hasPrefix("lockstep: ") == true)
    #expect(try store.snapshot() == before)
  }

  @Test(
    "verify's window and look-ahead take the module's ranges, in the refusal and in the help",
    arguments: [("--window", "11", "from 0 to 10"), ("--lookahead", "101", "from 0 to 100")])
  func verifyRanges(option: String, value: String, range: String) throws {
    let result = try CLI.run(["verify", "alice", option, value])
    #expect(result.status == 2)
    #expect(result.errorLines.first == "lockstep: \(option) must be \(range).", "\(result.errorLines)")
    let help = try CLI.run(["verify", "--help"])
    #expect(help.stdout.replacingOccurrences(of: "\n", with: " ").contains(range), "\(help.stdout)")
  }

  @Test(
    "a mistyped command is named, with the command it is closest to",
    arguments: [
      (["staus", "alice"], "lockstep: unknown command 'staus'; did you mean 'status'?"),
      (["enrol", "alice"], "lockstep: unknown command 'enrol'; did you mean 'enroll'?"),
      (["lsit"], "lockstep: unknown command 'lsit'; did you mean 'list'?"),
      (["frobnicate"], "lockstep: unknown command 'frobnicate'."),
    ])
  func mistypedCommand(arguments: [String], expected: String) throws {
    let store = try TemporaryStore()
    let result = try store.run(arguments)
    #expect(result.status == 2)
    #expect(result.errorLines == [expected, "Run 'lockstep help' for the list of commands."])
  }

  @Test(
    "a usage error names the help of the command it is in",
    arguments: [
      (["status"], "status"), (["verify", "alice", "--window", "11"], "verify"),
      (["import", "pam-oath"], "import pam-oath"), (["list", "extra"], "list"),
    ])
  func usageNamesTheCommandsHelp(arguments: [String], command: String) throws {
    let result = try CLI.run(arguments)
    #expect(result.status == 2)
    #expect(result.errorLines.count == 2)
    #expect(result.errorLines.first?.hasPrefix("lockstep: ") == true)
    #expect(result.errorLines.last == "Run 'lockstep help \(command)' for usage.")
  }

  @Test("without root, one sentence and status 5")
  func notRoot() throws {
    try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"))
    // The binary must be reachable by the unprivileged user.
    let probe = try CLI.run(["--version"], asUser: true)
    try #require(probe.status == 0, "the built binary is not accessible to an unprivileged user")
    let store = try TemporaryStore()
    let result = try CLI.run(["list", "--store", store.path], asUser: true)
    expectOneSentence(result, status: 5)
    #expect(result.errorLines.first?.contains("must be run as root") == true)
  }

  @Test("--version, --help and completion scripts work")
  func helpAndVersion() throws {
    let version = try CLI.run(["--version"])
    #expect(version.status == 0)
    #expect(version.stdout.hasPrefix("lockstep "))
    let help = try CLI.run(["enroll", "--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("--secret-file"))
    let completion = try CLI.run(["--generate-completion-script", "bash"])
    #expect(completion.status == 0)
    #expect(completion.stdout.contains("lockstep"))
  }

  @Test("LOCKSTEP_STORE sets the store")
  func storeFromEnvironment() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let result = try CLI.run(["status", "alice", "--json"], environment: ["LOCKSTEP_STORE": store.path])
    #expect(result.status == 0, "\(result.stderr)")
  }
}
