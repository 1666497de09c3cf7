import LockstepCore

#if canImport(Glibc)
  import Glibc
#endif

/// An open file descriptor, closed when the object dies. Thin wrappers over the system calls
/// the store needs, each retrying on `EINTR` and turning failure into a `SystemError`.
final class FileDescriptor {
  let raw: Int32

  init(_ raw: Int32) { self.raw = raw }

  deinit { close(raw) }

  /// `openat(2)` relative to `directory` (or `AT_FDCWD`), always with `O_CLOEXEC`.
  static func open(
    _ name: [UInt8], in directory: Int32 = AT_FDCWD, flags: Int32, mode: mode_t = 0o600
  ) throws(SystemError) -> FileDescriptor {
    let fd = withCString(name) { path in
      retrying { openat(directory, path, flags | O_CLOEXEC, mode) }
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

  /// Reads exactly `count` bytes into secret storage with `read(2)`, failing if the file is
  /// shorter or longer than that.
  func readAll(count: Int) throws(SystemError) -> SecretBytes {
    let buffer = SecretBytes(count: count)
    var done = 0
    var extra: UInt8 = 0
    let outcome: Int32 = buffer.withUnsafeMutableBytes { out in
      guard let base = out.baseAddress else { return EIO }
      while done < count {
        let n = retrying { read(raw, base + done, count - done) }
        if n < 0 { return errno }
        if n == 0 { return EIO }
        done += n
      }
      // The size from fstat must be the whole file.
      let n = retrying { read(raw, &extra, 1) }
      return n == 0 ? 0 : (n < 0 ? errno : EIO)
    }
    guard outcome == 0 else { throw SystemError("read", code: outcome) }
    return buffer
  }

  /// Writes all of `bytes` with `write(2)`.
  func writeAll(_ bytes: SecretBytes) throws(SystemError) {
    let outcome: Int32 = bytes.withUnsafeBytes { data in
      guard let base = data.baseAddress else { return EIO }
      var done = 0
      while done < data.count {
        let n = retrying { write(raw, base + done, data.count - done) }
        if n < 0 { return errno }
        done += n
      }
      return 0
    }
    guard outcome == 0 else { throw SystemError("write", code: outcome) }
  }

  /// Reads up to `count` bytes at `offset` with `pread(2)`; fewer only at the end of the file.
  func readBytes(count: Int, at offset: Int) throws(SystemError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: count)
    var done = 0
    let outcome: Int32 = buffer.withUnsafeMutableBytes { out in
      guard let base = out.baseAddress else { return 0 }
      while done < count {
        let n = retrying { pread(raw, base + done, count - done, off_t(offset + done)) }
        if n < 0 { return errno }
        if n == 0 { break }
        done += n
      }
      return 0
    }
    guard outcome == 0 else { throw SystemError("pread", code: outcome) }
    return Array(buffer.prefix(done))
  }

  /// Writes all of `bytes` at `offset` with `pwrite(2)`.
  func writeBytes(_ bytes: [UInt8], at offset: Int) throws(SystemError) {
    let outcome: Int32 = bytes.withUnsafeBytes { data in
      guard let base = data.baseAddress else { return 0 }
      var done = 0
      while done < data.count {
        let n = retrying { pwrite(raw, base + done, data.count - done, off_t(offset + done)) }
        if n < 0 { return errno }
        done += n
      }
      return 0
    }
    guard outcome == 0 else { throw SystemError("pwrite", code: outcome) }
  }

  /// `fsync(2)`.
  func sync() throws(SystemError) {
    guard retrying({ fsync(raw) }) == 0 else { throw SystemError("fsync") }
  }

  /// `fdatasync(2)`: the file's data, and the metadata needed to read it back, are durable.
  func syncData() throws(SystemError) {
    guard retrying({ fdatasync(raw) }) == 0 else { throw SystemError("fdatasync") }
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
}

/// Calls `body` with `bytes` as a NUL-terminated C string (the array-to-pointer conversion
/// keeps the storage alive for the duration of the call).
func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
  let terminated = bytes.map { CChar(bitPattern: $0) } + [0]
  return body(terminated)
}

/// Repeats a system call while it fails with `EINTR`.
func retrying<T: SignedInteger>(_ call: () -> T) -> T {
  while true {
    let result = call()
    if result >= 0 || errno != EINTR { return result }
  }
}
