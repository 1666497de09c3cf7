import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// A host's store sealed under a host key (`lockstep seal`, the module's `host_key=`): no file
/// of the store holds a secret, in base32 or raw, yet logins work as before, and a record
/// whose key is missing, wrong, or made for another user fails closed.
@Suite struct SealedStoreTests {
  static let now = LoginTests.now

  /// A sandbox with alice enrolled in clear (with two backup codes) and the module told where
  /// the host key is; the key itself is made by `lockstep seal`.
  struct World {
    let sandbox: Sandbox
    let key: String
    let backupCodes: [String]

    init() throws {
      sandbox = try Sandbox()
      key = sandbox.root + "/keys/host.key"
      try sandbox.configure(arguments: ["host_key=\(key)"])
      let crypto = LibCrypto()
      let codes = try #require(BackupCodeHashes.generateCodes(count: 2, crypto: crypto))
      let hashes = try #require(BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto))
      try sandbox.enroll("alice") { $0.backupCodes = hashes }
      backupCodes = codes.map { String(decoding: $0, as: UTF8.self) }
    }

    func lockstep(_ arguments: [String]) throws -> CommandResult {
      try runCommand(MigrateTests.cli, arguments + ["--store", sandbox.store, "--host-key", key])
    }

    /// Every file of the store, whole.
    func storeBytes() throws -> [String: Data] {
      var files: [String: Data] = [:]
      for name in try FileManager.default.contentsOfDirectory(atPath: sandbox.store) {
        files[name] = try Data(contentsOf: URL(fileURLWithPath: sandbox.store + "/" + name))
      }
      return files
    }

    /// The store's files that hold the secret, in base32 (any case) or as its raw bytes.
    func filesHoldingTheSecret() throws -> [String] {
      let raw = Data(try #require(Base32.decode(Sandbox.secret)).withUnsafeBytes { Array($0) })
      return try storeBytes().filter { _, data in
        String(decoding: data, as: UTF8.self).uppercased().contains(Sandbox.secret) || data.range(of: raw) != nil
      }.map(\.key).sorted()
    }
  }

  @Test func aSealedStoreHoldsNoSecretAndLoginsWorkAsBefore() throws {
    let world = try World()
    #expect(try world.filesHoldingTheSecret() == ["alice"], "the record holds it in clear before")
    let sealed = try world.lockstep(["seal"])
    #expect(sealed.status == 0, "\(sealed.error)")
    #expect(sealed.output.contains("Made the host key \(world.key)"), "\(sealed.output)")
    #expect(sealed.output.contains("Sealed 1 record in \(world.sandbox.store) under \(world.key)."), "\(sealed.output)")
    var st = stat()
    #expect(stat(world.key, &st) == 0 && st.st_mode & 0o777 == 0o400 && st.st_size == 32 && st.st_uid == 0)
    #expect(try world.filesHoldingTheSecret().isEmpty)
    let text = String(decoding: try world.storeBytes()["alice"] ?? Data(), as: UTF8.self)
    #expect(text.contains("\nsealed-secret ") && !text.contains("\nsecret "), "\(text)")

    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try world.sandbox.login(answers: [code], at: Self.now).result == "PAM_SUCCESS")
    #expect(try world.sandbox.login(answers: [code], at: Self.now).result == "PAM_AUTH_ERR", "a replay")
    // A backup code rewrites the whole record: sealed again, with one code left.
    #expect(try world.sandbox.login(answers: [world.backupCodes[0]], at: Self.now + 60).result == "PAM_SUCCESS")
    #expect(try world.filesHoldingTheSecret().isEmpty)
    let status = try world.lockstep(["status", "alice", "--json"])
    #expect(status.output.contains("\"backupCodesRemaining\" : 1"), "\(status.output) \(status.error)")

    // A second run changes nothing.
    let before = try world.storeBytes()
    let again = try world.lockstep(["seal"])
    #expect(again.status == 0, "\(again.error)")
    #expect(again.output == "Sealed 0 records in \(world.sandbox.store) under \(world.key); 1 was sealed already.\n")
    #expect(try world.storeBytes() == before)
  }

  @Test func aSealedRecordWithoutItsKeyOrCopiedToAnotherUserFailsClosed() throws {
    let world = try World()
    #expect(try world.lockstep(["seal"]).status == 0)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)

    // No key where the module looks: the login fails closed before any prompt.
    try world.sandbox.configure(arguments: ["host_key=\(world.sandbox.root)/keys/missing.key"])
    let missing = try world.sandbox.login(answers: [code], at: Self.now)
    #expect(missing.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(missing.prompts.isEmpty)
    #expect(world.sandbox.logLines().contains { $0.contains("the secret is sealed, and no host key was given") })

    // Another key: the same.
    let other = world.sandbox.root + "/keys/other.key"
    #expect(try makeHostKey(at: other))
    try world.sandbox.configure(arguments: ["host_key=\(other)"])
    #expect(try world.sandbox.login(answers: [code], at: Self.now).result == "PAM_AUTHINFO_UNAVAIL")
    #expect(world.sandbox.logLines().contains { $0.contains("does not open with the host key") })

    // alice's sealed record copied onto bob's name does not open as bob's.
    try FileManager.default.copyItem(atPath: world.sandbox.store + "/alice", toPath: world.sandbox.store + "/bob")
    let bob = try world.lockstep(["status", "bob"])
    #expect(bob.status == 4, "\(bob.output)")
    #expect(bob.error.contains("does not open with the host key (another key, or another user's)"), "\(bob.error)")
    let alice = try world.lockstep(["status", "alice"])
    #expect(alice.status == 0, "\(alice.error)")
  }

  @Test func withAHostKeyEnrollSealsAndCheckWarnsOfRecordsInClear() throws {
    let world = try World()
    #expect(try makeHostKey(at: world.key))
    // alice is still in clear: check says so.
    let pam = world.sandbox.root + "/empty-pam.d"
    try FileManager.default.createDirectory(atPath: pam, withIntermediateDirectories: true)
    let check = try world.lockstep(["check", "--json", "--pam-directory", pam, "--sshd-config", pam + "/none"])
    #expect(check.output.contains("\"rule\" : \"store.unsealed\""), "\(check.output)")

    let secretFile = world.sandbox.root + "/bob.secret"
    #expect(
      FileManager.default.createFile(
        atPath: secretFile, contents: Data("MFXG65DIMVZC243FMNZGK5BNNNSXSIJB\n".utf8),
        attributes: [.posixPermissions: 0o600]))
    let enrolled = try world.lockstep([
      "enroll", "bob", "--secret-file", secretFile, "--no-confirm", "--allow-unknown-user",
    ])
    #expect(enrolled.status == 0, "\(enrolled.error)")
    let text = String(decoding: try world.storeBytes()["bob"] ?? Data(), as: UTF8.self)
    #expect(text.contains("\nsealed-secret ") && !text.contains("MFXG65DIMVZC243FMNZGK5BNNNSXSIJB"))
    let uri = try world.lockstep(["export", "bob", "--uri"])
    #expect(uri.output.contains("secret=MFXG65DIMVZC243FMNZGK5BNNNSXSIJB"), "\(uri.output) \(uri.error)")
  }

  /// Makes a host key at `path` as `lockstep seal` does, without sealing anything.
  func makeHostKey(at path: String) throws -> Bool {
    let directory = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let empty = directory + "/empty-store-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(
      atPath: empty, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    let result = try runCommand(MigrateTests.cli, ["seal", "--store", empty, "--host-key", path])
    return result.status == 0 && result.output.contains("Made the host key \(path)")
  }
}
