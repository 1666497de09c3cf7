/// Durations as commands take them: a whole number and a unit, `90s`, `30m`, `72h`, `7d`.
enum DurationText {
  /// The seconds `text` spells, or `nil` when it is not such a duration (or is absurdly long).
  static func seconds(_ text: String) -> Int64? {
    let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    guard let unit = text.last.flatMap({ units[$0] }), let count = Int64(text.dropLast()), count >= 0,
      count <= Int64.max / unit / 2
    else { return nil }
    return count * unit
  }
}
