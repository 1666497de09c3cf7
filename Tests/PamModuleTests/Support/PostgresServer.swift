import Foundation
import Testing

/// A throwaway PostgreSQL 15 server on 127.0.0.1 for the tests of lockstepd, optionally with a
/// synchronous standby, stopped (by pid) and removed when the object is released.
///
/// Everything is in a fresh directory, `/tmp/lockstep-pg-UUID` (see `parentDirectory`), owned
/// by the `postgres` user (the servers run as that user; initdb refuses root): the TLS material
/// (`TestCertificateAuthority`, in `tls/`), the data directories `primary/` and `standby/`,
/// their logs, and the servers' Unix sockets. The Debian cluster is neither used nor touched.
/// The servers listen on 127.0.0.1 only, on ports the kernel chose as free, and run with
/// `fsync`, `synchronous_commit = on` and `wal_level = replica`.
///
/// What a client may do is decided by `pg_hba.conf`, and nothing else is allowed:
///
/// - role `lockstep`, over TLS from 127.0.0.1 only, with its password (`password`, SCRAM);
/// - role `lockstep_cert`, over TLS from 127.0.0.1 only, with the client certificate of
///   `certificateAuthority` (CN `lockstep`, mapped to the role by `pg_ident.conf`);
/// - role `replicator`, for the standby's replication connection, over TLS with its password;
/// - the superuser `postgres`, only over the Unix socket, which only root and `postgres` can
///   reach (the directory is 0700): this is how `sql` and `dump` connect.
///
/// The database `lockstep` belongs to `lockstep`. `lockstep_cert` is a member of `lockstep`,
/// and its sessions in that database start with `SET ROLE lockstep` (a setting of the role in
/// the database): both roles can then create and use the same tables, and whatever either
/// creates belongs to `lockstep`. So `session_user` says who logged in, `current_user` is
/// `lockstep` for both.
///
/// Servers start from a copy of a data directory that initdb made once and that is kept in
/// `build/postgres-template` (see `templateDirectory`), not from initdb each time.
final class PostgresServer {
  /// The address the servers listen on (and the only one).
  let host = "127.0.0.1"
  /// The temporary directory holding everything; removed when the object is released.
  let directory: String
  /// The TLS material: the servers' certificate and the client certificate.
  let certificateAuthority: TestCertificateAuthority
  /// The password of the role `lockstep`: 32 characters from [A-Za-z0-9], so it needs no
  /// quoting or percent-encoding anywhere.
  let password: String
  /// The port of the server started as the primary.
  var port: Int { instances[0].port }
  /// The port of the server started as the standby, if there is one (it stays the same after
  /// `promoteStandby`, when that server becomes the primary).
  var standbyPort: Int? { instances.count > 1 ? instances[1].port : nil }

  /// The application name the standby connects with, as `synchronous_standby_names` names it.
  static let standbyName = "standby1"
  /// The PostgreSQL programs.
  static let binaries = "/usr/lib/postgresql/15/bin"
  /// Where the servers' directories are made: /tmp, or the directory that
  /// `LOCKSTEP_TEST_POSTGRES_PARENT` names (such as a tmpfs: /dev/shm copies a data directory
  /// several times faster than an ext4 that has just deleted many files).
  /// The path is resolved (no symbolic links), as it must match the servers' working directory.
  static let parentDirectory: String = {
    let parent = ProcessInfo.processInfo.environment["LOCKSTEP_TEST_POSTGRES_PARENT"] ?? "/tmp"
    guard let resolved = realpath(parent, nil) else { return parent }
    defer { free(resolved) }
    return String(cString: resolved)
  }()

  private let replicatorPassword: String
  /// The primary, then the standby if there is one.
  private var instances: [Instance] = []
  /// Which of `instances` is the primary now.
  private var primaryIndex = 0
  private var isShutDown = false

