import Foundation
import LockstepCore
import Testing

/// The module trusts only a store and records that no one but root could have planted or changed.
/// (Damaged records and hostile user names are in `HostileInputTests`' table; a missing store
/// in `FaultTests`.)
@Suite struct StoreSafetyTests {
  static let now = LoginTests.now

  /// Runs a login with the right code and returns its result, after `prepare` has damaged the sandbox.
  private func loginAfter(_ prepare: (Sandbox) throws -> Void) throws -> (Login, Sandbox) {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    try prepare(sandbox)
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    return (try sandbox.login(answers: [code], at: Self.now), sandbox)
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
      #expect(
        sandbox.logLines().contains { $0.contains("\(sandbox.root) is writable by group or others and not sticky") })
    }
  }

  @Test func directoryAboveTheStoreNotOwnedByRootIsRefused() throws {
    let (login, sandbox) = try loginAfter { try setOwner($0.root, uid: 65534) }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("\(sandbox.root) is not owned by root (uid 65534)") })
  }

  /// A store path is walked from `/` one component at a time: a symbolic link on the way is
  /// followed only if root owns it. A link that someone else planted in a sticky directory
  /// such as `/tmp` (where anyone may create names) could otherwise point the module at an
  /// empty root-owned directory, and with `nullok` let everyone in.
  @Test(arguments: [(0, "PAM_SUCCESS"), (65534, "PAM_AUTHINFO_UNAVAIL")])
  func storePathThroughALinkInAStickyDirectory(linkOwner: Int, expected: String) throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let sticky = sandbox.root + "/sticky"
    try FileManager.default.createDirectory(atPath: sticky, withIntermediateDirectories: false)
    try setMode(sticky, 0o1777)
    let link = sticky + "/store"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: sandbox.store)
    #expect(lchown(link, uid_t(linkOwner), gid_t(linkOwner)) == 0)
    try sandbox.configure(arguments: ["store=" + link])
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: [code], at: Self.now).result == expected)
    if linkOwner != 0 {
      #expect(sandbox.logLines().contains { $0.contains("\(link) is a symbolic link owned by uid 65534, not by root") })
    }
  }

  @Test func aLinkOwnedByRootIsFollowedAndItsTargetWalkedToo() throws {
    // The target is walked the same way: a root-owned link to a path through a directory that
    // others can write to is refused there.
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let open = sandbox.root + "/open"
    try FileManager.default.createDirectory(atPath: open + "/inner", withIntermediateDirectories: true)
    try setMode(open, 0o777)
    try FileManager.default.createSymbolicLink(atPath: sandbox.root + "/link", withDestinationPath: "open/inner")
    try sandbox.configure(arguments: ["store=\(sandbox.root)/link"])
    #expect(try sandbox.login(answers: ["123456"], at: Self.now).result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("/open is writable by group or others and not sticky") })
  }

  @Test func malformedRecordIsRefusedWithoutQuotingIt() throws {
    let (login, sandbox) = try loginAfter {
      let text = "lockstep-record 1\nkind totp\nalgorithm SHA1\ndigits 6\nsecret \(Sandbox.secret)\nsurprise 1\n"
      try text.write(toFile: $0.store + "/alice", atomically: false, encoding: .utf8)
    }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    let log = sandbox.logLines().joined(separator: "\n")
    #expect(log.contains("line 6: unknown key;"))
    #expect(!log.contains("surprise"))
    #expect(!log.contains(Sandbox.secret))
  }

  @Test func stateFileThatIsASymlinkIsRefused() throws {
    let (login, _) = try loginAfter {
      try? FileManager.default.removeItem(atPath: $0.store + "/.alice.state")
      try FileManager.default.createSymbolicLink(atPath: $0.store + "/.alice.state", withDestinationPath: "/etc/passwd")
    }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
  }

  /// The store's files are root:root; a record with another group is one the store did not
  /// leave as it wrote it.
  @Test func recordWhoseGroupIsNotRootsIsRefused() throws {
    let (login, sandbox) = try loginAfter { try setOwner($0.store + "/alice", uid: 0, gid: 65534) }
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains("its group is not root's (gid 65534)") })
  }

  /// A state file created through sudo by an earlier version took the user's group; the next
  /// login gives it back to root's group, and is not refused for it.
  @Test func stateFileWhoseGroupIsNotRootsIsGivenBackToRoot() throws {
    let (login, sandbox) = try loginAfter { try setOwner($0.store + "/.alice.state", uid: 0, gid: 65534) }
    #expect(login.result == "PAM_SUCCESS")
    var st = stat()
    #expect(stat(sandbox.store + "/.alice.state", &st) == 0)
    #expect(st.st_uid == 0 && st.st_gid == 0)
  }
}

func setMode(_ path: String, _ mode: Int) throws {
  guard chmod(path, mode_t(mode)) == 0 else { throw TestFailure("chmod \(path) failed") }
}

func setOwner(_ path: String, uid: uid_t, gid: gid_t = 0) throws {
  guard chown(path, uid, gid) == 0 else { throw TestFailure("chown \(path) failed") }
}
