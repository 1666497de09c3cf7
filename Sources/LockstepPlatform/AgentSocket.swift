internal import CLockstepSystem
public import LockstepCore

/// Why a message could not be exchanged with the agent.
public enum AgentError: Error, CustomStringConvertible {
  /// The socket could not be made or connected to (the agent is not running, say).
  case unreachable(String, SystemError)
  /// The process at the other end is not root: not the agent, or not an allowed client.
  case peerNotRoot(uid: UInt32)
  /// The deadline passed while waiting for the other end.
  case timedOut
  /// The other end closed the connection before a whole message arrived.
  case closed
  /// A length prefix over `AgentProtocol.largestMessage`.
  case tooLarge(Int)
  /// A whole message that is not one of the protocol's.
  case malformed(WireError)
  /// Another failed system call.
  case system(SystemError)

  public var description: String {
    switch self {
    case .unreachable(let path, let error):
      "the agent at \(LogText.escape(Array(path.utf8))) cannot be reached (\(error))"
    case .peerNotRoot(let uid): "the other end of the agent's socket runs as uid \(uid), not root; refusing it"
    case .timedOut: "the agent did not answer in time"
    case .closed: "the agent closed the connection"
    case .tooLarge(let size): "an agent message of \(size) bytes is over the limit"
    case .malformed(let error): error.description
    case .system(let error): "agent socket: \(error)"
    }
  }
}

/// One connection on a Unix stream socket between the agent and a client, carrying the
/// length-prefixed messages of `AgentProtocol`. Every wait has a deadline (a value of
/// `MonotonicClock.now()`), every send is `MSG_NOSIGNAL` (a client gone away must not raise
/// SIGPIPE in sshd), and the socket is non-blocking and closed on exec.
public final class AgentConnection {
  private let descriptor: FileDescriptor

  init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

  /// Connects to the agent's socket at `path`, and checks that the agent runs as root, so that
  /// no user can stand in for it by binding a socket of their own where it was expected.
  public static func connect(to path: String, deadline: UInt64) throws(AgentError) -> AgentConnection {
    let fd = socket(
      AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { throw .unreachable(path, SystemError("socket")) }
    let connection = AgentConnection(FileDescriptor(fd))
    let result = withCString(Array(path.utf8)) { lockstep_connect_unix(fd, $0) }
    if result != 0 {
      // A Unix socket connects at once or not at all: EAGAIN means the agent's backlog is full.
      guard errno == EINPROGRESS else { throw .unreachable(path, SystemError("connect")) }
      try connection.waitUntilReady(for: Int16(POLLOUT), until: deadline)
    }
    guard try connection.peerUID() == 0 else { throw .peerNotRoot(uid: try connection.peerUID()) }
    return connection
  }

  /// The user ID of the process at the other end (`SO_PEERCRED`).
  public func peerUID() throws(AgentError) -> UInt32 {
    var uid = uid_t()
    guard lockstep_peer_uid(descriptor.raw, &uid) == 0 else { throw .system(SystemError("getsockopt")) }
    return UInt32(uid)
  }

  /// Sends one message: its length, then `message`.
  public func sendMessage(_ message: [UInt8], deadline: UInt64) throws(AgentError) {
    var framed = Self.lengthPrefix(message.count) + message
    defer { wipe(&framed) }
    var sent = 0
    while sent < framed.count {
      let n = framed.withUnsafeBytes { bytes -> Int in
        guard let base = bytes.baseAddress else { return 0 }
        return retrying { send(descriptor.raw, base + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
      }
      if n > 0 {
        sent += n
      } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
        try waitUntilReady(for: Int16(POLLOUT), until: deadline)
      } else {
        throw n == 0 ? .closed : .system(SystemError("send"))
      }
    }
  }

  /// Receives one whole message, waiting no later than `deadline`.
  public func receiveMessage(deadline: UInt64) throws(AgentError) -> [UInt8] {
    let prefix = try receiveBytes(count: 4, deadline: deadline)
    let length = prefix.reduce(0) { $0 << 8 | Int($1) }
    guard length <= AgentProtocol.largestMessage else { throw .tooLarge(length) }
    return try receiveBytes(count: length, deadline: deadline)
  }

  /// Sends `request` and returns the agent's reply: one exchange, with a deadline for all of it.
  public func exchange(_ request: AgentRequest, deadline: UInt64) throws(AgentError) -> AgentReply {
    var message = request.encoded()
    defer { wipe(&message) }
    try sendMessage(message, deadline: deadline)
    var reply = try receiveMessage(deadline: deadline)
    defer { wipe(&reply) }
    do {
      return try AgentReply.decode(reply)
    } catch {
      throw .malformed(error)
    }
  }

  private func receiveBytes(count: Int, deadline: UInt64) throws(AgentError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
      let n = bytes.withUnsafeMutableBytes { buffer -> Int in
        guard let base = buffer.baseAddress else { return 0 }
        return retrying { recv(descriptor.raw, base + done, count - done, 0) }
      }
      if n > 0 {
        done += n
      } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
        try waitUntilReady(for: Int16(POLLIN), until: deadline)
      } else {
        wipe(&bytes)
        throw n == 0 ? .closed : .system(SystemError("recv"))
      }
    }
    return bytes
  }