  /// Starts a primary and, if `synchronousStandby`, a standby made from it with pg_basebackup
  /// that the primary waits for at every commit (`synchronous_standby_names`); returns once the
  /// standby streams and the primary counts it as synchronous.
  init(synchronousStandby: Bool = false) throws {
    _ = Self.leftoversRemoved
    let template = try Self.templateDirectory()
    let directory = Self.parentDirectory + "/lockstep-pg-" + UUID().uuidString.lowercased()
    try Self.makeDirectoryForPostgres(directory)
    let certificateAuthority: TestCertificateAuthority
    do {
      // The copy of the template and the TLS material are made at the same time.
      let copy = try Child("/bin/cp", ["-a", template, directory + "/primary"], output: directory + "/copy.log")
      let madeAuthority = Result { try TestCertificateAuthority(directory: directory + "/tls") }
      let copied = copy.wait()
      certificateAuthority = try madeAuthority.get()
      guard copied.status == 0 else { throw TestFailure("cannot copy \(template): \(copied.output)") }
      unlink(copy.outputPath)
    } catch {
      try? FileManager.default.removeItem(atPath: directory)
      throw error
    }
    self.directory = directory
    self.certificateAuthority = certificateAuthority
    password = Self.randomPassword()
    replicatorPassword = Self.randomPassword()
    do {
      try startPrimary(withStandby: synchronousStandby)
      if synchronousStandby { try startStandby() }
    } catch {
      shutDown()
      throw error
    }
  }

  deinit { shutDown() }

  // MARK: - What tests use

  /// A connection URL for `user` (`lockstep` with its password, `lockstep_cert` with the
  /// client certificate and key, any other with neither) naming the primary and, if
  /// `includeStandby`, the standby too,
  /// with `target_session_attrs=read-write` so that a client uses whichever is the primary;
  /// `extra` parameters (`name=value`) are appended. For example
  /// `postgresql://lockstep:PASSWORD@127.0.0.1:P1,127.0.0.1:P2/lockstep?sslmode=verify-full&sslrootcert=CA&target_session_attrs=read-write`.
  func url(user: String = "lockstep", includeStandby: Bool = true, extra: [String] = []) -> String {
    var hosts = ["\(host):\(port)"]
    if includeStandby, let standbyPort { hosts.append("\(host):\(standbyPort)") }
    let credentials = user == "lockstep" ? "\(user):\(password)" : user
    var parameters = ["sslmode=verify-full", "sslrootcert=" + Self.encoded(certificateAuthority.caPath)]
    if user == "lockstep_cert" {
      parameters += [
        "sslcert=" + Self.encoded(certificateAuthority.clientCertPath),
        "sslkey=" + Self.encoded(certificateAuthority.clientKeyPath),
      ]
    }
    parameters.append("target_session_attrs=read-write")
    return "postgresql://\(credentials)@\(hosts.joined(separator: ","))/lockstep?"
      + (parameters + extra).joined(separator: "&")
  }

  /// Runs `statement` (one or more SQL statements, run as one transaction) as the superuser in
  /// the database `lockstep`, with psql over the Unix socket, on the primary as it is now (the
  /// promoted standby after `promoteStandby`), or on the server started as the standby if
  /// `onStandby`; returns what it printed (rows only, unaligned, `|` between columns), trimmed.
  /// What it creates belongs to `postgres` unless the statement starts with `SET ROLE lockstep;`.
  @discardableResult
  func sql(_ statement: String, onStandby: Bool = false) throws -> String {
    guard !onStandby || instances.count > 1 else { throw TestFailure("this server has no standby") }
    let instance = onStandby ? instances[1] : instances[primaryIndex]
    let result = try runAsPostgres(
      "psql",
      ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"] + socketArguments(instance) + [
        "-d", "lockstep", "-c", statement,
      ])
    guard result.status == 0 else {
      throw TestFailure("psql on the \(instance.name) failed (\(result.status)): \(result.error)")
    }
    return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Kills the primary as a crash of its machine would: the postmaster and every process it
  /// started, with SIGKILL, and waits until they are all gone. The postmaster is stopped with
  /// SIGSTOP first, so that it starts no other. (Killing the postmaster alone would leave its
  /// backends and WAL senders running until they notice, still answering their clients.)
  func killPrimary() {
    let instance = instances[primaryIndex]
    if processes(of: instance).contains(instance.postmaster) { kill(instance.postmaster, SIGSTOP) }
    if !waitUntilGone([instance], seconds: 30, signal: { pid in kill(pid, SIGKILL) }) {
      Issue.record("the \(instance.name)'s processes survived SIGKILL: \(processes(of: instance))")
    }
    removeSharedMemory(of: instance)
  }

