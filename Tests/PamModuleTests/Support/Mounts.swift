import Foundation

/// A small file system of its own under the store, to fill up or make read-only.
extension Sandbox {
  /// Mounts a fresh tmpfs of `size` (such as `256k`) on the store directory, owned by root with
  /// mode 0700 like a real store.
  func mountStore(size: String) throws {
    let mounted = try runCommand("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", store])
    guard mounted.status == 0 else { throw TestFailure("cannot mount a tmpfs on the store: \(mounted.error)") }
    storeIsMounted = true
  }

  /// Remounts the store's tmpfs read-only, or read-write again.
  func remountStore(readOnly: Bool) throws {
    let remounted = try runCommand("/bin/mount", ["-o", readOnly ? "remount,ro" : "remount,rw", store])
    guard remounted.status == 0 else { throw TestFailure("cannot remount the store: \(remounted.error)") }
  }

  /// Fills the store's file system with a hidden file (which the store ignores) until the
  /// kernel says it is full, and returns the file's path.
  @discardableResult
  func fillStore() throws -> String {
    let path = store + "/.filler"
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw TestFailure("cannot create \(path)") }
    defer { close(fd) }
    let block = [UInt8](repeating: 0, count: 4096)
    while write(fd, block, block.count) > 0 {}
    guard errno == ENOSPC else { throw TestFailure("filling the store failed with errno \(errno), not ENOSPC") }
    return path
  }

  /// Unmounts the store (lazily, so that nothing a failed test left open can keep it mounted).
  func unmountStore() {
    _ = umount2(store, Int32(MNT_DETACH))
    storeIsMounted = false
  }
}