  /// Waits with `poll(2)` until the socket is ready for `events`, or throws once `deadline` passed.
  private func waitUntilReady(for events: Int16, until deadline: UInt64) throws(AgentError) {
    while true {
      let now = MonotonicClock.now()
      guard now < deadline else { throw .timedOut }
      let milliseconds = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
      var descriptor = pollfd(fd: descriptor.raw, events: events, revents: 0)
      let ready = poll(&descriptor, 1, milliseconds)
      if ready > 0 { return }
      if ready < 0 && errno != EINTR { throw .system(SystemError("poll")) }
    }
  }

  private static func lengthPrefix(_ count: Int) -> [UInt8] {
    [
      UInt8(truncatingIfNeeded: count >> 24), UInt8(truncatingIfNeeded: count >> 16),
      UInt8(truncatingIfNeeded: count >> 8), UInt8(truncatingIfNeeded: count),
    ]
  }
}

/// The agent's listening socket: a new Unix socket at a path, mode 0600, so that only root can
/// connect (and each connection's peer is checked as well, by the agent). Immutable once made,
/// and `accept(2)` may be called from any thread: safe to share.
public final class AgentListener: @unchecked Sendable {
  private let descriptor: FileDescriptor
  /// Where the socket is.
  public let path: String

  /// Binds a new socket at `path`, replacing a socket (not any other kind of file) left there
  /// by an agent that stopped.
  public init(path: String, backlog: Int32 = 128) throws(AgentError) {
    self.path = path
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .unreachable(path, SystemError("socket")) }
    descriptor = FileDescriptor(fd)
    let name = Array(path.utf8)
    var st = stat()
    if withCString(name, { lstat($0, &st) }) == 0 {
      guard fileType(st.st_mode) == mode_t(S_IFSOCK) else {
        throw .unreachable(path, SystemError("bind", code: EEXIST))
      }
      _ = withCString(name) { unlink($0) }
    }
    // The socket is made with no permission for anyone but root, before it exists at the path.
    let previous = umask(0o177)
    let bound = withCString(name) { lockstep_bind_unix(fd, $0) }
    umask(previous)
    guard bound == 0 else { throw .unreachable(path, SystemError("bind")) }
    guard listen(fd, backlog) == 0 else { throw .unreachable(path, SystemError("listen")) }
  }

  /// Waits for the next connection (blocking), made non-blocking for the exchange.
  public func accept() throws(AgentError) -> AgentConnection {
    let fd = retrying { lockstep_accept(descriptor.raw) }
    guard fd >= 0 else { throw .system(SystemError("accept")) }
    return AgentConnection(FileDescriptor(fd))
  }
}
