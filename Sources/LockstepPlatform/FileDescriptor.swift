internal import CLockstepSystem
import LockstepCore

/// An open file descriptor, closed when the object dies, and the system calls the store makes
/// on it or relative to it (for a directory). Each call retries on `EINTR` and turns failure
/// into a `SystemError`; no other code in the project calls these functions directly.
final class FileDescriptor {
  let raw: Int32

  init(_ raw: Int32) { self.raw = raw }

  deinit { close(raw) }

  /// `openat(2)` relative to `directory` (or `AT_FDCWD`), always with `O_CLOEXEC`.
  static func open(
    _ name: [UInt8], in directory: Int32 = AT_FDCWD, flags: Int32, mode: mode_t = 0o600
  ) throws(SystemError) -> FileDescriptor {
    let fd = withCString(name) { path in
      retrying { lockstep_openat(directory, path, flags | O_CLOEXEC, mode) }
    }
    guard fd >= 0 else { throw SystemError("openat") }
    return FileDescriptor(fd)
  }

  /// `fstat(2)`.
  func status() throws(SystemError) -> stat {
    var st = stat()
    guard fstat(raw, &st) == 0 else { throw SystemError("fstat") }
    return st
  }

  /// `fstatat(2)` of `name` in this directory, without following a link.
  func status(of name: [UInt8]) throws(SystemError) -> stat {
    var st = stat()
    guard withCString(name, { fstatat(raw, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else { throw SystemError("fstatat") }
    return st
  }

  /// Reads exactly `count` bytes into secret storage with `read(2)`, failing if the file is
  /// shorter or longer than that.
  func readAll(count: Int) throws(SystemError) -> SecretBytes {
    let buffer = SecretBytes(count: count)
    let done = try buffer.withUnsafeMutableBytes { out throws(SystemError) in
      guard let base = out.baseAddress else { return 0 }
      return try transfer("read", count: count) { done in read(raw, base + done, count - done) }
    }
    // The size from fstat must be the whole file: nothing may follow it.
    var extra: UInt8 = 0
    let after = try transfer("read", count: 1) { _ in read(raw, &extra, 1) }
    guard done == count, after == 0 else { throw SystemError("read", code: EIO) }
    return buffer
  }

  /// Reads from the current position to the end of the file (front to back, as `/proc` files
  /// must be read), at most `limit` bytes.
  func readToEnd(limit: Int) throws(SystemError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: limit)
    let done = try withMutableBytes(of: &bytes) { out throws(SystemError) in
      guard let base = out.baseAddress else { return 0 }
      return try transfer("read", count: out.count) { done in read(raw, base + done, out.count - done) }
    }
    return Array(bytes.prefix(done))
  }

  /// Writes all of `bytes` with `write(2)`.
  func writeAll(_ bytes: SecretBytes) throws(SystemError) {
    try bytes.withUnsafeBytes { data throws(SystemError) in try write(data, at: nil) }
  }

  /// Reads up to `count` bytes at `offset` with `pread(2)`; fewer only at the end of the file.
  func readBytes(count: Int, at offset: Int) throws(SystemError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: count)
    let done = try withMutableBytes(of: &buffer) { out throws(SystemError) in
      guard let base = out.baseAddress else { return 0 }
      return try transfer("pread", count: count) { done in pread(raw, base + done, count - done, off_t(offset + done)) }
    }
    return Array(buffer.prefix(done))
  }

  /// Writes all of `bytes` at `offset` with `pwrite(2)`.
  func writeBytes(_ bytes: [UInt8], at offset: Int) throws(SystemError) {
    let result = bytes.withUnsafeBytes { data in Result { () throws(SystemError) in try write(data, at: offset) } }
    try result.get()
  }

  /// The one write loop: `write(2)` at the current position, or `pwrite(2)` at `offset`, until
  /// every byte is written (a call that writes nothing is a failure).
  private func write(_ data: UnsafeRawBufferPointer, at offset: Int?) throws(SystemError) {
    guard let base = data.baseAddress else { return }
    let call = offset == nil ? "write" : "pwrite"
    let done = try transfer(call, count: data.count) { done in
      if let offset { return pwrite(raw, base + done, data.count - done, off_t(offset + done)) }
      return CLockstepSystem.write(raw, base + done, data.count - done)
    }
    guard done == data.count else { throw SystemError(call, code: EIO) }
  }

  /// `fsync(2)`.
  func sync() throws(SystemError) {
    guard retrying({ fsync(raw) }) == 0 else { throw SystemError("fsync") }
  }

  /// `fdatasync(2)`: the file's data, and the metadata needed to read it back, are durable.
  func syncData() throws(SystemError) {
    guard retrying({ fdatasync(raw) }) == 0 else { throw SystemError("fdatasync") }
  }

  /// `posix_fallocate(3)` of the first `size` bytes: the file is at least that long, and its
  /// blocks are allocated.
  func allocate(size: Int) throws(SystemError) {
    let failure = posix_fallocate(raw, 0, off_t(size))
    guard failure == 0 else { throw SystemError("posix_fallocate", code: failure) }
  }

  /// `fchmod(2)`.
  func setMode(_ mode: mode_t) throws(SystemError) {
    guard fchmod(raw, mode) == 0 else { throw SystemError("fchmod") }
  }

  /// `fchown(2)` to root's user and group: a file the store creates takes the creator's group,
  /// and under sudo that is the user's, not root's.
  func giveToRoot() throws(SystemError) {
    guard fchown(raw, 0, 0) == 0 else { throw SystemError("fchown") }
  }

  /// `flock(2)` with `LOCK_EX | LOCK_NB`: takes the lock if no one holds it; `false` if
  /// someone does. Never waits.
  func tryLockExclusively() throws(SystemError) -> Bool {
    if retrying({ flock(raw, LOCK_EX | LOCK_NB) }) == 0 { return true }
    if errno == EWOULDBLOCK { return false }
    throw SystemError("flock")
  }

  /// `unlinkat(2)` of `name` in this directory; `false` when there was no such entry.
  @discardableResult
  func remove(_ name: [UInt8]) throws(SystemError) -> Bool {
    if withCString(name, { unlinkat(raw, $0, 0) }) == 0 { return true }
    if errno == ENOENT { return false }
    throw SystemError("unlinkat")
  }

  /// `renameat(2)` of `name` to `newName`, both in this directory.
  func rename(_ name: [UInt8], to newName: [UInt8]) throws(SystemError) {
    let renamed = withCString(name) { from in withCString(newName) { to in renameat(raw, from, raw, to) } }
    guard renamed == 0 else { throw SystemError("renameat") }
  }

  /// `linkat(2)` of `name` as `newName`, both in this directory; `false` when `newName`
  /// exists (it is never replaced).
  func link(_ name: [UInt8], as newName: [UInt8]) throws(SystemError) -> Bool {
    let linked = withCString(name) { from in withCString(newName) { to in linkat(raw, from, raw, to, 0) } }
    if linked == 0 { return true }
    if errno == EEXIST { return false }
    throw SystemError("linkat")
  }

  /// The target of the symbolic link `name` in this directory (`readlinkat(2)`).
  func linkTarget(_ name: [UInt8]) throws(SystemError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
    let count = withCString(name) { link in
      buffer.withUnsafeMutableBufferPointer { out in
        out.baseAddress.map {
          readlinkat(raw, link, UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self), out.count)
        } ?? -1
      }
    }
    guard count >= 0 else { throw SystemError("readlinkat") }
    guard count < buffer.count else { throw SystemError("readlinkat", code: ENAMETOOLONG) }
    return Array(buffer.prefix(count))
  }

