import ArgumentParser
import LockstepCore
import LockstepMetrics
import LockstepPlatform

/// `lockstep metrics [--textfile DIR]`: the module's log lines counted as Prometheus metrics,
/// for a host whose module reads the store itself (no lockstepd `metrics =` to scrape).
struct Metrics: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Count the module's log lines as Prometheus metrics, for node_exporter's textfile collector.",
    discussion: """
      Reads the module's lines from the journal (or /var/log/auth.log, or the files given) and \
      prints, in Prometheus' text format, the same families lockstepd serves with 'metrics =' \
      (lockstepd(8), METRICS): logins by outcome and service, lockouts, replays, backup codes \
      used, clock warnings. With --textfile DIR it writes DIR/lockstep.prom instead, replacing \
      it whole, for node_exporter's textfile collector (lockstep-metrics.timer does so every \
      minute). The counts are totals over the log the host keeps: they fall when old logs are \
      rotated away, which Prometheus takes as a counter reset. lockstepd's own lines are left \
      out: on a host whose module uses agent=, scrape lockstepd instead, which sees the same \
      logins.
      """)

  @OptionGroup var log: LogSourceOptions

  @Option(
    name: .long,
    help: ArgumentHelp("Write DIR/lockstep.prom for node_exporter instead of printing.", valueName: "dir"))
  var textfile: String?

  /// The file written in the `--textfile` directory.
  static let fileName = "lockstep.prom"

  func run() throws {
    let metrics = LockstepMetrics()
    for entry in try LogSource.entries(of: log.sources, since: nil) where entry.line.contains("pam_lockstep(") {
      if let fields = LogLine.fields(of: entry.line) { metrics.observe(fields) }
    }
    let text = metrics.exposition()
    guard let textfile else {
      print(text, terminator: "")
      return
    }
    do {
      try PublishedFile.replace(Self.fileName, in: textfile, with: Array(text.utf8))
    } catch {
      throw Failure.store(error)
    }
  }
}
