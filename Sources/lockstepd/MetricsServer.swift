import Foundation
import LockstepConfiguration
import LockstepMetrics
import NIOCore
import NIOHTTP1
import NIOPosix

/// `GET /metrics` over HTTP/1.1 on the address of `metrics =` (loopback, or a Unix socket that
/// any local user may read, as any local user may reach the loopback port): the agent's
/// `LockstepMetrics` in Prometheus' text format. It runs on an event loop of its own, apart from
/// the threads that answer the module, and a scrape only reads counters that those threads
/// update under short locks: a slow scraper holds up no login. Each connection gets one request
/// and is closed after its reply, or after `secondsPerConnection` whatever the client has sent;
/// at most `maximumConnections` are open at once (a connection beyond them is closed at once),
/// so that local users cannot take the descriptors the agent needs for logins.
final class MetricsServer {
  /// How long a connection may stay open, its request included.
  static let secondsPerConnection: Int64 = 5
  /// How many connections may be open at once.
  static let maximumConnections = 8

  /// The server's own thread; it lives as long as the agent.
  private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

  /// Listens on `address`; throws when it cannot (the port is taken, the directory missing).
  init(address: MetricsAddress, metrics: LockstepMetrics) throws {
    let connections = OpenConnections()
    let bootstrap = ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 16)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        guard connections.count < Self.maximumConnections else { return channel.close() }
        connections.count += 1
        channel.closeFuture.whenComplete { _ in connections.count -= 1 }
        return channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
          try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(metrics: metrics))
        }
      }
    do {
      switch address {
      case .loopback(let host, let port): _ = try bootstrap.bind(host: host, port: port).wait()
      case .unix(let path):
        _ = try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).wait()
        chmod(path, 0o666)
      }
    } catch {
      try? group.syncShutdownGracefully()
      throw error
    }
  }
}

/// How many connections are open. Touched only on the server's one event loop, where every
/// connection is set up and closed.
private final class OpenConnections: @unchecked Sendable {
  var count = 0
}

/// One connection's request: `GET` (or `HEAD`) `/metrics` gets the text format, another path
/// 404, another method 405; the connection is closed after the reply or at its deadline.
private final class MetricsRequestHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let metrics: LockstepMetrics
  private var head: HTTPRequestHead?
  private var deadline: Scheduled<Void>?

  init(metrics: LockstepMetrics) {
    self.metrics = metrics
  }

  func handlerAdded(context: ChannelHandlerContext) {
    let channel = context.channel
    deadline = context.eventLoop.scheduleTask(in: .seconds(MetricsServer.secondsPerConnection)) {
      channel.close(promise: nil)
    }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    deadline?.cancel()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let request): head = request
    case .body: break
    case .end:
      guard let head else { return }
      self.head = nil
      respond(to: head, context: context)
    }
  }

  private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
    var headers = HTTPHeaders([("Connection", "close")])
    let status: HTTPResponseStatus
    let body: String
    let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    if request.method != .GET && request.method != .HEAD {
      (status, body) = (.methodNotAllowed, "only GET\n")
      headers.add(name: "Allow", value: "GET, HEAD")
      headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
    } else if path != "/metrics" {
      (status, body) = (.notFound, "the metrics are at /metrics\n")
      headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
    } else {
      (status, body) = (.ok, metrics.exposition())
      headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
    }
    headers.add(name: "Content-Length", value: "\(body.utf8.count)")
    let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    if request.method != .HEAD {
      context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
    }
    let channel = context.channel
    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
  }
}
