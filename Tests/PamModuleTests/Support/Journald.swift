import Foundation

/// A real systemd-journald for one test, in a journal namespace of its own
/// (`systemd-journald NAMESPACE`): it receives syslog(3) lines on
/// `/run/systemd/journal.NAMESPACE/dev-log`, as the system's journald does on `/dev/log`, and
/// writes them to its own journal file, which `journalctl --file` reads. Nothing of the
/// system's journal is touched; the namespace's directories are removed when it is released.
///
/// It is ready when it says so (`NotifySocket`), and its file holds all it received once
/// `stop()` has waited for it to exit.
final class Journald: LogDaemon {
  /// The namespace, unique to this test.
  let namespace = "lockstep-test-" + UUID().uuidString.prefix(8).lowercased()
  private let child: Child
  private let machineID: String

  /// Starts journald in a new namespace and waits until it is ready.
  init(in sandbox: Sandbox) throws {
    machineID = try String(contentsOfFile: "/etc/machine-id", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    child = try NotifySocket.start(
      "/lib/systemd/systemd-journald", [namespace], in: sandbox, output: sandbox.root + "/journald.output")
  }

  deinit {
    child.kill()
    for directory in ["/run/systemd/journal." + namespace] + storage {
      try? FileManager.default.removeItem(atPath: directory)
    }
  }

  /// Where the namespace's journal files are: under `/var/log/journal` when that exists, else
  /// `/run/log/journal`.
  private var storage: [String] {
    ["/var/log/journal/", "/run/log/journal/"].map { $0 + machineID + "." + namespace }
  }

  var socket: String { "/run/systemd/journal.\(namespace)/dev-log" }

  @discardableResult
  func stop() -> Int32 { child.terminate() }

  /// The namespace's journal files, for `lockstep report --journal-file`.
  var reportArguments: [String] {
    storage.flatMap { directory in
      ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".journal") }
        .sorted().flatMap { ["--journal-file", directory + "/" + $0] }
    }
  }
}