  /// Promotes the standby (`pg_ctl promote -w`) and returns once it accepts writes; from then
  /// on it is the primary that `sql` and `dump` use.
  func promoteStandby() throws {
    guard instances.count > 1, primaryIndex == 0 else { throw TestFailure("there is no standby to promote") }
    let standby = instances[1]
    let result = try Self.pgCtl(["promote", "-w", "-t", "30", "-D", standby.dataDirectory], in: directory)
    guard result.status == 0 else {
      throw TestFailure("pg_ctl promote failed: \(result.output)\n\(standby.logTail())")
    }
    primaryIndex = 1
    try Self.waitUntil("the promoted standby to leave recovery", seconds: 30) {
      try sql("SELECT pg_is_in_recovery()") == "f"
    }
  }

  /// Everything in the primary as it is now, data included, as `pg_dumpall` prints it.
  func dump() throws -> String {
    let instance = instances[primaryIndex]
    let result = try runAsPostgres("pg_dumpall", socketArguments(instance))
    guard result.status == 0 else { throw TestFailure("pg_dumpall failed: \(result.error)") }
    return result.output
  }

  /// The postmasters' pids: the primary's, then the standby's.
  var postmasterPIDs: [pid_t] { instances.map(\.postmaster) }

  /// Every process of the servers that is running now: the postmasters and their children,
  /// found as the processes whose working directory is a data directory (PostgreSQL's are).
  var processIDs: [pid_t] { instances.flatMap { processes(of: $0) } }

  /// The servers' logs, primary's then standby's.
  var logPaths: [String] { instances.map(\.logPath) }

  // MARK: - Starting

  /// One server: its data directory, port and postmaster.
  private final class Instance {
    let name: String
    let dataDirectory: String
    let logPath: String
    var port: Int
    var postmaster: pid_t = 0
    /// The System V shared memory segment of the postmaster (`postmaster.pid` line 7), which a
    /// postmaster killed with SIGKILL leaves behind.
    var sharedMemory: (key: Int32, id: Int32)?

    init(name: String, dataDirectory: String, logPath: String, port: Int) {
      self.name = name
      self.dataDirectory = dataDirectory
      self.logPath = logPath
      self.port = port
    }

    /// The end of the log, for failure messages.
    func logTail() -> String {
      let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
      return "\(name) log:\n"
        + log.split(separator: "\n", omittingEmptySubsequences: false).suffix(30)
        .joined(separator: "\n")
    }
  }

  private func startPrimary(withStandby: Bool) throws {
    let primary = Instance(
      name: "primary", dataDirectory: directory + "/primary", logPath: directory + "/primary.log",
      port: try Self.freePort())
    instances.append(primary)
    try writeAccessFiles(primary.dataDirectory)
    // The standby is named from the start, so that commits wait for it as soon as it streams;
    // the one commit made before it exists (the passwords, below) is local.
    try start(primary, synchronousStandbyNames: withStandby ? Self.standbyName : nil)
    try sql(
      """
      SET synchronous_commit = local;
      ALTER ROLE lockstep PASSWORD '\(password)';
      ALTER ROLE replicator PASSWORD '\(replicatorPassword)';
      ALTER ROLE postgres PASSWORD '\(Self.randomPassword())';
      """)
  }

