import Foundation
import Testing

/// The check every sandbox makes of its log when it is released (`Support/SecretLog.swift`)
/// finds what it looks for and fails the test that leaked it.
@Suite struct SecretLogTests {
  /// `Sandbox.secret` as bytes, in hex.
  static let secretHex = "48656c6c6f21deadbeef48656c6c6f21deadbeef"

  @Test func findsEverySecretAndTypedCodeInTheLog() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    sandbox.noteTyped(" 123 456 ")
    sandbox.noteTyped("1234-5678")
    try "<85> pam_lockstep: \(Sandbox.secret) code=123456 \(Self.secretHex.uppercased()) x12345678\n".write(
      toFile: sandbox.syslog, atomically: false, encoding: .utf8)
    #expect(Set(sandbox.secretsInTheLog()) == [Sandbox.secret, Self.secretHex.uppercased(), "123456", "12345678"])
    // A code inside a longer number is not the code.
    try "<85> step 9123456 until 112345678\n".write(toFile: sandbox.syslog, atomically: false, encoding: .utf8)
    #expect(sandbox.secretsInTheLog().isEmpty)
    try "".write(toFile: sandbox.syslog, atomically: false, encoding: .utf8)
  }

  @Test func releasingASandboxWhoseLogHoldsASecretFailsTheTest() throws {
    withKnownIssue {
      let sandbox = try Sandbox()
      try sandbox.enroll("alice")
      try "<85> \(Sandbox.secret)\n".write(toFile: sandbox.syslog, atomically: false, encoding: .utf8)
    }
  }
}
