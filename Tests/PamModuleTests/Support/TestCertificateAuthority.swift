import Foundation

/// The TLS material of one test, made with the `openssl` command in a directory of its own:
/// a certificate authority, a server certificate and a client certificate it signed, and the
/// certificate of a second, unrelated authority.
///
/// Keys are EC P-256 and certificates are valid for three days from now. The server's key is
/// mode 0600 and belongs to `serverKeyOwner` (PostgreSQL refuses a key that others can read);
/// every other file belongs to the test process (root), the client's key with mode 0600 (libpq
/// refuses it otherwise), the certificates with 0644 in a 0755 directory so that the server can
/// read them.
final class TestCertificateAuthority {
  /// The directory holding everything.
  let directory: String
  /// The authority's certificate: what the server and the clients trust.
  var caPath: String { directory + "/ca.crt" }
  /// The authority's key (only `init` uses it).
  var caKeyPath: String { directory + "/ca.key" }
  /// The server's certificate: CN `localhost`, subjectAltName `DNS:localhost,IP:127.0.0.1`, so
  /// that `sslmode=verify-full` accepts either name.
  var serverCertPath: String { directory + "/server.crt" }
  /// The server's key, 0600 and owned by `serverKeyOwner`.
  var serverKeyPath: String { directory + "/server.key" }
  /// The client's certificate, CN `lockstep` (mapped to the role `lockstep_cert` by the server).
  var clientCertPath: String { directory + "/client.crt" }
  /// The client's key, 0600.
  var clientKeyPath: String { directory + "/client.key" }
  /// The certificate of another authority, which signed none of these: a client that trusts
  /// only it must refuse the server.
  var otherCAPath: String { directory + "/other-ca.crt" }

  /// The client certificate's common name.
  static let clientCommonName = "lockstep"

  /// Creates `directory` (which must not exist; its parent must) and everything in it.
  init(directory: String, serverKeyOwner: String = "postgres") throws {
    self.directory = directory
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
    // A configuration of our own, so that the system's openssl.cnf adds no extensions: every
    // certificate has exactly the extensions given below.
    let config = directory + "/req.cnf"
    try "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n".write(toFile: config, atomically: true, encoding: .utf8)
    // The two authorities are independent, and so are the two certificates signed by the
    // first; each pair is made at once (openssl spends most of its time starting).
    try runAll([
      certificate("ca", subject: "/CN=Lockstep test CA", config: config, extensions: Self.authorityExtensions),
      certificate(
        "other-ca", subject: "/CN=Lockstep other test CA", config: config, extensions: Self.authorityExtensions),
    ])
    try runAll([
      certificate(
        "server", subject: "/CN=localhost", config: config, signed: true,
        extensions: [
          "basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature",
          "extendedKeyUsage=serverAuth", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]),
      certificate(
        "client", subject: "/CN=\(Self.clientCommonName)", config: config, signed: true,
        extensions: [
          "basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth",
        ]),
    ])
    guard let owner = getpwnam(serverKeyOwner) else { throw TestFailure("there is no user \(serverKeyOwner)") }
    guard chown(serverKeyPath, owner.pointee.pw_uid, owner.pointee.pw_gid) == 0, chmod(serverKeyPath, 0o600) == 0,
      chmod(clientKeyPath, 0o600) == 0
    else { throw TestFailure("cannot set the owner and mode of the keys in \(directory)") }
    for certificate in [caPath, serverCertPath, clientCertPath, otherCAPath] { chmod(certificate, 0o644) }
  }

  private static let authorityExtensions = [
    "basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign",
  ]

  /// The arguments of `openssl req` that make the key `NAME.key` and the certificate `NAME.crt`
  /// for `subject`: self-signed, or signed by this authority when `signed`.
  private func certificate(
    _ name: String, subject: String, config: String, signed: Bool = false, extensions: [String]
  ) -> (name: String, arguments: [String]) {
    var arguments = [
      "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc",
      "-keyout", directory + "/\(name).key", "-out", directory + "/\(name).crt", "-days", "3",
      "-subj", subject, "-config", config,
    ]
    if signed { arguments += ["-CA", caPath, "-CAkey", caKeyPath] }
    for extensionText in extensions { arguments += ["-addext", extensionText] }
    return (name, arguments)
  }

  /// Runs `openssl` once for each of `runs` at the same time and waits for all of them; fails
  /// with what the first failing one printed.
  private func runAll(_ runs: [(name: String, arguments: [String])]) throws {
    let children = try runs.map {
      (name: $0.name, child: try Child("/usr/bin/openssl", $0.arguments, output: directory + "/openssl-\($0.name).log"))
    }
    var failure: TestFailure?
    for (name, child) in children {
      let result = child.wait()
      if result.status != 0 && failure == nil {
        failure = TestFailure("openssl could not make the \(name) certificate: \(result.output)")
      } else {
        unlink(child.outputPath)
      }
    }
    if let failure { throw failure }
  }
}
