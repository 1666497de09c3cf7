import Foundation
import Testing

/// The promises of powercut-fs (Tests/PamModuleTests/PowerCut/README.md), checked with plain
/// system calls: what is synced survives a cut, what is not synced does not, and a cut can tear
/// a pending write. Each test also looks at the live state before the cut, so that a file
/// system that lost everything, or kept everything, fails.
@Suite struct PowerCutDiskTests {
  /// A disk mounted on a fresh sandbox's store.
  static func mounted() throws -> PowerCutDisk {
    let disk = try PowerCutDisk(on: Sandbox())
    try disk.mount()
    return disk
  }

  @Test func syncedWriteAndDirectoryEntrySurviveACut() throws {
    let disk = try Self.mounted()
    try disk.writeFile("a", Array("synced".utf8), sync: true)
    try disk.syncDirectory()
    try disk.cut(.drop, seed: 1)
    try disk.remount()
    #expect(try disk.readFile("a") == Array("synced".utf8))
  }

  @Test func unsyncedOverwriteIsLostAndTheSyncedContentsStay() throws {
    let disk = try Self.mounted()
    try disk.writeFile("a", Array("old contents".utf8), sync: true)
    try disk.syncDirectory()
    try disk.writeFile("a", Array("NEW".utf8), sync: false, truncate: false)
    #expect(try disk.readFile("a") == Array("NEW contents".utf8), "the live state shows the write at once")
    try disk.cut(.drop, seed: 1)
    try disk.remount()
    #expect(try disk.readFile("a") == Array("old contents".utf8))
  }

  @Test func createWithoutADirectorySyncIsLostEvenIfTheFileWasSynced() throws {
    let disk = try Self.mounted()
    try disk.writeFile("kept", Array("1".utf8), sync: true)
    try disk.syncDirectory()
    try disk.writeFile("lost", Array("2".utf8), sync: true)
    #expect(try disk.readFile("lost") == Array("2".utf8))
    try disk.cut(.drop, seed: 1)
    try disk.remount()
    #expect(try disk.readFile("kept") == Array("1".utf8))
    #expect(try disk.readFile("lost") == nil)
  }

  @Test func renameWithoutADirectorySyncIsUndoneAndWithOneIsKept() throws {
    for syncDirectory in [false, true] {
      let disk = try Self.mounted()
      try disk.writeFile("record", Array("old".utf8), sync: true)
      try disk.writeFile(".record.tmp", Array("new".utf8), sync: true)
      try disk.syncDirectory()
      try disk.rename(".record.tmp", to: "record")
      if syncDirectory { try disk.syncDirectory() }
      #expect(try disk.readFile("record") == Array("new".utf8))
      try disk.cut(.drop, seed: 1)
      try disk.remount()
      let expected = syncDirectory ? "new" : "old"
      #expect(try disk.readFile("record") == Array(expected.utf8), "with a directory sync: \(syncDirectory)")
      #expect(try disk.readFile(".record.tmp") == (syncDirectory ? nil : Array("new".utf8)))
    }
  }

  @Test func renameOfAnUnsyncedFileCanLeaveAnEmptyRecordBehind() throws {
    // The classic bug: write, rename, sync the directory, but never sync the file.
    let disk = try Self.mounted()
    try disk.writeFile(".record.tmp", Array("new".utf8), sync: false)
    try disk.rename(".record.tmp", to: "record")
    try disk.syncDirectory()
    try disk.cut(.drop, seed: 1)
    try disk.remount()
    #expect(try disk.readFile("record") == [])
  }