  private func startStandby() throws {
    let primary = instances[0]
    let standby = Instance(
      name: "standby", dataDirectory: directory + "/standby", logPath: directory + "/standby.log",
      port: try Self.freePort())
    // The copy, over TLS as `replicator`; -R writes `standby.signal` and a `primary_conninfo`
    // with these same parameters. The copy is not flushed to disk (--no-sync): tests crash
    // processes, not the machine, and the servers themselves run with fsync=on.
    let conninfo = [
      "host=\(host)", "port=\(primary.port)", "user=replicator", "password=\(replicatorPassword)",
      "sslmode=verify-full", "sslrootcert=\(certificateAuthority.caPath)", "application_name=\(Self.standbyName)",
    ].joined(separator: " ")
    let backup = try runAsPostgres(
      "pg_basebackup",
      [
        "-D", standby.dataDirectory, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync", "--no-manifest",
        "-d", conninfo,
      ])
    guard backup.status == 0 else {
      throw TestFailure("pg_basebackup failed: \(backup.output)\(backup.error)\n\(primary.logTail())")
    }
    instances.append(standby)
    // pg_basebackup's own connections named themselves standby1 too: they must be gone before
    // the primary's view of its standby means anything.
    try Self.waitUntil("pg_basebackup's connections to end", seconds: 30) {
      try sql("SELECT count(*) FROM pg_stat_replication") == "0"
    }
    try start(standby, synchronousStandbyNames: nil)
    try Self.waitUntil("the standby to stream synchronously", seconds: 60) {
      try sql(
        "SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = '\(Self.standbyName)'")
        == "streaming sync"
    }
  }

  /// Starts `instance` with `pg_ctl start -w`, on another free port if its own turns out to
  /// be taken, and records its postmaster.
  private func start(_ instance: Instance, synchronousStandbyNames: String?) throws {
    var attempt = 0
    while true {
      attempt += 1
      try writeConfiguration(instance, synchronousStandbyNames: synchronousStandbyNames)
      let result = try Self.pgCtl(
        ["start", "-w", "-t", "30", "-D", instance.dataDirectory, "-l", instance.logPath], in: directory)
      if result.status == 0,
        let pidFile = try? String(contentsOfFile: instance.dataDirectory + "/postmaster.pid", encoding: .utf8)
      {
        let lines = pidFile.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 7, let pid = pid_t(lines[0]) else {
          throw TestFailure("cannot read \(instance.dataDirectory)/postmaster.pid: \(pidFile)")
        }
        instance.postmaster = pid
        instance.sharedMemory = Self.sharedMemory(of: instance.dataDirectory)
        return
      }
      // A server that did not start in time may still be running.
      _ = waitUntilGone([instance], seconds: 10) { pid in kill(pid, SIGKILL) }
      let log = instance.logTail()
      guard log.contains("Address already in use") && attempt < 5 else {
        throw TestFailure("pg_ctl start failed (\(result.status)): \(result.output)\n\(log)")
      }
      instance.port = try Self.freePort()
    }
  }

  /// Writes `postgresql.conf` for `instance`, replacing initdb's or the primary's.
  private func writeConfiguration(_ instance: Instance, synchronousStandbyNames: String?) throws {
    var settings = [
      "listen_addresses = '127.0.0.1'",
      "port = \(instance.port)",
      "unix_socket_directories = '\(directory)'",
      "max_connections = 100",
      "ssl = on",
      "ssl_cert_file = '\(certificateAuthority.serverCertPath)'",
      "ssl_key_file = '\(certificateAuthority.serverKeyPath)'",
      "ssl_ca_file = '\(certificateAuthority.caPath)'",
      "password_encryption = 'scram-sha-256'",
      "fsync = on",
      "synchronous_commit = on",
      "wal_level = replica",
      "max_wal_senders = 10",
      "hot_standby = on",
      // Small and without huge pages, to start fast; dynamic shared memory in files in the
      // data directory (not /dev/shm), so that a killed server leaves nothing outside it.
      "shared_buffers = 32MB",
      "huge_pages = off",
      "dynamic_shared_memory_type = mmap",
      "timezone = 'UTC'",
      "log_timezone = 'UTC'",
      "datestyle = 'iso, mdy'",
      "lc_messages = 'C'",
      "lc_monetary = 'C'",
      "lc_numeric = 'C'",
      "lc_time = 'C'",
      "log_line_prefix = '%m [%p] %q%u@%d '",
      "log_connections = on",
      // A standby made by pg_basebackup (--no-sync) flushes its data directory before it starts:
      // one syncfs(2) instead of an fsync(2) of each of its 1,300 files.
      "recovery_init_sync_method = syncfs",
    ]
    if let synchronousStandbyNames { settings.append("synchronous_standby_names = '\(synchronousStandbyNames)'") }
    try writeForPostgres(instance.dataDirectory + "/postgresql.conf", settings.joined(separator: "\n") + "\n")
  }

