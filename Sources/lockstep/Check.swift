import ArgumentParser
internal import CTimex
import LockstepAdmin
import LockstepConfiguration
import LockstepCore
import LockstepPlatform

#if canImport(Glibc)
  import Glibc
#endif

/// `lockstep check`: audits this machine's setup with the module's own parsers.
struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Audit the setup: the store, the PAM files that load the module, sshd_config and the clock.",
    discussion: """
      The store and every record are checked exactly as the module checks them (owner, group, \
      mode), and the store's file system for the free space and write access that logins need; \
      state files that revoke left without a record are noted (--prune removes them). Each file \
      in the PAM directory that loads pam_lockstep.so is listed with how it loads it, and checked \
      for unknown arguments, for placements that let a login skip the code, and for a nullok \
      that lets an unenrolled user in on a password alone. sshd's configuration is checked for \
      the settings that keyboard-interactive logins need, as sshd itself reports it (sshd -T) \
      when sshd is installed, else as read from sshd_config and the files its Include lines \
      name. The kernel is asked whether the clock is synchronised. With --agent, or when \
      lockstepd's configuration (--config, or the default file) puts the records in a fleet's \
      database, the agent (lockstepd) is asked for its view of its store (the database, TLS, \
      replication, the clock): each unhealthy line is a warning (an error for the database), \
      and an agent that cannot be asked is an error; a configuration that cannot be read is an \
      error too. Each finding has a severity; warnings and errors come \
      with a fix. Exit status: 0 when nothing worse than information was found, 8 for \
      warnings, 9 for errors.
      """)

  /// The exit status when the worst finding is a warning.
  static let warningStatus: Int32 = 8
  /// The exit status when the worst finding is an error.
  static let errorStatus: Int32 = 9

  @OptionGroup var storeOptions: StoreOptions

  @Option(name: .long, help: ArgumentHelp("The directory of PAM service files.", valueName: "dir"))
  var pamDirectory = "/etc/pam.d"

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The sshd configuration file; the files its Include lines name are read too.", valueName: "file"))
  var sshdConfig = "/etc/ssh/sshd_config"

  @Flag(
    name: .long,
    help: "Remove the state files of users who have no record (revoke leaves them), then report.")
  var prune = false

  @Flag(name: .long, help: "Also ask the agent (lockstepd) for the state of its store.")
  var agent = false

  @Argument(
    help: ArgumentHelp(
      "The agent's socket, with --agent (default: \(AgentProtocol.defaultSocket)).", valueName: "socket"))
  var agentSocket: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "How long the agent may take to answer, from 1 to 600 seconds.", valueName: "seconds"))
  var agentTimeout = AgentClient.defaultTimeout

  @OptionGroup var output: JSONOption

  /// A finding and the file it concerns.
  struct Located {
    var file: String
    var finding: Finding
  }

  func validate() throws {
    if agentSocket != nil && !agent { throw ValidationError("a socket is given only with --agent") }
    if let agentSocket, agentSocket.isEmpty { throw ValidationError("the agent's socket cannot be an empty path") }
    guard AgentClient.timeouts.contains(agentTimeout) else {
      throw ValidationError("--agent-timeout takes 1 to 600 seconds, not \(agentTimeout)")
    }
  }

  func run() throws {
    try requireRoot()
    let pamFiles = try Input.directory(path: pamDirectory, what: "the PAM directory")
    var findings: [Located] = []
    // The store the commands work on: the directory, or the agent that lockstepd's
    // configuration names (asked whether or not --agent is given).
    var storePath: String? = storeOptions.path
    var socket = agent ? agentSocket ?? AgentProtocol.defaultSocket : nil
    do {
      if let configuration = try storeOptions.configuration {
        storePath = configuration.store
        if storePath == nil { socket = socket ?? configuration.socket }
        findings += auditDelivery(configuration, file: storeOptions.config ?? AgentConfiguration.defaultPath)
      }
    } catch {
      findings.append(
        Located(
          file: storeOptions.config ?? AgentConfiguration.defaultPath,
          finding: Finding(
            severity: .error, rule: "agent.configuration", line: 0, message: Self.sentence(error.message) + ".",
            fix: "Mend the line it names; lockstepd --check-config checks the file the same way.")))
    }
    if let storePath { findings += try auditStore(storePath) }
    findings += auditPam(pamFiles)
    findings += auditSshd()
    findings += auditClock()
    if let socket { findings += auditAgent(socket) }
    let worst = findings.map(\.finding.severity).max()
    if output.json {
      Output.printJSON([
        "worst": Output.orNull(worst?.description),
        "findings": findings.map {
          [
            "file": $0.file, "line": $0.finding.line, "severity": $0.finding.severity.description,
            "rule": $0.finding.rule, "message": $0.finding.message, "fix": $0.finding.fix,
          ] as [String: Any]
        },
      ])
    } else {
      for located in findings.sorted(by: { $0.finding.severity > $1.finding.severity }) {
        let f = located.finding
        let place = located.file + (f.line > 0 ? ":\(f.line)" : "")
        print("\(f.severity): \(place): \(f.message)")
        if f.severity > .info { print("  fix: \(f.fix)") }
      }
      if findings.isEmpty { print("No findings.") }
    }
    switch worst {
    case .error: throw ExitCode(Self.errorStatus)
    case .warning: throw ExitCode(Self.warningStatus)
    default: return
    }
  }

  /// The store directory and every record in it, read as the module reads them; with
  /// `--prune`, the state files of users without a record are removed first.
  private func auditStore(_ path: String) throws(Failure) -> [Located] {
    let store: Store
    do { store = try Store(path: path, hostKey: try HostKey(path: storeOptions.hostKey, crypto: crypto)) } catch {
      return [
        Located(
          file: path,
          finding: Finding(
            severity: .error, rule: "store.unusable", line: 0, message: "The \(error.description).",
            fix: "Create it as a directory owned by root with mode 0700 (make install does), or fix its owner and mode."
          ))
      ]
    }
    var findings = auditSpace(path) + auditExposure(store)
    let names: [UserName]
    do { names = try store.userNames() } catch {
      return [
        Located(
          file: path,
          finding: Finding(
            severity: .error, rule: "store.unreadable", line: 0, message: "The store cannot be listed: \(error).",
            fix: "Check the directory's permissions."))
      ]
    }
    var enrolled = 0
    var inClear = 0
    for name in names {
      for (file, group) in store.filesNotInRootGroup(name) {
        findings.append(
          Located(
            file: file,
            finding: Finding(
              severity: .warning, rule: "store.group", line: 0,
              message: "Its group is not root's (gid \(group)): every file in the store should be root:root.",
              fix: "Run 'chown root:root \(file)'.")))
      }
      do {
        if try store.read(name) != nil { enrolled += 1 }
        if store.hostKey != nil, try store.isSealed(name) == false { inClear += 1 }
      } catch {
        findings.append(
          Located(
            file: store.recordPath(name),
            finding: Finding(
              severity: .error, rule: "store.record", line: 0,
              message: "The module refuses this record, so \(name) cannot log in: \(error).",
              fix: "Make it a root-owned 0600 regular file, or run 'lockstep revoke --force \(name)' and enroll again."
            )))
      }
    }
    findings.append(
      Located(
        file: path,
        finding: Finding(
          severity: .info, rule: "store.users", line: 0,
          message: "The store holds \(Output.counted(enrolled, "usable enrollment")).",
          fix: "Enroll users with 'lockstep enroll USER'.")))
    if let hostKey = store.hostKey, inClear > 0 {
      findings.append(
        Located(
          file: path,
          finding: Finding(
            severity: .warning, rule: "store.unsealed", line: 0,
            message:
              "\(Output.counted(inClear, "record")) \(inClear == 1 ? "holds its" : "hold their") secret in clear, "
              + "although this host has a host key (\(hostKey.path)): a copy of the store gives \(inClear == 1 ? "it" : "them") away.",
            fix: "Run 'lockstep seal', which seals every record's secret under the host key.")))
    }
    findings += try auditStateFiles(store)
    return findings
  }

  /// The state files left by users who have no record any more (`revoke` keeps the file the
  /// user's lock is taken on), removed under the user's lock with `--prune`.
  private func auditStateFiles(_ store: Store) throws(Failure) -> [Located] {
    let orphans: [UserName]
    do { orphans = try store.usersWithStateFileOnly() } catch { throw .store(error) }
    var findings: [Located] = []
    for name in orphans {
      if prune {
        let held: UserLock
        do {
          held = try store.lock(name)
          if try store.removeStateFile(holding: held) {
            print("Removed \(store.statePath(name)), the state file of \(name), who has no record.")
            continue
          }
        } catch {
          throw .store(error)
        }
      }
      findings.append(
        Located(
          file: store.statePath(name),
          finding: Finding(
            severity: .info, rule: "store.state-without-record", line: 0,
            message: "\(name) has a state file but no record (revoke leaves it); it holds no secret.",
            fix: "Run 'lockstep check --prune' to remove the state files of users without a record.")))
    }
    return findings
  }

  /// What the store shows to others, and who could take its name: the module accepts a store
  /// that others can read, or that lies below a sticky directory anyone can write to, but
  /// neither is what `make install` sets up.
  private func auditExposure(_ store: Store) -> [Located] {
    var findings: [Located] = []
    var st = stat()
    if stat(store.path, &st) == 0 && st.st_mode & 0o077 != 0 {
      findings.append(
        Located(
          file: store.path,
          finding: Finding(
            severity: .warning, rule: "store.readable", line: 0,
            message: "The store is readable by group or others (mode \(String(st.st_mode & 0o7777, radix: 8))): "
              + "local users can list the enrolled users, see how many backup codes each has left, and when each last tried a code.",
            fix: "chmod 0700 \(store.path)")))
    }
    if let above = store.writableAncestor {
      findings.append(
        Located(
          file: store.path,
          finding: Finding(
            severity: .warning, rule: "store.below-writable", line: 0,
            message: "The store lies below \(above), a directory anyone can write to: if the store is ever missing "
              + "(a tmpfs at boot), anyone can create its name first.",
            fix: "Move the store to a directory only root can write to, such as /var/lib/lockstep.")))
    }
    return findings
  }

  /// Whether the store's file system takes the writes every login makes (`statvfs(3)`): a login
  /// that cannot record its code is refused, so a read-only or full store locks everyone out.
  private func auditSpace(_ path: String) -> [Located] {
    var fs = statvfs()
    guard statvfs(path, &fs) == 0 else { return [] }
    let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
    let finding: Finding
    if fs.f_flag & UInt(ST_RDONLY) != 0 {
      finding = Finding(
        severity: .error, rule: "store.read-only", line: 0,
        message: "The store is on a read-only file system, so no login can record its code and every login is refused.",
        fix: "Remount it read-write, or move the store to a writable file system.")
    } else if free < RecordFormat.maximumSize || (fs.f_files > 0 && fs.f_favail == 0) {
      // A record rewritten in full needs up to its maximum size in free space.
      finding = Finding(
        severity: .error, rule: "store.full", line: 0,
        message:
          "The store's file system is full (\(free) bytes, \(fs.f_favail) inodes free), so logins that must write are refused.",
        fix: "Free space on that file system.")
    } else {
      return []
    }
    return [Located(file: path, finding: finding)]
  }

  /// Every PAM service file that loads the module, with how it loads it; sshd and sudo are
  /// reported even when they do not.
  private func auditPam(_ names: [String]) -> [Located] {
    var findings: [Located] = []
    var loaded = false
    for name in names.sorted() where !name.hasPrefix(".") {
      let file = pamDirectory + "/" + name
      guard let text = readText(file) else { continue }
      let loading = PamConfigAudit.parse(text).lines.filter(\.loadsLockstep)
      if !loading.isEmpty { loaded = true }
      if loading.isEmpty && name != "sshd" && name != "sudo" { continue }
      findings += loading.map { line in
        let control = line.bracketed ? "[\(line.control)]" : line.control
        let arguments = line.arguments.isEmpty ? "no arguments" : line.arguments.joined(separator: " ")
        return Located(
          file: file,
          finding: Finding(
            severity: .info, rule: "pam.loaded", line: line.number,
            message:
              "The \(name) service loads the module as '\(line.quiet ? "-" : "")\(line.type) \(control)', with \(ModuleOptions.printable(arguments)).",
            fix: "Nothing to do."))
      }
      findings += PamConfigAudit.audit(fileName: name, text: text).map { Located(file: file, finding: $0) }
    }
    if !loaded {
      findings.append(
        Located(
          file: pamDirectory,
          finding: Finding(
            severity: .warning, rule: "pam.nowhere", line: 0,
            message: "No PAM service loads \(PamConfigAudit.moduleName), so no login asks for a code.",
            fix:
              "Add 'auth required \(PamConfigAudit.moduleName)' to /etc/pam.d/sshd or /etc/pam.d/sudo (see the README)."
          )))
    }
    return findings
  }

  /// Whether the kernel considers the clock synchronised (`adjtimex(2)`'s `STA_UNSYNC`).
  private func auditClock() -> [Located] {
    var state = timex()
    let result = adjtimex(&state)
    let unsynchronised = result == TIME_ERROR || state.status & Int32(STA_UNSYNC) != 0
    guard unsynchronised else { return [] }
    return [
      Located(
        file: "clock",
        finding: Finding(
          severity: .warning, rule: "clock.unsynchronised", line: 0,
          message: "The system clock is not synchronised, so time-based codes may be refused as it drifts.",
          fix: "Enable time synchronisation (systemd-timesyncd, chrony or ntpd)."))
    ]
  }
}
