import LockstepCore
import LockstepPlatform

/// The CLI's side of the agent's socket (a fleet store's commands, `migrate`, `check --agent`): one
/// connection per request, as the protocol has it, and every exchange within `timeoutSeconds`.
/// Every failure is one sentence that names the socket.
struct AgentClient {
  /// How long one exchange may take, by default, in seconds.
  static let defaultTimeout = 10
  /// The values `--agent-timeout` takes.
  static let timeouts = 1...600

  /// The agent's socket.
  let socket: String
  /// How long one exchange may take: connecting, sending and the whole reply.
  let timeoutSeconds: Int

  /// The agent's refusal of one request (a record it cannot open, say): its reason, for the
  /// user's line, while the command goes on with the others.
  struct Refusal: Error {
    var reason: String
  }

  /// The socket's path as messages show it.
  var place: String { LogText.escape(Array(socket.utf8)) }

  /// The agent's store as messages name it.
  var storeName: String { "the fleet store (agent at \(place))" }

  /// Sends `request` on a connection of its own and returns the reply, whatever it is; fails
  /// when no reply comes (the agent is not running, is not root, or does not answer in time).
  func send(_ request: AgentRequest) throws(Failure) -> AgentReply {
    let deadline = MonotonicClock.now() &+ UInt64(timeoutSeconds) &* 1_000_000_000
    do {
      return try AgentConnection.connect(to: socket, deadline: deadline).exchange(request, deadline: deadline)
    } catch {
      throw Failure(describe(error), code: Exit.storeUnusable)
    }
  }

  /// Like `send`, but an agent that cannot reach its store (`.unavailable`) fails too.
  func answer(_ request: AgentRequest) throws(Failure) -> AgentReply {
    let reply = try send(request)
    if case .unavailable(let reason) = reply {
      throw Failure("the agent at \(place) cannot reach its store: \(Self.printable(reason))", code: Exit.storeUnusable)
    }
    return reply
  }

  /// The users the agent's store holds, asked for a page at a time.
  func names() throws(Failure) -> [UserName] {
    var names: [UserName] = []
    while true {
      let previous = names.last
      switch try answer(.list(after: previous)) {
      case .names(let page, let more):
        names += page
        guard more else { return names }
        // Each page ends after the one before: a list that does not move on would never end.
        guard let last = page.last, previous.map({ $0.bytes.lexicographicallyPrecedes(last.bytes) }) ?? true else {
          throw Failure(
            "the agent at \(place) sent a list of its users that does not move on", code: Exit.storeUnusable)
        }
      case .refused(let reason):
        throw Failure(
          "the agent at \(place) refused to list its users: \(Self.printable(reason))", code: Exit.storeUnusable)
      case let reply: throw unexpected(reply, to: "the list of its users")
      }
    }
  }

  /// The agent's record of `user`: `nil` inside when it has none, a `Refusal` when it will not
  /// give it or what it gives does not parse.
  func record(of user: UserName) throws(Failure) -> Result<UserRecord?, Refusal> {
    switch try answer(.fetch(user)) {
    case .record(nil): return .success(nil)
    case .record(let text?):
      do {
        return .success(try text.withUnsafeBytes { bytes throws(LineError) in try RecordFormat.parse(bytes) })
      } catch {
        return .failure(Refusal(reason: "the agent's record of \(user) is invalid: \(error)"))
      }
    case .refused(let reason): return .failure(Refusal(reason: Self.printable(reason)))
    case let reply: throw unexpected(reply, to: "the record of \(user)")
    }
  }

  /// Has the agent check `attempt` for `user` as a login would, and record its outcome.
  func verify(_ attempt: Attempt, for user: UserName, policy: VerificationPolicy) throws(Failure) -> VerificationOutcome
  {
    guard let nonce = SystemRandom.bytes(count: AgentProtocol.nonceLength) else {
      throw Failure("could not check the code: the random generator failed", code: Exit.storeUnusable)
    }
    let request = VerifyRequest(
      nonce: nonce, user: user, service: "lockstep-verify", remoteHost: "", code: attempt.code,
      backupCode: attempt.backupCode, policy: policy)
    switch try answer(.verify(request)) {
    case .verdict(let outcome, _): return outcome
    case .notEnrolled: throw .notEnrolled(user, in: storeName)
    case .refused(let reason): throw refusal(Self.printable(reason), of: "to check the code of \(user)")
    case let reply: throw unexpected(reply, to: "checking the code of \(user)")
    }
  }

  /// The failure for a request the agent refused: `what` it refused, and its `reason` (printable).
  func refusal(_ reason: String, of what: String) -> Failure {
    Failure("the agent at \(place) refused \(what): \(reason)", code: Exit.storeUnusable)
  }

  /// The failure for a reply of a kind the request does not have.
  func unexpected(_ reply: AgentReply, to what: String) -> Failure {
    if case .unavailable(let reason) = reply {
      return Failure(
        "the agent at \(place) cannot reach its store: \(Self.printable(reason))", code: Exit.storeUnusable)
    }
    return Failure(
      "the agent at \(place) answered a request for \(what) with a reply of another kind", code: Exit.storeUnusable)
  }

  /// A reason the agent gave, safe to print (it may quote the database's own error).
  static func printable(_ reason: String) -> String {
    LogText.escape(Array(reason.utf8))
  }

  private func describe(_ error: AgentError) -> String {
    switch error {
    case .unreachable: error.description
    case .timedOut:
      "the agent at \(place) did not answer within \(Output.counted(timeoutSeconds, "second")) (see --agent-timeout)"
    case .closed: "the agent at \(place) closed the connection without answering"
    case .peerNotRoot(let uid):
      "the process at \(place) runs as uid \(uid), not root, so it is not the agent; refusing it"
    default: "the agent at \(place): \(error)"
    }
  }
}