  /// The names of the entries of this directory but `.` and `..` (`readdir(3)` on a duplicate
  /// of the descriptor, read from the start).
  func entryNames() throws(SystemError) -> [[UInt8]] {
    let copy = lockstep_duplicate(raw)
    guard copy >= 0 else { throw SystemError("fcntl") }
    guard let stream = fdopendir(copy) else {
      let failure = SystemError("fdopendir")
      close(copy)
      throw failure
    }
    rewinddir(stream)
    defer { closedir(stream) }
    var names: [[UInt8]] = []
    while true {
      lockstep_set_errno(0)
      guard let entry = readdir(stream) else {
        if errno != 0 { throw SystemError("readdir") }
        return names
      }
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
      if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { names.append(name) }
    }
  }

  /// Creates the directory `path` with `mkdir(2)` (the umask applies); `false` when it exists.
  static func makeDirectory(_ path: [UInt8], mode: mode_t) throws(SystemError) -> Bool {
    if withCString(path, { mkdir($0, mode) }) == 0 { return true }
    if errno == EEXIST { return false }
    throw SystemError("mkdir")
  }

  /// The working directory (`getcwd(3)`).
  static func workingDirectory() throws(SystemError) -> [UInt8] {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    guard getcwd(&buffer, buffer.count) != nil else { throw SystemError("getcwd") }
    return buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  }
}