  /// Writes `pg_hba.conf` and `pg_ident.conf` (see the type's comment); the standby gets them
  /// with the copy.
  private func writeAccessFiles(_ dataDirectory: String) throws {
    let hba = """
      # TYPE  DATABASE     USER           ADDRESS        METHOD
      local   all          postgres                      trust
      hostssl all          lockstep       127.0.0.1/32   scram-sha-256
      hostssl all          lockstep_cert  127.0.0.1/32   cert clientcert=verify-full map=certificates
      hostssl replication  replicator     127.0.0.1/32   scram-sha-256

      """
    try writeForPostgres(dataDirectory + "/pg_hba.conf", hba)
    try writeForPostgres(
      dataDirectory + "/pg_ident.conf",
      "# MAPNAME     SYSTEM-USERNAME  PG-USERNAME\ncertificates  \(TestCertificateAuthority.clientCommonName)  lockstep_cert\n"
    )
  }

  private func socketArguments(_ instance: Instance) -> [String] {
    ["-h", directory, "-p", String(instance.port), "-U", "postgres"]
  }

  private func runAsPostgres(_ program: String, _ arguments: [String]) throws -> CommandResult {
    try Self.runAsPostgres(program, arguments, in: directory)
  }

  // MARK: - Stopping

  /// Stops every server still running (SIGQUIT: immediate shutdown; SIGKILL for any process
  /// still there 10 s later), removes what a killed one leaves outside its directory, and then
  /// the directory. Runs once.
  private func shutDown() {
    guard !isShutDown else { return }
    isShutDown = true
    for instance in instances where processes(of: instance).contains(instance.postmaster) {
      kill(instance.postmaster, SIGQUIT)
    }
    if !waitUntilGone(instances, seconds: 10, signal: { _ in }) {
      if !waitUntilGone(instances, seconds: 30, signal: { pid in kill(pid, SIGKILL) }) {
        Issue.record("processes of the servers in \(directory) survived SIGKILL: \(processIDs)")
      }
    }
    for instance in instances { removeSharedMemory(of: instance) }
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Waits until no process of `instances` runs, calling `signal` for each one that still does
  /// at every look; false if some still run after `seconds`. Processes are found by their
  /// working directory, never by a pid recorded earlier (the kernel may have given it to another
  /// process since), and each one found is waited for until it has exited (an exiting process
  /// lets go of its working directory a little before it becomes a zombie).
  private func waitUntilGone(_ instances: [Instance], seconds: Double, signal: (pid_t) -> Void) -> Bool {
    let deadline = monotonicSeconds() + seconds
    var seen = Set<pid_t>()
    while true {
      var running = instances.flatMap { processes(of: $0) }
      seen.formUnion(running)
      running += seen.filter { Self.isRunning($0) && !running.contains($0) }
      if running.isEmpty { return true }
      if monotonicSeconds() > deadline { return false }
      running.forEach(signal)
      usleep(1000)
    }
  }

  /// The processes whose working directory is `instance`'s data directory: its postmaster and
  /// all the children it started (they never change directory), whether or not the postmaster
  /// is still there.
  private func processes(of instance: Instance) -> [pid_t] {
    Self.processes { $0 == instance.dataDirectory }
  }

  /// Every process whose working directory is inside `directory` (such as a server's directory).
  static func processes(under directory: String) -> [pid_t] { processes { $0.hasPrefix(directory + "/") } }

  /// The processes whose working directory `matches`.
  private static func processes(_ matches: (String) -> Bool) -> [pid_t] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return names.compactMap { name in
      guard let pid = pid_t(name) else { return nil }
      var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
      let length = readlink("/proc/\(name)/cwd", &buffer, buffer.count)
      guard length > 0 else { return nil }
      return matches(String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)) ? pid : nil
    }
  }

  private func removeSharedMemory(of instance: Instance) {
    if let (key, id) = instance.sharedMemory { Self.removeSharedMemory(key: key, id: id) }
    instance.sharedMemory = nil
  }

  /// Removes the System V segment of a postmaster that was killed, if it is still there, still
  /// the same and unused (one that stopped removed it itself).
  private static func removeSharedMemory(key: Int32, id: Int32) {
    var status = shmid_ds()
    if shmctl(id, IPC_STAT, &status) == 0 && status.shm_perm.__key == key && status.shm_nattch == 0 {
      shmctl(id, IPC_RMID, nil)
    }
  }

  /// The System V segment named on line 7 of `dataDirectory`'s `postmaster.pid`, if any.
  private static func sharedMemory(of dataDirectory: String) -> (key: Int32, id: Int32)? {
    guard let pidFile = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8) else {
      return nil
    }
    let lines = pidFile.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count >= 7 else { return nil }
    // Printed as unsigned longs.
    let numbers = lines[6].split(separator: " ").compactMap { UInt64($0) }.map { Int32(truncatingIfNeeded: $0) }
    return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
  }

  // MARK: - What killed test processes leave

  /// Done once per test process, before its first server starts.
  private static let leftoversRemoved: Void = removeLeftovers()

  /// Stops the servers and removes the directories (this harness's, in `parentDirectory`) of
  /// test processes that have ended without releasing them: killed, say, by a timeout, so that
  /// no `deinit` ran. A directory's `owner` file says which process made it (see
  /// `processIdentity`); one whose process is still running is left alone, and so is one
  /// without that file. Every test process does this once, before its first server starts.
  static func removeLeftovers() {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: parentDirectory)) ?? []
    for name in names where name.hasPrefix("lockstep-pg-") {
      let directory = parentDirectory + "/" + name
      guard let owner = try? String(contentsOfFile: directory + "/owner", encoding: .utf8),
        let pid = pid_t(owner.split(separator: " ").first ?? "")
      else { continue }
      if processIdentity(pid) == owner { continue }
      // As in `waitUntilGone`: found by working directory, then waited for until exited.
      let deadline = monotonicSeconds() + 10
      var seen = Set<pid_t>()
      while true {
        let found = processes(under: directory)
        seen.formUnion(found)
        found.forEach { kill($0, SIGKILL) }
        if !seen.contains(where: isRunning) || monotonicSeconds() > deadline { break }
        usleep(1000)
      }
      guard !seen.contains(where: isRunning) else { continue }
      for dataDirectory in ["primary", "standby", "data"] {
        if let (key, id) = sharedMemory(of: directory + "/" + dataDirectory) { removeSharedMemory(key: key, id: id) }
      }
      try? FileManager.default.removeItem(atPath: directory)
    }
  }

  /// A process's pid and start time (field 22 of `/proc/PID/stat`, which tells it from a later
  /// process with the same pid), or nil if there is no such process.
  private static func processIdentity(_ pid: pid_t) -> String? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let end = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: end)...].split(separator: " ")
    return fields.count > 19 ? "\(pid) \(fields[19])" : nil
  }

  // MARK: - The template

  /// The version of the template's layout: change it whenever what `makeTemplate` puts in the
  /// template changes, so that no older template is used.
  private static let templateLayout = 1

  private static let template = Result { try makeTemplate() }

  /// The data directory every server starts from: made once by initdb (superuser `postgres`,
  /// UTF8, locale C, SCRAM for TCP) with the roles `lockstep`, `lockstep_cert` and `replicator`
  /// and the database `lockstep` already made, and cleanly shut down. It is kept in
  /// `build/postgres-template/VERSION-uidUID-layoutN` (the PostgreSQL version, the `postgres`
  /// user's uid, `templateLayout`) and made under a lock by whichever test process needs it
  /// first.
  static func templateDirectory() throws -> String { try template.get() }

  private static func makeTemplate() throws -> String {
    let version =
      try runCommand(binaries + "/postgres", ["--version"]).output
      .split(separator: " ").dropFirst(2).first.map(String.init) ?? "unknown"
    guard let account = getpwnam("postgres") else { throw TestFailure("there is no user postgres") }
    let cache = Paths.root + "/build/postgres-template"
    let path = cache + "/\(version)-uid\(account.pointee.pw_uid)-layout\(templateLayout)"
    if FileManager.default.fileExists(atPath: path + "/PG_VERSION") { return path }
    try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
    let lock = open(cache + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard lock >= 0 else { throw TestFailure("cannot open \(cache)/.lock") }
    defer { close(lock) }
    try Self.waitUntil("the lock of \(cache)", seconds: 300) { flock(lock, LOCK_EX | LOCK_NB) == 0 }
    if FileManager.default.fileExists(atPath: path + "/PG_VERSION") { return path }
    // What a process that died while making one left.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? [] where name.hasPrefix(".staging-") {
      try? FileManager.default.removeItem(atPath: cache + "/" + name)
    }

    let work = parentDirectory + "/lockstep-pg-template-" + UUID().uuidString.lowercased()
    try makeDirectoryForPostgres(work)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let data = work + "/data"
    try writeForPostgres(work + "/password", randomPassword() + "\n")
    let initdb = try runAsPostgres(
      "initdb",
      [
        "-D", data, "--auth-host=scram-sha-256", "--auth-local=trust", "--username=postgres",
        "--pwfile=" + work + "/password", "-E", "UTF8", "--locale=C",
      ], in: work)
    guard initdb.status == 0 else { throw TestFailure("initdb failed: \(initdb.output)\(initdb.error)") }
    let settings = "listen_addresses = ''\nunix_socket_directories = '\(work)'\ndynamic_shared_memory_type = mmap\n"
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/postgresql.conf"))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(settings.utf8))
    try handle.close()
    let started = try pgCtl(["start", "-w", "-t", "30", "-D", data, "-l", work + "/log"], in: work)
    guard started.status == 0 else {
      throw TestFailure(
        "pg_ctl start failed: \(started.output)\n"
          + ((try? String(contentsOfFile: work + "/log", encoding: .utf8)) ?? ""))
    }
    var stopped = false
    defer {
      if !stopped { _ = try? pgCtl(["stop", "-m", "immediate", "-w", "-D", data], in: work) }
    }
    let setup = try runAsPostgres(
      "psql",
      [
        "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", work, "-U", "postgres", "-d", "postgres",
        "-c", "CREATE ROLE lockstep LOGIN",
        "-c", "CREATE ROLE lockstep_cert LOGIN",
        "-c", "GRANT lockstep TO lockstep_cert",
        "-c", "CREATE ROLE replicator REPLICATION LOGIN",
        "-c", "CREATE DATABASE lockstep OWNER lockstep",
        "-c", "ALTER ROLE lockstep_cert IN DATABASE lockstep SET role = 'lockstep'",
      ], in: work)
    guard setup.status == 0 else { throw TestFailure("the template's roles and database: \(setup.error)") }
    let stop = try pgCtl(["stop", "-m", "fast", "-w", "-t", "60", "-D", data], in: work)
    guard stop.status == 0 else { throw TestFailure("pg_ctl stop failed: \(stop.output)") }
    stopped = true

    let staging = cache + "/.staging-" + UUID().uuidString.lowercased()
    let copy = try runCommand("/bin/cp", ["-a", data, staging])
    guard copy.status == 0 else { throw TestFailure("cannot copy the template: \(copy.error)") }
    sync()
    guard rename(staging, path) == 0 else {
      try? FileManager.default.removeItem(atPath: staging)
      throw TestFailure("cannot rename \(staging) to \(path): \(String(cString: strerror(errno)))")
    }
    return path
  }

  // MARK: - Helpers

  /// Runs one of the PostgreSQL programs as the `postgres` user in `directory`, with an
  /// environment of its own (no PG* variable of the test process reaches it).
  private static func runAsPostgres(
    _ program: String, _ arguments: [String], in directory: String
  ) throws
    -> CommandResult
  {
    try runCommand("/usr/bin/env", asPostgres(program, in: directory) + arguments)
  }

  /// Runs `pg_ctl` like `runAsPostgres`, but with `Child`, whose children inherit no
  /// descriptor: `Process` learns that its child has exited when a socket it gives the child
  /// closes, and a postmaster started by pg_ctl would hold that socket open for as long as it
  /// runs. Standard output and error are both in `output`.
  private static func pgCtl(_ arguments: [String], in directory: String) throws -> CommandResult {
    let child = try Child(
      "/usr/bin/env", asPostgres("pg_ctl", in: directory) + arguments,
      output: directory + "/pg_ctl-\(UUID().uuidString).out")
    let result = child.wait()
    unlink(child.outputPath)
    return result
  }

  /// The arguments of `env` that run `program` as the `postgres` user in `directory` with an
  /// environment of its own (PATH, and the C locale and UTC).
  private static func asPostgres(_ program: String, in directory: String) -> [String] {
    [
      "-i", "-C", directory, "PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", "/usr/bin/setpriv", "--reuid=postgres",
      "--regid=postgres", "--init-groups", binaries + "/" + program,
    ]
  }

  /// Creates `path` with mode 0700, gives it to the `postgres` user, and writes in it which
  /// process made it (`owner`, see `removeLeftovers`).
  private static func makeDirectoryForPostgres(_ path: String) throws {
    try FileManager.default.createDirectory(
      atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    try giveToPostgres(path)
    guard let identity = processIdentity(getpid()),
      FileManager.default.createFile(atPath: path + "/owner", contents: Data(identity.utf8))
    else { throw TestFailure("cannot write \(path)/owner") }
  }

  /// Writes `text` to `path`, mode 0600, owned by the `postgres` user.
  private func writeForPostgres(_ path: String, _ text: String) throws { try Self.writeForPostgres(path, text) }

  private static func writeForPostgres(_ path: String, _ text: String) throws {
    guard
      FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    else { throw TestFailure("cannot write \(path)") }
    try giveToPostgres(path)
  }

  private static func giveToPostgres(_ path: String) throws {
    guard let account = getpwnam("postgres") else { throw TestFailure("there is no user postgres") }
    guard chown(path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
      throw TestFailure("chown \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// 32 characters from [A-Za-z0-9].
  private static func randomPassword() -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
  }

  /// `text` percent-encoded for a URL's query (paths here have no such characters, but a
  /// different temporary directory might).
  private static func encoded(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~/")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
  }

  private static let portLock = NSLock()
  nonisolated(unsafe) private static var portsGiven: Set<Int> = []

  /// A free port of 127.0.0.1, as the kernel chooses one for port 0, and never one given before
  /// in this process (two servers starting at once could otherwise be given the same).
  static func freePort() throws -> Int {
    for _ in 0..<100 {
      let (socket, port) = try boundLoopbackSocket()
      close(socket)
      let isNew = portLock.withLock { portsGiven.insert(port).inserted }
      if isNew { return port }
    }
    throw TestFailure("no free port found")
  }

  /// Whether `pid` is a process that has not exited (a zombie has: PID 1 here may take a while
  /// to reap the postmasters, whose parent, pg_ctl, is gone).
  static func isRunning(_ pid: pid_t) -> Bool {
    guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let end = stat.lastIndex(of: ")")
    else { return false }
    return stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).first != "Z"
  }

  /// Calls `condition` until it is true, failing after `seconds` (a watchdog) with `what`; the
  /// last error `condition` threw, if any, is part of the failure.
  static func waitUntil(_ what: String, seconds: Double, _ condition: () throws -> Bool) throws {
    let deadline = monotonicSeconds() + seconds
    var lastError: (any Error)?
    while true {
      do {
        if try condition() { return }
      } catch {
        lastError = error
      }
      if monotonicSeconds() > deadline {
        throw TestFailure("timed out after \(seconds) s waiting for \(what)" + (lastError.map { ": \($0)" } ?? ""))
      }
      usleep(2000)
    }
  }
}
