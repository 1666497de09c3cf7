import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `lockstep migrate` and `lockstep check --agent` without a working agent: the command line,
/// and every way of not getting an answer. Copying through a real agent and PostgreSQL is in
/// PamModuleTests/MigrateTests.swift.
@Suite("lockstep migrate and check --agent without an agent", .enabled(if: geteuid() == 0, "needs root"))
struct MigrateTests {
  @Test(
    "a command line that names no direction, both, or a bad timeout is a usage error",
    arguments: [
      [], ["--to-agent", "--from-agent"], ["--to-agent", "--agent-timeout", "0"],
      ["--from-agent", "--agent-timeout", "601"], ["--to-agent", ""], ["--to-agent", "/a", "/b"],
    ])
  func usage(arguments: [String]) throws {
    let store = try TemporaryStore()
    let before = try store.snapshot()
    let result = try store.run(["migrate"] + arguments)
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.errorLines.first?.hasPrefix("lockstep: ") == true, "\(result.stderr)")
    #expect(result.stdout.isEmpty)
    #expect(try store.snapshot() == before)
  }

  @Test("migrate is refused with status 5 when not run as root", arguments: ["--to-agent", "--from-agent"])
  func notRoot(direction: String) throws {
    let result = try CLI.run(["migrate", direction, "/nonexistent/agent.sock", "--store", "/tmp"], asUser: true)
    expectOneSentence(result, status: 5)
    #expect(result.errorLines.first?.contains("must be run as root") == true)
  }

  @Test(
    "an agent that is not there stops migrate with status 4, one sentence naming the socket, and no change",
    arguments: ["--to-agent", "--from-agent"])
  func agentAbsent(direction: String) throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let before = try store.snapshot()
    let socket = store.root.path + "/no-agent.sock"
    let result = try store.run(["migrate", direction, socket])
    expectOneSentence(result, status: 4)
    #expect(
      result.errorLines.first
        == "lockstep: the agent at \(socket) cannot be reached (connect: No such file or directory).")
    #expect(result.stdout.isEmpty)
    #expect(try store.snapshot() == before)
  }

  @Test("--from-agent creates no store when the agent cannot be reached")
  func noStoreLeftBehind() throws {
    let store = try TemporaryStore()
    let fresh = store.root.path + "/fresh"
    let result = try CLI.run(["migrate", "--from-agent", store.root.path + "/no-agent.sock", "--store", fresh])
    expectOneSentence(result, status: 4)
    #expect(!FileManager.default.fileExists(atPath: fresh))
  }

  @Test("an agent that does not answer stops migrate after --agent-timeout", arguments: ["--to-agent", "--from-agent"])
  func agentSilent(direction: String) throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: knownSecret)
    let before = try store.snapshot()
    let silent = try SilentSocket(path: store.root.path + "/silent.sock")
    let started = Date()
    let result = try store.run(["migrate", direction, silent.path, "--agent-timeout", "1"])
    let elapsed = Date().timeIntervalSince(started)
    expectOneSentence(result, status: 4)
    #expect(
      result.errorLines.first
        == "lockstep: the agent at \(silent.path) did not answer within 1 second (see --agent-timeout).")
    #expect(elapsed >= 1 && elapsed < 8, "\(elapsed) s")
    #expect(try store.snapshot() == before)
  }

  @Test("a socket is given to check only with --agent")
  func checkSocketWithoutAgent() throws {
    let store = try TemporaryStore()
    let result = try store.run(["check", "/run/lockstep/agent.sock"])
    #expect(result.status == 2)
    #expect(result.errorLines.first == "lockstep: a socket is given only with --agent.", "\(result.stderr)")
  }

  @Test("check --agent reports an agent that is not there as an error, with status 9")
  func checkAgentAbsent() throws {
    let store = try TemporaryStore()
    let socket = store.root.path + "/no-agent.sock"
    let (status, findings) = try check(store, ["--agent", socket])
    #expect(status == 9)
    let agent = findings.filter { ($0["rule"] as? String)?.hasPrefix("agent.") == true }
    #expect(agent.count == 1, "\(agent)")
    #expect(agent.first?["rule"] as? String == "agent.unreachable")
    #expect(agent.first?["severity"] as? String == "error")
    #expect(agent.first?["file"] as? String == socket)
    let message = agent.first?["message"] as? String ?? ""
    #expect(message.hasPrefix("The agent at \(socket) cannot be reached"), "\(message)")
  }

  @Test("check --agent reports an agent that does not answer as an error, after --agent-timeout")
  func checkAgentSilent() throws {
    let store = try TemporaryStore()
    let silent = try SilentSocket(path: store.root.path + "/silent.sock")
    let (status, findings) = try check(store, ["--agent", silent.path, "--agent-timeout", "1"])
    #expect(status == 9)
    let finding = findings.first { $0["rule"] as? String == "agent.unreachable" }
    #expect((finding?["message"] as? String)?.contains("did not answer within 1 second") == true, "\(findings)")
  }

  @Test("check without --agent asks no agent")
  func checkWithoutAgent() throws {
    let store = try TemporaryStore()
    let (_, findings) = try check(store, [])
    #expect(!findings.contains { ($0["rule"] as? String)?.hasPrefix("agent.") == true })
  }

  /// `lockstep check --json` on `store`, with an empty PAM directory and no sshd configuration:
  /// its status and findings.
  func check(_ store: TemporaryStore, _ arguments: [String]) throws -> (Int32, [[String: Any]]) {
    let pam = store.root.path + "/pam.d"
    try FileManager.default.createDirectory(atPath: pam, withIntermediateDirectories: true)
    let result = try store.run(
      ["check", "--json", "--pam-directory", pam, "--sshd-config", store.root.path + "/no-sshd_config"] + arguments)
    let findings = try jsonObject(result.stdout)["findings"] as? [[String: Any]] ?? []
    return (result.status, findings)
  }
}

/// A Unix socket that listens and never accepts: a client connects (the kernel queues it), and
/// then waits for an answer that never comes, as from an agent that hangs. Removed when released.
final class SilentSocket {
  let path: String
  private let descriptor: Int32

  init(path: String) throws {
    self.path = path
    descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw POSIXError(.EIO) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      buffer.copyBytes(from: bytes)
      buffer[bytes.count] = 0
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard bound == 0, listen(descriptor, 8) == 0 else {
      close(descriptor)
      throw POSIXError(.EADDRINUSE)
    }
  }

  deinit {
    close(descriptor)
    unlink(path)
  }
}
