import Synchronization

/// The `service=` label: the PAM service's name as logged, for the first `limit` services seen;
/// `other` for any after them and for a name that is not a short printable word, so that a
/// client that makes up service names cannot grow the series without bound.
final class ServiceLabels: Sendable {
  private let limit: Int
  private let seen = Mutex<[String]>([])

  init(limit: Int) {
    self.limit = limit
  }

  /// The label for a line's `service=` value.
  func label(_ value: String?) -> String {
    guard let value, value != "-" else { return "none" }
    let printable = value.utf8.allSatisfy {
      $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
    }
    guard printable, value.utf8.count <= 64 else { return "other" }
    return seen.withLock { seen in
      if seen.contains(value) { return value }
      guard seen.count < limit else { return "other" }
      seen.append(value)
      return value
    }
  }
}
