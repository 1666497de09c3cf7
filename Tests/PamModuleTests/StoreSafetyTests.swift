import Foundation
import LockstepCore
import Testing

/// The module trusts only a store and records that no one but root could have planted or changed.
@Suite struct StoreSafetyTests {
  static let now = LoginTests.now

  /// Runs a login with the right code and returns its result, after `prepare` has damaged the sandbox.
  private func loginAfter(_ prepare: (Sandbox) throws -> Void, arguments: [String] = []) throws -> (Login, Sandbox) {
    let sandbox = try Sandbox(arguments: arguments)
    try sandbox.enroll("alice")
    try prepare(sandbox)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    return (try sandbox.login(answers: [code], at: Self.now), sandbox)
  }

  @Test func missingStoreIsUnavailable() throws {
    let (login, sandbox) = try loginAfter { try FileManager.default.removeItem(atPath: $0.store) }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("is unusable") })
  }

  @Test func missingStoreIsUnavailableEvenWithNullok() throws {
    let (login, _) = try loginAfter({ try FileManager.default.removeItem(atPath: $0.store) }, arguments: ["nullok"])
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
  }

  @Test(arguments: [0o770, 0o702, 0o777])
  func writableStoreIsRefused(mode: Int) throws {
    let (login, sandbox) = try loginAfter { try setMode($0.store, mode) }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("writable by group or others") })
  }

  @Test func storeNotOwnedByRootIsRefused() throws {
    let (login, _) = try loginAfter { try setOwner($0.store, uid: 65534) }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
  }

  /// Whoever can write to a directory above the store can put a store of their own in its
  /// place, unless the directory is sticky (as `/tmp`, above every sandbox, is).
  @Test(arguments: [(0o777, "PAM_AUTHINFO_UNAVAIL"), (0o775, "PAM_AUTHINFO_UNAVAIL"), (0o1777, "PAM_SUCCESS")])
  func directoryAboveTheStoreWritableByOthers(mode: Int, expected: String) throws {
    let (login, sandbox) = try loginAfter { try setMode($0.root, mode) }
    #expect(login.result == expected)
    if expected != "PAM_SUCCESS" {
      #expect(sandbox.logLines().contains { $0.contains("store/.. is writable by group or others and not sticky") })
    }
  }

  @Test func directoryAboveTheStoreNotOwnedByRootIsRefused() throws {
    let (login, sandbox) = try loginAfter { try setOwner($0.root, uid: 65534) }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("store/.. is not owned by root (uid 65534)") })
  }

  @Test func symlinkToShadowIsRefused() throws {
    let (login, sandbox) = try loginAfter {
      try FileManager.default.removeItem(atPath: $0.store + "/alice")
      try FileManager.default.createSymbolicLink(atPath: $0.store + "/alice", withDestinationPath: "/etc/shadow")
    }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("symbolic link") })
  }

  @Test(arguments: [0o640, 0o604, 0o660, 0o606])
  func recordAccessibleToOthersIsRefused(mode: Int) throws {
    let (login, sandbox) = try loginAfter { try setMode($0.store + "/alice", mode) }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("accessible by group or others") })
  }

  @Test func recordOwnedByTheUserIsRefused() throws {
    let (login, sandbox) = try loginAfter { try setOwner($0.store + "/alice", uid: 65534) }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("not owned by root") })
  }

  @Test func hardLinkedRecordIsRefused() throws {
    let (login, _) = try loginAfter {
      try FileManager.default.linkItem(atPath: $0.store + "/alice", toPath: $0.root + "/copy")
    }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
  }

  @Test func fifoRecordIsRefusedWithoutHanging() throws {
    let (login, sandbox) = try loginAfter {
      try FileManager.default.removeItem(atPath: $0.store + "/alice")
      #expect(mkfifo($0.store + "/alice", 0o600) == 0)
    }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("not a regular file") })
  }

  @Test func directoryRecordIsRefused() throws {
    let (login, _) = try loginAfter {
      try FileManager.default.removeItem(atPath: $0.store + "/alice")
      try FileManager.default.createDirectory(
        atPath: $0.store + "/alice", withIntermediateDirectories: false,
        attributes: [.posixPermissions: 0o700])
    }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
  }

  @Test func malformedRecordIsRefusedWithoutQuotingIt() throws {
    let (login, sandbox) = try loginAfter {
      let text = "lockstep-record 1\nkind totp\nalgorithm SHA1\ndigits 6\nsecret \(Sandbox.secret)\nsurprise 1\n"
      try text.write(toFile: $0.store + "/alice", atomically: false, encoding: .utf8)
    }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    let log = sandbox.logLines().joined(separator: "\n")
    #expect(log.contains("line 6: unknown key 'surprise'"))
    #expect(!log.contains(Sandbox.secret))
  }

  @Test func stateFileThatIsASymlinkIsRefused() throws {
    let (login, _) = try loginAfter {
      try? FileManager.default.removeItem(atPath: $0.store + "/.alice.state")
      try FileManager.default.createSymbolicLink(atPath: $0.store + "/.alice.state", withDestinationPath: "/etc/passwd")
    }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
  }

  @Test(arguments: ["../root", "a/b", "/etc/passwd", ".alice.state", String(repeating: "x", count: 300), "al\u{1}ice"])
  func userNamesThatCouldEscapeAreRefused(name: String) throws {
    let sandbox = try Sandbox(arguments: ["nullok"])
    try sandbox.enroll("alice")
    let before = try FileManager.default.contentsOfDirectory(atPath: sandbox.store).sorted()
    let login = try sandbox.login(name, answers: ["123456"], at: Self.now)
    #expect(login.result == "PAM_AUTH_ERR")
    #expect(login.prompts.isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.store).sorted() == before)
    #expect(sandbox.logLines().contains { $0.contains("refusing an unusable user name") })
  }
}

func setMode(_ path: String, _ mode: Int) throws {
  guard chmod(path, mode_t(mode)) == 0 else { throw TestFailure("chmod \(path) failed") }
}

func setOwner(_ path: String, uid: uid_t) throws {
  guard chown(path, uid, 0) == 0 else { throw TestFailure("chown \(path) failed") }
}
