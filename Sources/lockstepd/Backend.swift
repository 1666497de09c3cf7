import Foundation
import LockstepCore

/// Where an agent keeps its records: a fleet's database (`FleetBackend`) or this host's store
/// directory (`LocalBackend`). Each request is answered on its connection's own thread, within
/// the agent's timeout; a store that cannot be reached in time gives `.unavailable`, which fails
/// the login closed.
protocol Backend: Sendable {
  func answer(_ request: AgentRequest) -> AgentReply
}

/// Waits on the calling thread for `body`, which runs on the agent's executor.
func waitFor(_ body: @escaping @Sendable () async -> AgentReply) -> AgentReply {
  let done = DispatchSemaphore(value: 0)
  let box = ReplyBox()
  Task {
    box.reply = await body()
    done.signal()
  }
  done.wait()
  return box.reply ?? .unavailable("the agent produced no reply")
}

/// Carries a reply from the task that made it to the thread that waits for it.
private final class ReplyBox: @unchecked Sendable {
  var reply: AgentReply?
}
