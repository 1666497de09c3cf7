import ArgumentParser
import LockstepCore
import LockstepPlatform

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

  /// Makes a host key at `path` (see `RootOnlyFile.create`) unless a file is there already;
  /// returns whether it made one.
  static func makeKey(at path: String) throws(Failure) -> Bool {
    guard let bytes = crypto.randomBytes(count: Sealing.keyLength) else {
      throw Failure("could not make a host key: the random generator failed", code: Exit.storeUnusable)
    }
    var key = bytes
    defer { wipe(&key) }
    do { return try RootOnlyFile.create(path, contents: SecretBytes(key)) } catch { throw .store(error) }
  }
}
