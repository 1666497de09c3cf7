import LockstepCore
import Testing

@Suite("UTCTime")
struct UTCTimeTests {
  /// Expected values from Python's `datetime.fromtimestamp(t, UTC)`, an implementation of the
  /// calendar independent of this one: the epoch, a leap day and the second before it, a time
  /// from the module's tests, and a century that is not a leap year.
  @Test(
    arguments: [
      (Int64(0), "1970-01-01T00:00:00Z"), (951_782_399, "2000-02-28T23:59:59Z"), (951_782_400, "2000-02-29T00:00:00Z"),
      (1_750_000_900, "2025-06-15T15:21:40Z"), (4_102_444_800, "2100-01-01T00:00:00Z"),
    ])
  func iso8601(unixTime: Int64, expected: String) {
    #expect(UTCTime.iso8601(unixTime) == expected)
  }

  /// The same dates, from their parts (year, month, day, hour, minute, second) back to the
  /// Unix times Python gives.
  @Test(
    arguments: [
      [Int64(0), 1970, 1, 1, 0, 0, 0], [951_782_399, 2000, 2, 28, 23, 59, 59], [951_782_400, 2000, 2, 29, 0, 0, 0],
      [1_750_000_900, 2025, 6, 15, 15, 21, 40], [4_102_444_800, 2100, 1, 1, 0, 0, 0],
    ])
  func unixTime(parts: [Int64]) {
    #expect(
      UTCTime.unixTime(
        year: parts[1], month: parts[2], day: parts[3], hour: parts[4], minute: parts[5], second: parts[6]) == parts[0])
  }
}
