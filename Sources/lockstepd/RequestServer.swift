import Foundation
import LockstepCore
import LockstepPlatform

/// The agent's socket: one thread accepts, and each connection gets a thread of its own for its
/// one request and reply, so that a slow client holds up no one else. Only root may connect
/// (the socket is mode 0600, and each peer is checked with `SO_PEERCRED`); a request must arrive
/// within `requestSeconds`, and the reply is sent within the same deadline.
final class RequestServer: @unchecked Sendable {
  private let listener: AgentListener
  private let backend: any Backend
  private let events: AgentEvents
  private let requestSeconds: UInt64

  init(listener: AgentListener, backend: any Backend, requestSeconds: Int, events: AgentEvents) {
    self.listener = listener
    self.backend = backend
    self.requestSeconds = UInt64(requestSeconds)
    self.events = events
  }

  /// Accepts connections until the process ends.
  func serve() -> Never {
    while true {
      do {
        let connection = try listener.accept()
        Thread.detachNewThread { self.answer(connection) }
      } catch {
        events.record(.error, LogLine("accepting a connection failed: \(error)", event: "agent", outcome: "error"))
      }
    }
  }

  private func answer(_ connection: AgentConnection) {
    let deadline = MonotonicClock.now() &+ (requestSeconds + 2) &* 1_000_000_000
    do {
      let uid = try connection.peerUID()
      guard uid == 0 else {
        events.record(
          .warning,
          LogLine(
            "refused a connection from uid \(uid): only root may use the agent", event: "agent",
            outcome: "client-refused"
          )
          .with("uid", Int(uid)))
        try connection.sendMessage(AgentReply.refused("only root may use the agent").encoded(), deadline: deadline)
        return
      }
      var message = try connection.receiveMessage(deadline: deadline)
      defer { wipe(&message) }
      let reply: AgentReply
      do {
        reply = backend.answer(try AgentRequest.decode(message))
      } catch {
        events.record(
          .warning, LogLine("refused a request: \(error)", event: "agent", outcome: "request-refused"))
        reply = .refused(error.description)
      }
      var encoded = reply.encoded()
      defer { wipe(&encoded) }
      try connection.sendMessage(encoded, deadline: deadline)
    } catch {
      events.record(
        .warning, LogLine("a client's exchange failed: \(error)", event: "agent", outcome: "exchange-failed"))
    }
  }
}
