import LockstepCore
import LockstepNettle
import LockstepPlatform

/// One host's store directory, served by the agent: logins are checked exactly as the module
/// checks them without an agent (`Store.check`). Administration of a local store stays with
/// `lockstep` itself, which works on the directory directly.
final class LocalBackend: Backend, @unchecked Sendable {
  private let path: String
  /// The host key's file (see `HostKey`).
  private let hostKeyPath: String
  /// How long a login waits for another's lock on the same user: under the agent's
  /// `timeout`, so that the module hears the agent's answer rather than timing out itself.
  private let lockTimeoutMilliseconds: Int
  private let crypto = NettleCrypto()

  init(path: String, hostKeyPath: String, timeoutSeconds: Int) {
    self.path = path
    self.hostKeyPath = hostKeyPath
    lockTimeoutMilliseconds = max(timeoutSeconds * 1000 - 500, 500)
  }

  func answer(_ request: AgentRequest) -> AgentReply {
    do {
      let store = try Store(path: path, hostKey: try HostKey(path: hostKeyPath, crypto: crypto))
      switch request {
      case .lookup(let user): return .enrollment(try store.enrollment(user)?.parameters)
      case .verify(let request):
        let attempt = Attempt(code: request.code, backupCode: request.backupCode)
        let verifier = Verifier(policy: request.policy, crypto: crypto)
        // The backup code is hashed before the lock is taken, as the module does.
        let digest = try store.enrollment(request.user)?.backupCodes.digest(of: attempt, crypto: crypto)
        guard
          let (outcome, record) = try store.check(
            attempt, for: request.user, verifier: verifier, backupDigest: digest, now: SystemClock.now(),
            lockTimeoutMilliseconds: lockTimeoutMilliseconds)
        else { return .notEnrolled }
        return .verdict(outcome, kind: record.parameters.kind)
      case .status:
        return .status([AgentStatusLine(name: "store", healthy: true, detail: "local store \(path)")])
      case .fetch, .store, .update, .remove, .list:
        return .refused("a local store is administered with lockstep directly (lockstep --store \(path))")
      }
    } catch {
      return .unavailable(error.description)
    }
  }
}
