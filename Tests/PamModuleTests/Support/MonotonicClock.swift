import Foundation

/// Seconds on the monotonic clock, for deadlines and run times (the wall clock can jump).
func monotonicSeconds() -> Double {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
