import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// Single-use backup codes, stored as salted hashes.
@Suite struct BackupCodeTests {
  static let now = LoginTests.now

  @Test func backupCodeWorksOnceAndIsStoredOnlyAsAHash() throws {
    let sandbox = try Sandbox()
    let crypto = LibCrypto()
    let codes = try #require(BackupCodeHashes.generateCodes(count: 5, crypto: crypto))
    let hashes = try #require(BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto))
    try sandbox.enroll("alice") { $0.backupCodes = hashes }
    let code = String(decoding: codes[2], as: UTF8.self)
    let file = String(decoding: try #require(sandbox.storeFile("alice")), as: UTF8.self)
    #expect(!file.contains(code))

    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
    #expect(try sandbox.record("alice")?.backupCodes.hashes.count == 4)
    #expect(sandbox.logLines().contains { $0.contains("accepted backup code (4 left)") })
    #expect(try sandbox.login(answers: [code], at: Self.now).result == "PAM_AUTH_ERR")
    // Printed codes are often typed with a separator.
    let other = String(decoding: codes[0], as: UTF8.self)
    #expect(try sandbox.login(answers: [other.prefix(4) + "-" + other.suffix(4)], at: Self.now).result == "PAM_SUCCESS")
  }

  @Test func wrongBackupCodeIsAFailure() throws {
    let sandbox = try Sandbox()
    let crypto = LibCrypto()
    let hashes = try #require(BackupCodeHashes.issue(codes: [Array("12345678".utf8)], iterations: 1000, crypto: crypto))
    try sandbox.enroll("alice") { $0.backupCodes = hashes }
    #expect(try sandbox.login(answers: ["87654321"], at: Self.now).result == "PAM_AUTH_ERR")
    let record = try #require(try sandbox.record("alice"))
    #expect(record.failures == 1)
    #expect(record.backupCodes.hashes.count == 1)
  }
}
