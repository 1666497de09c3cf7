import ArgumentParser
import LockstepCore
import LockstepPlatform

#if canImport(Glibc)
  import Glibc
#endif

/// `lockstep seal`: seals the secret of every record of this host's store under the host key,
/// making the key first if there is none.
struct Seal: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Seal every record's secret under the host key, making the key first if there is none.",
    discussion: """
      The host key (--host-key, default \(HostKey.defaultPath)) is 32 random bytes in a file of \
      root's alone (mode 0400), outside the store. With it, a record holds its secret sealed \
      (AES-256-GCM, bound to the user's name) instead of in clear, so that a copy of the store, \
      such as a backup or a disk image, gives no secret away without the key. Each record in \
      clear is rewritten under the user's lock, with its state, replay watermark and backup \
      codes; a record sealed already is left as it is, so a second run changes nothing. From \
      then on lockstep seals every record it writes, and the module every record it rewrites; \
      records in clear stay readable (lockstep check warns about them). Keep a copy of the key \
      apart from the store's backups: without it, sealed records cannot be read, and every user \
      must be enrolled again. The fleet store seals its secrets with the fleet key already; this \
      command works on a store directory.
      """)

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var output: JSONOption

  func run() throws {
    try requireRoot()
    if case .agent(let agent) = try storeOptions.records() {
      throw Failure(
        "\(agent.storeName) seals every secret with the fleet key already; lockstep seal works on a store "
          + "directory (--store)", code: Exit.usage)
    }
    let created = try Self.makeKey(at: storeOptions.hostKey)
    guard case .directory(let store) = try storeOptions.records(), let key = store.hostKey else {
      throw Failure("the host key \(storeOptions.hostKey) is missing", code: Exit.storeUnusable)
    }
    let names = try RecordStore.directory(store).names()
    var sealed = 0
    var already = 0
    var problems: [String] = []
    for user in names {
      do {
        try store.whileLocked(user) { held throws(Failure) in
          do throws(StoreError) {
            guard let isSealed = try store.isSealed(user) else { return }
            if isSealed {
              already += 1
            } else if let record = try store.read(user, holding: held) {
              try store.write(record, holding: held)
              sealed += 1
            }
          } catch {
            throw .store(error)
          }
        }
      } catch {
        problems.append(error.message)
        if !output.json { printError("lockstep: \(user) was not sealed: \(error.message)") }
      }
    }
    if output.json {
      Output.printJSON([
        "hostKey": key.path, "created": created, "sealed": sealed, "alreadySealed": already, "problems": problems,
      ])
    } else {
      if created { print("Made the host key \(key.path) (keep a copy apart from the store's backups).") }
      print(
        "Sealed \(Output.counted(sealed, "record")) in \(store.path) under \(key.path)"
          + (already > 0 ? "; \(already) \(already == 1 ? "was" : "were") sealed already." : "."))
    }
    if !problems.isEmpty {
      throw Failure(
        "\(Output.counted(problems.count, "record")) could not be sealed (see above)", code: Exit.storeUnusable)
    }
  }

  /// Makes a host key at `path` (its directory too, root's alone, if missing) unless a file is
  /// there already; returns whether it made one. The key is written to a file of its own,
  /// synced, and linked into place, so that a crash never leaves a short key, and two runs at
  /// once never replace each other's.
  static func makeKey(at path: String) throws(Failure) -> Bool {
    if access(path, F_OK) == 0 { return false }
    guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else {
      throw Failure("the host key needs an absolute path, not \(path)", code: Exit.usage)
    }
    let directory = slash == path.startIndex ? "/" : String(path[..<slash])
    if mkdir(directory, 0o700) != 0 && errno != EEXIST {
      throw Failure("cannot make \(directory): \(String(cString: strerror(errno)))", code: Exit.storeUnusable)
    }
    guard var bytes = crypto.randomBytes(count: Sealing.keyLength) else {
      throw Failure("could not make a host key: the random generator failed", code: Exit.storeUnusable)
    }
    defer { wipe(&bytes) }
    let temporary = path + ".new-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o400)
    guard fd >= 0 else {
      throw Failure("cannot write \(temporary): \(String(cString: strerror(errno)))", code: Exit.storeUnusable)
    }
    defer { unlink(temporary) }
    let written = write(fd, bytes, bytes.count)
    let synced = fsync(fd) == 0
    close(fd)
    guard written == bytes.count, synced else {
      throw Failure("cannot write \(temporary): \(String(cString: strerror(errno)))", code: Exit.storeUnusable)
    }
    guard link(temporary, path) == 0 else {
      if errno == EEXIST { return false }
      throw Failure("cannot make \(path): \(String(cString: strerror(errno)))", code: Exit.storeUnusable)
    }
    let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if parent >= 0 {
      fsync(parent)
      close(parent)
    }
    return true
  }
}
