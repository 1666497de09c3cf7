internal import CLockstepSystem

/// The kernel's cryptographically secure generator, `getrandom(2)`: no file to open, and it
/// blocks only until the generator is seeded at boot.
public enum SystemRandom {
  /// `count` random bytes, or `nil` when the kernel refused.
  public static func bytes(count: Int) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: max(0, count))
    let done = try? withMutableBytes(of: &out) { buffer throws(SystemError) in
      guard let base = buffer.baseAddress else { return 0 }
      return try transfer("getrandom", count: buffer.count) { done in getrandom(base + done, buffer.count - done, 0) }
    }
    return done == out.count ? out : nil
  }
}
