internal import CLockstepSystem
import LockstepCore

/// Opens the store directory by walking its path one component at a time from `/`, so that
/// nothing on the way can redirect the module to a directory someone else prepared.
///
/// - Every directory on the way must be owned by root and not writable by group or others,
///   unless it is sticky (as `/tmp` is, where no one else can rename or remove root's entries).
/// - A symbolic link on the way is followed only if root owns it (its directory has passed the
///   rule above, so no one else can have replaced it); its target is walked the same way.
/// - The store itself must be a directory owned by root that no one else can write to.
///
/// So a store path through a link that someone else planted in `/tmp` is refused, however
/// the link's target looks.
enum StorePath {
  /// The most symbolic links followed in one path, as the kernel allows (`ELOOP` beyond).
  static let maximumLinks = 40

  /// The store directory at `path`, checked, and the first sticky directory writable by others
  /// the walk passed through, if any.
  static func open(_ path: String) throws(StoreError) -> (FileDescriptor, writableAncestor: String?) {
    var absolute = Array(path.utf8)
    if absolute.first != UInt8(ascii: "/") {
      do { absolute = try FileDescriptor.workingDirectory() + [UInt8(ascii: "/")] + absolute } catch {
        throw .unusableDirectory(path: path, reason: error.description)
      }
    }
    var pending = components(of: absolute)
    var current = try directory(at: Array("/".utf8), from: AT_FDCWD, shownAs: "/", store: path)
    var shown = ""
    var writableAncestor: String?
    var links = 0
    while let name = pending.popLast() {
      if name == Array(".".utf8) { continue }
      let next = shown + "/" + LogText.escape(name)
      let st: stat
      do { st = try current.status(of: name) } catch {
        throw .unusableDirectory(path: path, reason: "\(next): \(error)")
      }
      if fileType(st.st_mode) == mode_t(S_IFLNK) {
        guard st.st_uid == 0 else {
          throw .unusableDirectory(
            path: path, reason: "\(next) is a symbolic link owned by uid \(st.st_uid), not by root")
        }
        links += 1
        guard links <= maximumLinks, let target = try? current.linkTarget(name), !target.isEmpty else {
          throw .unusableDirectory(path: path, reason: "\(next) is a symbolic link that cannot be followed")
        }
        pending += components(of: target)
        if target.first == UInt8(ascii: "/") {
          current = try directory(at: Array("/".utf8), from: AT_FDCWD, shownAs: "/", store: path)
          shown = ""
        }
        continue
      }
      if st.st_mode & mode_t(S_ISVTX) != 0 && st.st_mode & 0o002 != 0 && writableAncestor == nil {
        writableAncestor = next
      }
      current = try directory(at: name, from: current.raw, shownAs: next, store: path)
      shown = next
    }
    let st: stat
    do { st = try current.status() } catch { throw .unusableDirectory(path: path, reason: error.description) }
    if st.st_mode & 0o022 != 0 {
      throw .unusableDirectory(path: path, reason: "it is writable by group or others (mode \(octal(st.st_mode)))")
    }
    return (current, writableAncestor)
  }

  /// Opens the directory `name` in `parent` without following a link, and checks it: owned by
  /// root, and not writable by group or others unless sticky.
  private static func directory(
    at name: [UInt8], from parent: Int32, shownAs shown: String, store: String
  ) throws(StoreError) -> FileDescriptor {
    let file: FileDescriptor
    let st: stat
    do {
      file = try FileDescriptor.open(name, in: parent, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
      st = try file.status()
    } catch {
      let reason = error.code == ENOTDIR ? "\(shown) is not a directory" : "\(shown): \(error)"
      throw .unusableDirectory(path: store, reason: reason)
    }
    if st.st_uid != 0 {
      throw .unusableDirectory(path: store, reason: "\(shown) is not owned by root (uid \(st.st_uid))")
    }
    if st.st_mode & 0o022 != 0 && st.st_mode & mode_t(S_ISVTX) == 0 {
      throw .unusableDirectory(
        path: store, reason: "\(shown) is writable by group or others and not sticky (mode \(octal(st.st_mode)))")
    }
    return file
  }

  /// The non-empty components of `path`, last first (so that `popLast` gives the next one).
  private static func components(of path: [UInt8]) -> [[UInt8]] {
    path.split(separator: UInt8(ascii: "/")).map { Array($0) }.reversed()
  }
}
