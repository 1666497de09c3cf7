internal import CLockstepSystem

/// The wall clock, read with `clock_gettime(CLOCK_REALTIME)`.
public enum SystemClock {
  /// Seconds since the Unix epoch.
  public static func now() -> Int64 {
    var ts = timespec()
    guard clock_gettime(CLOCK_REALTIME, &ts) == 0 else { return 0 }
    return Int64(ts.tv_sec)
  }
}