  @Test func everyOperationAfterTheCutFailsWithEIO() throws {
    let disk = try Self.mounted()
    let fd = open(disk.mountPoint + "/a", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    try #require(fd >= 0)
    defer { close(fd) }
    try disk.cut(.drop, seed: 1)
    #expect(write(fd, "x", 1) == -1 && errno == EIO)
    #expect(fsync(fd) == -1 && errno == EIO)
    #expect(open(disk.mountPoint + "/b", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600) == -1 && errno == EIO)
  }

  @Test func cleanUnmountKeepsWhatWasNotSynced() throws {
    let disk = try Self.mounted()
    try disk.writeFile("a", Array("unsynced".utf8), sync: false)
    try disk.remount()
    #expect(try disk.readFile("a") == Array("unsynced".utf8))
  }

  @Test func prefixModeKeepsAPrefixOfThePendingWritesAndSometimesTearsOne() throws {
    let old = [UInt8](repeating: 0x2e, count: 4096)
    let new = (0..<4096).map { UInt8(0x41 + $0 % 26) }
    var kept: [Int] = []
    for seed in UInt64(1)...12 {
      let disk = try Self.mounted()
      try disk.writeFile("a", old, sync: true)
      try disk.syncDirectory()
      try disk.writeFile("a", new, sync: false)
      try disk.cut(.prefix, seed: seed)
      try disk.remount()
      let after = try #require(try disk.readFile("a"))
      // New bytes up to some point, then the old ones: nothing else.
      let prefix = zip(after, new).prefix { $0 == $1 }.count
      #expect(after.count == 4096 && Array(after[prefix...]) == Array(old[prefix...]), "seed \(seed)")
      kept.append(prefix)
    }
    #expect(kept.contains { $0 > 0 && $0 < 4096 }, "no torn write in 12 cuts: \(kept)")
    #expect(Set(kept).count > 2, "the cut does not vary with the seed: \(kept)")
  }

  @Test func blocksModeKeepsEachBlockOrNotAndSometimesAMix() throws {
    let block = 512
    let old = [UInt8](repeating: 0x2e, count: 8 * block)
    let new = [UInt8](repeating: 0x4e, count: 8 * block)
    var mixes = 0
    for seed in UInt64(1)...8 {
      let disk = try Self.mounted()
      try disk.writeFile("a", old, sync: true)
      try disk.syncDirectory()
      try disk.writeFile("a", new, sync: false)
      try disk.cut(.blocks, seed: seed)
      try disk.remount()
      let after = try #require(try disk.readFile("a"))
      try #require(after.count == old.count)
      let blocks = stride(from: 0, to: after.count, by: block).map { Array(after[$0..<$0 + block]) }
      let whole = blocks.allSatisfy { $0 == Array(old.prefix(block)) || $0 == Array(new.prefix(block)) }
      #expect(whole, "a block is neither old nor new, seed \(seed)")
      if Set(blocks).count == 2 { mixes += 1 }
    }
    #expect(mixes > 0, "no cut in 8 kept some blocks and lost others")
  }

  @Test func aCutAimedJustBeforeTheSyncLosesTheWriteAndOneAfterItDoesNot() throws {
    // dd writes once and syncs once (conv=fsync): change 1 is the write, 2 the fsync.
    for (pauseAt, expected) in [(2, "old"), (3, "new")] {
      let disk = try Self.mounted()
      try disk.writeFile("a", Array("old".utf8), sync: true)
      try disk.syncDirectory()
      let input = disk.sandbox.root + "/input"
      try "new".write(toFile: input, atomically: true, encoding: .utf8)
      try disk.arm(atChange: pauseAt)
      let writer = try Child(
        "/bin/dd", ["if=" + input, "of=" + disk.mountPoint + "/a", "conv=notrunc,fsync", "status=none"],
        output: disk.sandbox.root + "/dd.out")
      defer { writer.kill() }
      let deadline = monotonicSeconds() + PowerCutDisk.deadline
      var paused: (operation: String, process: pid_t)?
      while paused == nil && !writer.hasExited && monotonicSeconds() < deadline {
        paused = try disk.pausedOperation()
        usleep(1000)
      }
      if pauseAt == 2 {
        #expect(paused?.operation == "fsync" && paused?.process == writer.pid, "\(String(describing: paused))")
        kill(writer.pid, SIGKILL)
      } else {
        #expect(paused == nil && writer.wait().status == 0)
      }
      try disk.cut(.drop, seed: 1)
      writer.kill()
      try disk.remount()
      #expect(try disk.readFile("a") == Array(expected.utf8), "paused at change \(pauseAt)")
    }
  }

  @Test func aFileSystemWhoseTestEndedUnmountsItself() throws {
    // The deinit kills by pid; this checks the other way out, a lost control FIFO, through a
    // daemon that this test starts without the usual object.
    let sandbox = try Sandbox()
    let control = sandbox.root + "/control"
    let reply = sandbox.root + "/reply"
    try FileManager.default.createDirectory(atPath: sandbox.root + "/backing", withIntermediateDirectories: false)
    try #require(mkfifo(control, 0o600) == 0 && mkfifo(reply, 0o600) == 0)
    var controlFD = open(control, O_RDWR | O_CLOEXEC)
    let replyFD = open(reply, O_RDWR | O_CLOEXEC)
    defer {
      if controlFD >= 0 { close(controlFD) }
      close(replyFD)
    }
    let daemon = try Child(
      Paths.powerCutFS, ["--control", control, "--reply", reply, sandbox.root + "/backing", sandbox.store],
      output: sandbox.root + "/powercut.log")
    defer {
      daemon.kill()
      _ = umount2(sandbox.store, Int32(MNT_DETACH))
    }
    var byte: UInt8 = 0
    var line = ""
    while !line.hasSuffix("\n") {
      var waiting = pollfd(fd: replyFD, events: Int16(POLLIN), revents: 0)
      try #require(poll(&waiting, 1, Int32(PowerCutDisk.deadline * 1000)) == 1, "no ready line")
      try #require(read(replyFD, &byte, 1) == 1)
      line.append(Character(UnicodeScalar(byte)))
    }
    #expect(line == "ready\n")
    close(controlFD)
    controlFD = -1
    let deadline = monotonicSeconds() + PowerCutDisk.deadline
    while !daemon.hasExited && monotonicSeconds() < deadline { usleep(1000) }
    #expect(daemon.hasExited, "powercut-fs is still running with no one left to control it")
    let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
    #expect(!mounts.contains(" " + sandbox.store + " "))
  }
}

extension PowerCutDisk {
  /// Unmounts and mounts again on the same backing directory: a reboot.
  func remount() throws {
    try unmount()
    try mount()
  }

