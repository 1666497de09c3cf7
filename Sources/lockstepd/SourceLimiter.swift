import Foundation
import LockstepCore

/// Counts the codes sent on behalf of each source address (the module's `rhost`; empty for a
/// local login) across all users, in windows of `sendWindowSeconds`, so that someone spraying
/// user names from one address cannot run up the SMS bill. Kept in the agent's memory: a
/// restart starts every window afresh.
final class SourceLimiter: @unchecked Sendable {
  private let limits: DeliveryLimits
  private let lock = NSLock()
  /// By source: when its window began, and the sends in it.
  private var windows: [String: (start: Int64, sends: Int)] = [:]
  /// Beyond this many sources, those whose window has ended are forgotten; when that many are
  /// all within their windows (an attack from many addresses), a new source is refused until
  /// some end, so that neither the memory nor the bill grows without bound.
  private static let sourcesKept = 10_000

  init(limits: DeliveryLimits) {
    self.limits = limits
  }

  /// Counts a send for `source` at `now`, or, when its window is full, returns when the
  /// window ends (and counts nothing).
  func take(_ source: String, now: Int64) -> Int64? {
    lock.lock()
    defer { lock.unlock() }
    let length = Int64(limits.sendWindowSeconds)
    if windows.count >= Self.sourcesKept {
      windows = windows.filter { now < $0.value.start.saturatingAdd(length) }
    }
    if windows.count >= Self.sourcesKept && windows[source] == nil { return now.saturatingAdd(length) }
    var window = windows[source] ?? (start: now, sends: 0)
    if now >= window.start.saturatingAdd(length) || now < window.start { window = (start: now, sends: 0) }
    guard window.sends < limits.sendsPerSource else { return window.start.saturatingAdd(length) }
    window.sends += 1
    windows[source] = window
    return nil
  }
}
