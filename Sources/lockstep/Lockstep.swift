import ArgumentParser
import LockstepCore

#if canImport(Glibc)
  import Glibc
#endif

/// The `lockstep` command: enrolls and administers users of the pam_lockstep module.
///
/// The root command only dispatches to its subcommands. Errors are printed as one sentence on
/// standard error, prefixed `lockstep: `, with the exit codes in `Exit`.
@main
struct Lockstep: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lockstep",
    abstract: "Enroll and administer users of the pam_lockstep one-time-code module.",
    discussion: """
      Every command works on the store of user records (--store, or $LOCKSTEP_STORE, default \
      /var/lib/lockstep), or, when lockstepd's configuration (--config, or \
      /etc/lockstep/lockstepd.conf when it exists and no store is given) names a fleet's \
      database, on the fleet store through the agent; every command must run as root. Exit status: 0 success, 1 a code was wrong or \
      refused, 2 invalid usage or input, 3 the user is not enrolled, 4 the store or a record \
      is unsafe or unreadable, 5 not run as root, 6 the user is already enrolled; check exits \
      with 8 for warnings and 9 for errors. Shell \
      completion: lockstep --generate-completion-script bash (or zsh, fish).
      """,
    version: "lockstep 0.1.0",
    subcommands: [
      Enroll.self, Invite.self, List.self, Status.self, Verify.self, Resync.self, Unlock.self, BackupCodes.self,
      Revoke.self, Export.self, Import.self, Migrate.self, Seal.self, Check.self, Report.self, Metrics.self,
    ])

  /// Parses the command line and runs the subcommand, mapping every failure to one line on
  /// standard error and a documented exit code.
  static func main() {
    let arguments = Array(CommandLine.arguments.dropFirst())
    let path = commandPath(arguments)
    if path.isEmpty, let first = arguments.first, !first.hasPrefix("-"), first != "help" {
      let names = configuration.subcommands.map { $0._commandName }
      let guess = CommandName.closest(to: first, among: names).map { "; did you mean '\($0)'?" } ?? ""
      printError(Failure("unknown command '\(LogText.escape(Array(first.utf8)))'" + guess, code: Exit.usage).line)
      printError("Run 'lockstep help' for the list of commands.")
      Glibc.exit(Exit.usage)
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      Glibc.exit(Exit.success)
    } catch let failure as Failure {
      printError(failure.line)
      Glibc.exit(failure.code)
    } catch let code as ExitCode {
      Glibc.exit(code.rawValue)
    } catch {
      // Help, --version and completion scripts arrive here as "errors" that exit with success.
      if exitCode(for: error) == .success {
        print(fullMessage(for: error))
        Glibc.exit(Exit.success)
      }
      printError(Failure(message(for: error), code: Exit.usage).line)
      printError("Run 'lockstep help\(path.map { " " + $0 }.joined())' for usage.")
      Glibc.exit(Exit.usage)
    }
  }

  /// The subcommand names at the start of `arguments` (`["import", "pam-oath"]`), as far as
  /// they name commands.
  static func commandPath(_ arguments: [String]) -> [String] {
    var path: [String] = []
    var commands = configuration.subcommands
    for argument in arguments {
      guard let command = commands.first(where: { $0._commandName == argument }) else { break }
      path.append(argument)
      commands = command.configuration.subcommands
    }
    return path
  }
}
