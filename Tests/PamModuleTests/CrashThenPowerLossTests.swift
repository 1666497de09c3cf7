import Foundation
import LockstepCore
import Testing

/// A crash, and later a power cut, on a store mounted through powercut-fs: the crash leaves
/// something half-made that the next login must not trust as durable.
@Suite struct CrashThenPowerLossTests {
  /// A user's state file is created by the first lock taken on it, and its directory entry is
  /// made durable then. A login that crashes just before that directory sync leaves a state
  /// file of full size behind; the next login must still make it durable before it reports a
  /// code accepted, or a cut loses the file, and with it the watermark.
  @Test func aStateFileWhoseCreatorCrashedBeforeTheDirectorySyncIsMadeDurableByTheNextLogin() throws {
    let disk = try PowerCutDisk(on: Sandbox())
    let sandbox = disk.sandbox
    let now = LoginTests.now
    try disk.mount()
    try #require(
      try sandbox.lockstep([
        "enroll", "alice", "--allow-unknown-user", "--secret-file", try sandbox.secretFile(Sandbox.secret),
        "--no-confirm",
      ])
      .status == 0)
    try disk.unmount()
    // A record whose state file does not exist yet, as in a store restored from its records.
    try FileManager.default.removeItem(atPath: disk.backing + "/.alice.state")
    try disk.mount()

    // The first login creates the state file; it crashes just before the directory sync.
    try disk.arm(atChange: 4)  // create, fallocate, fsync, then the directory's fsync
    let request = LoginRequest(answers: [try oathtool(secret: Sandbox.secret, at: now)], time: now)
    let first = try Child(
      Paths.driver, sandbox.driverArguments(request), environment: request.environment, output: sandbox.root + "/first")
    defer { first.kill() }
    let deadline = monotonicSeconds() + PowerCutDisk.deadline
    var paused: (operation: String, process: pid_t)?
    while paused == nil && !first.hasExited && monotonicSeconds() < deadline {
      paused = try disk.pausedOperation()
      usleep(1000)
    }
    try #require(paused?.operation == "fsyncdir" && paused?.process == first.pid, "\(String(describing: paused))")
    kill(first.pid, SIGKILL)
    try disk.resume()
    #expect(first.wait().status == 128 + SIGKILL)

    // The next login is accepted; then the power goes.
    let later = now + 60
    let code = try oathtool(secret: Sandbox.secret, at: later)
    let accepted = try sandbox.login(LoginRequest(answers: [code], time: later, timeLimit: 60))
    try #require(accepted.result == "PAM_SUCCESS")
    try disk.cut(.drop, seed: 1)
    try disk.unmount()
    try disk.mount()

    #expect(try sandbox.record("alice")?.lastStep == later / 30, "the accepted step is lost")
    let replay = try sandbox.login(LoginRequest(answers: [code], time: later, timeLimit: 60))
    #expect(replay.result != "PAM_SUCCESS", "the code accepted before the cut was accepted again")
  }
}
