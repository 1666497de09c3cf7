import Foundation

/// Where the things under test are: the module and the driver that `make` builds.
enum Paths {
  /// The repository root, found from this file's location.
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  /// The built module; `make` puts it here. `LOCKSTEP_TEST_MODULE` names another build of it,
  /// such as the AddressSanitizer one that `make sanitize` tests.
  static let module = environment["LOCKSTEP_TEST_MODULE"] ?? root + "/build/pam_lockstep.so"
  /// The C application that drives libpam like sshd or sudo would; `LOCKSTEP_TEST_DRIVER`
  /// names another build of it.
  static let driver = environment["LOCKSTEP_TEST_DRIVER"] ?? root + "/build/pam-driver"
  private static let environment = ProcessInfo.processInfo.environment
  /// The administration CLI; `make` puts it here.
  static let cli = root + "/build/lockstep"
  /// The agent; `make` puts it here.
  static let agent = root + "/build/lockstepd"
  /// The FUSE file system whose power the power-loss tests cut; `make test` builds it.
  static let powerCutFS = root + "/build/powercut-fs"
  /// strace, which records a driver's system calls and kills it at a chosen one.
  static let strace = "/usr/bin/strace"
  /// libfaketime, which freezes the clock of the driver process at a chosen time.
  static let faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
  /// datefudge's library (Debian's `datefudge`), which sets the clock of a Swift program
  /// (libfaketime hides a Swift program's arguments from it).
  static let datefudge = "/usr/lib/x86_64-linux-gnu/datefudge/datefudge.so"
}
