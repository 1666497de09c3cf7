import Foundation
import Testing

/// The module through `pamtester`, a PAM application that is not ours. pamtester reads
/// services from /etc/pam.d, so each test installs a uniquely named service there and removes it.
@Suite struct PamtesterTests {
  @Test func pamtesterLogsInWithTheCodeAndNotWithItsReplay() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    // libpam lower-cases service names before it looks for their files.
    let service = "lockstep-pamtester-\(UUID().uuidString.prefix(8).lowercased())"
    let path = "/etc/pam.d/" + service
    try "auth required \(Paths.module) store=\(sandbox.store)\n".write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let code = try oathtool(secret: Sandbox.secret)
    let first = try runShell("echo \(code) | /usr/bin/pamtester -v \(service) alice authenticate")
    #expect(first.status == 0, "\(first.output) \(first.error)")
    #expect(first.error.contains("successfully authenticated") || first.output.contains("successfully authenticated"))
    let replay = try runShell("echo \(code) | /usr/bin/pamtester \(service) alice authenticate")
    #expect(replay.status != 0)
    #expect(replay.error.contains("Authentication failure"))
  }
}

/// Runs a shell command line.
func runShell(_ command: String) throws -> CommandResult {
  try runCommand("/bin/sh", ["-c", command])
}
