import Foundation
import LockstepCore
import Testing

/// A user's lock is waited for with a deadline: a holder that never lets go (a login stopped
/// with SIGSTOP, which whoever started su or sudo can send; any root process's `flock`) makes
/// logins and commands fail closed after a while, and say who holds it, instead of hanging.
@Suite struct LockWaitTests {
  static let now = LoginTests.now

  /// Starts a process that takes alice's lock with flock(2) and then becomes `sleep`, the one
  /// process holding it until the test kills it, and stops it with SIGSTOP, as a stopped login
  /// would be.
  func stoppedHolder(_ sandbox: Sandbox) throws -> Child {
    let stateFile = sandbox.store + "/.alice.state"
    let program = """
      import fcntl, os, sys
      f = open(sys.argv[1])
      fcntl.flock(f, fcntl.LOCK_EX)
      os.set_inheritable(f.fileno(), True)
      os.execv("/bin/sleep", ["sleep", "600"])
      """
    let holder = try Child(
      "/usr/bin/python3", ["-c", program, stateFile], environment: [:], output: sandbox.root + "/holder.out")
    let inode = try #require(try FileManager.default.attributesOfItem(atPath: stateFile)[.systemFileNumber] as? Int)
    let deadline = Date().addingTimeInterval(30)
    // It holds the lock once /proc/locks lists it for the state file's inode, and has become
    // sleep once its command name says so.
    func ready() -> Bool {
      let locks = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
      let name = (try? String(contentsOfFile: "/proc/\(holder.pid)/comm", encoding: .utf8)) ?? ""
      return locks.contains(":\(inode) ") && name == "sleep\n"
    }
    while !ready() {
      if Date() > deadline || holder.hasExited { throw TestFailure("flock did not take the lock") }
    }
    kill(holder.pid, SIGSTOP)
    return holder
  }

  @Test func aLoginFailsClosedWhenTheLockIsNotReleasedInTime() throws {
    let sandbox = try Sandbox(arguments: ["lock_timeout=1"])
    try sandbox.enroll("alice")
    let holder = try stoppedHolder(sandbox)
    defer { holder.kill() }
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let started = Date()
    let login = try sandbox.login(LoginRequest(answers: [code], time: Self.now, timeLimit: 60))
    let took = Date().timeIntervalSince(started)
    #expect(login.result == "PAM_AUTHINFO_UNAVAIL")
    #expect(took >= 1 && took < 20, "took \(took) s")
    #expect(
      sandbox.logLines().contains {
        $0.contains("is locked by pid \(holder.pid) (sleep, stopped) and was not released within 1 s; failing closed")
      }, "\(sandbox.logLines())")
    // Nothing was recorded: the code was not checked, so it still works once the lock is free.
    holder.kill()
    #expect(try sandbox.login(LoginRequest(answers: [code], time: Self.now, timeLimit: 60)).result == "PAM_SUCCESS")
  }

  @Test func theCLISaysWhoHoldsTheLock() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice") { $0.failures = 3 }
    let holder = try stoppedHolder(sandbox)
    defer { holder.kill() }
    let unlock = try sandbox.lockstep(["unlock", "alice"])
    #expect(unlock.status == 4, "\(unlock.error)")
    #expect(unlock.error.contains("is locked by pid \(holder.pid) (sleep, stopped) and was not released within 10 s"))
    #expect(try sandbox.record("alice")?.failures == 3)
  }
}
