internal import CLockstepSystem
public import LockstepCore

/// A file others read while it is rewritten (the textfile metrics that node_exporter reads):
/// replaced whole, never seen half-written.
public enum PublishedFile {
  /// Replaces `name` in the directory `directory` with `contents`, readable by all (`0644`):
  /// written to a temporary file of its own beside it, synced, renamed over it, and the
  /// directory synced. The directory must exist; a temporary file left by a crash is replaced
  /// by the next write.
  public static func replace(_ name: String, in directory: String, with contents: [UInt8]) throws(StoreError) {
    let temporary = Array(("." + name + ".tmp").utf8)
    let path = directory + "/" + name
    do throws(SystemError) {
      let folder = try FileDescriptor.open(Array(directory.utf8), flags: O_RDONLY | O_DIRECTORY)
      _ = try folder.remove(temporary)
      let file = try FileDescriptor.open(temporary, in: folder.raw, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)
      try file.setMode(0o644)
      try file.writeAll(SecretBytes(contents))
      try file.sync()
      try folder.rename(temporary, to: Array(name.utf8))
      try folder.sync()
    } catch {
      throw .system(path: path, error)
    }
  }
}
