import Foundation

/// A TCP server on 127.0.0.1 that listens and never accepts a connection or says a word: the
/// kernel completes the handshake of up to 64 clients, which then wait for an answer that
/// never comes (later ones wait for the handshake itself). It stands for a database that
/// accepts TCP but never answers, such as a stopped (SIGSTOP) or wedged server.
///
/// The socket is closed when the object is released; waiting clients then see a reset.
final class UnresponsiveServer {
  /// The port it listens on, chosen by the kernel.
  let port: Int
  private let socket: Int32

  init() throws {
    (socket, port) = try boundLoopbackSocket()
    guard listen(socket, 64) == 0 else {
      let error = String(cString: strerror(errno))
      close(socket)
      throw TestFailure("listen: \(error)")
    }
  }

  deinit { close(socket) }
}

/// A TCP socket bound to a port of 127.0.0.1 that the kernel chose as free (binding port 0),
/// close-on-exec so that no child inherits it, and that port.
func boundLoopbackSocket() throws -> (socket: Int32, port: Int) {
  let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
  guard descriptor >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = 0
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
    }
  }
  guard bound else {
    let error = String(cString: strerror(errno))
    close(descriptor)
    throw TestFailure("cannot bind a socket to 127.0.0.1: \(error)")
  }
  return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}
