import ArgumentParser

/// Where a command that reads the log reads it (`report`, `metrics`): the files given, or this
/// host's log (`LogSource.standard`).
struct LogSourceOptions: ParsableArguments {
  @Option(
    name: .customLong("file"),
    help: ArgumentHelp("A syslog file to read instead of the journal (may be repeated).", valueName: "path"))
  var files: [String] = []

  @Option(
    name: .customLong("journal-file"),
    help: ArgumentHelp("A journal file to read instead of the system journal (may be repeated).", valueName: "path"))
  var journalFiles: [String] = []

  /// The sources to read.
  var sources: [LogSource] {
    let given = files.map(LogSource.file) + (journalFiles.isEmpty ? [] : [.journal(files: journalFiles)])
    return given.isEmpty ? [LogSource.standard] : given
  }
}
