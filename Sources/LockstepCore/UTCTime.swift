/// Unix times as ISO 8601 UTC text (`2026-12-01T21:45:00Z`) for log lines, without the C
/// library's time zone machinery (which reads `TZ` and files from the host).
public enum UTCTime {
  /// `unixTime` as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar; years before 1 or
  /// after 9999 are shown as they fall, with more or fewer digits).
  public static func iso8601(_ unixTime: Int64) -> String {
    let days = floorDivide(unixTime, 86_400)
    let seconds = unixTime - days * 86_400
    let (year, month, day) = civil(fromDays: days)
    return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(seconds / 3600, 2) + ":"
      + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2) + "Z"
  }

  /// The Unix time of a UTC date and time (proleptic Gregorian calendar), the inverse of
  /// `iso8601`; fields out of their ranges are not checked here.
  public static func unixTime(
    year: Int64, month: Int64, day: Int64, hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0
  ) -> Int64 {
    days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
  }

  /// The days from 1970-01-01 to a date (Howard Hinnant's days-from-civil algorithm).
  private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = floorDivide(shiftedYear, 400)
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  /// The date of the day `days` after 1970-01-01 (Howard Hinnant's days-to-civil algorithm).
  private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
    let z = days + 719_468
    let era = floorDivide(z, 146_097)
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : -((-a + b - 1) / b)
  }

  private static func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }
}
