internal import CLockstepSystem
import LockstepCore

/// Who holds the `flock(2)` lock on a file, from `/proc/locks`: for the message that says why
/// a user's lock could not be taken. Read only after a wait has timed out, never on the way
/// of a login that got its lock.
enum LockHolder {
  /// `pid 1234 (su, stopped)` for the process holding an `flock` on the file `st` describes,
  /// or `nil` when it cannot be told (no `/proc`, or the lock went away meanwhile).
  static func describe(_ st: stat) -> String? {
    guard let locks = contents(of: "/proc/locks") else { return nil }
    // /proc/locks prints each number of the device in hex, at least two digits.
    let device =
      hex(UInt64(lockstep_major(st.st_dev)), width: 2) + ":" + hex(UInt64(lockstep_minor(st.st_dev)), width: 2)
    let inode = String(st.st_ino)
    for line in locks.split(separator: UInt8(ascii: "\n")) {
      // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; blocked waiters have "->" first.
      let fields = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
      guard fields.count >= 6, fields[1] == "FLOCK" else { continue }
      let parts = fields[5].split(separator: ":").map(String.init)
      guard parts.count == 3, parts[0] + ":" + parts[1] == device, parts[2] == inode, let pid = Int32(fields[4])
      else { continue }
      return "pid \(pid)" + (process(pid).map { " (\($0))" } ?? "")
    }
    return nil
  }

  /// The command name and, when it is not running or sleeping, the state of process `pid`.
  private static func process(_ pid: Int32) -> String? {
    guard let stat = contents(of: "/proc/\(pid)/stat"),
      let open = stat.firstIndex(of: UInt8(ascii: "(")), let close = stat.lastIndex(of: UInt8(ascii: ")")),
      open < close
    else { return nil }
    let name = LogText.escape(stat[(open + 1)..<close])
    let rest = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
    guard let state = rest.first?.first else { return name }
    switch state {
    case UInt8(ascii: "T"): return name + ", stopped"
    case UInt8(ascii: "t"): return name + ", stopped by a debugger"
    case UInt8(ascii: "D"): return name + ", waiting on a device"
    case UInt8(ascii: "Z"): return name + ", a zombie"
    default: return name
    }
  }

  /// The whole of a small `/proc` file, or `nil`.
  private static func contents(of path: String) -> [UInt8]? {
    guard let file = try? FileDescriptor.open(Array(path.utf8), flags: O_RDONLY) else { return nil }
    return try? file.readToEnd(limit: 1 << 20)
  }

  private static func hex(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }
}
