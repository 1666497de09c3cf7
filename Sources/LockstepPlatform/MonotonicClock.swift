internal import CLockstepSystem

/// Time that only moves forward (`CLOCK_MONOTONIC`), for deadlines and delays: setting the
/// wall clock changes neither.
public enum MonotonicClock {
  /// Nanoseconds since an arbitrary point in the past (the machine's boot).
  public static func now() -> UInt64 {
    var ts = timespec()
    guard clock_gettime(CLOCK_MONOTONIC, &ts) == 0 else { return 0 }
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
  }

  /// Sleeps until `deadline` (a value of `now()`), and never longer than `longest`
  /// nanoseconds, even if the clock is stopped or runs wild (as a clock-faking library can
  /// make it): the sleep itself is relative. A signal that cuts it short does not end it.
  public static func sleep(until deadline: UInt64, longest: UInt64) {
    let now = now()
    sleep(nanoseconds: min(deadline > now ? deadline - now : 0, longest))
  }

  /// Sleeps `nanoseconds` (`nanosleep(2)`, resumed with what is left after a signal).
  public static func sleep(nanoseconds: UInt64) {
    guard nanoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
  }
}