  /// Writes `bytes` at the start of `name` (created `0600` if missing), optionally replacing
  /// what was there, optionally with an `fsync` after.
  func writeFile(_ name: String, _ bytes: [UInt8], sync: Bool, truncate: Bool = true) throws {
    let fd = open(mountPoint + "/" + name, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o600)
    guard fd >= 0 else { throw TestFailure("open \(name): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard write(fd, bytes, bytes.count) == bytes.count else { throw TestFailure("write \(name) failed") }
    if sync && fsync(fd) != 0 { throw TestFailure("fsync \(name): \(String(cString: strerror(errno)))") }
  }

  /// `fsync` of the mounted directory.
  func syncDirectory() throws {
    let fd = open(mountPoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw TestFailure("open \(mountPoint) failed") }
    defer { close(fd) }
    if fsync(fd) != 0 { throw TestFailure("fsync of the directory: \(String(cString: strerror(errno)))") }
  }

  func rename(_ from: String, to: String) throws {
    guard Glibc.rename(mountPoint + "/" + from, mountPoint + "/" + to) == 0 else {
      throw TestFailure("rename \(from): \(String(cString: strerror(errno)))")
    }
  }

  /// The contents of `name`, or nil if it does not exist.
  func readFile(_ name: String) throws -> [UInt8]? {
    guard let data = FileManager.default.contents(atPath: mountPoint + "/" + name) else {
      if access(mountPoint + "/" + name, F_OK) != 0 && errno == ENOENT { return nil }
      throw TestFailure("cannot read \(name): \(String(cString: strerror(errno)))")
    }
    return Array(data)
  }
}
