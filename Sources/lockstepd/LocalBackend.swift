import LockstepCore
import LockstepNettle
import LockstepPlatform

/// One host's store directory, served by the agent: logins are checked exactly as the module
/// checks them without an agent (`Store.check`). Administration of a local store stays with
/// `lockstep` itself, which works on the directory directly.
final class LocalBackend: Backend, @unchecked Sendable {
  private let path: String
  private let crypto = NettleCrypto()

  init(path: String) { self.path = path }

  func answer(_ request: AgentRequest) -> AgentReply {
    do {
      let store = try Store(path: path)
      switch request {
      case .lookup(let user): return .enrollment(try store.enrollment(user)?.parameters)
      case .verify(let request):
        let attempt = Attempt(code: request.code, backupCode: request.backupCode)
        let verifier = Verifier(policy: request.policy, crypto: crypto)
        guard
          let (outcome, record) = try store.check(
            attempt, for: request.user, verifier: verifier, backupDigest: nil, now: SystemClock.now(),
            lockTimeoutMilliseconds: Store.defaultLockTimeout)
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
