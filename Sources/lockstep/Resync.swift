import ArgumentParser
import LockstepCore
import LockstepPlatform

/// `lockstep resync USER`: re-anchors a drifted token from two consecutive codes.
struct Resync: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Re-synchronise a drifted token from two consecutive codes read from standard input.",
    discussion: """
      For a counter-based (HOTP) token, the two codes are searched for up to --lookahead \
      counter values ahead, and the counter is set after the second. For a time-based (TOTP) \
      token, give the code shown now and then the next one; they are searched for up to --range \
      time steps either side of the current step, and the device's clock offset is recorded. \
      Neither code can be used again afterwards. Exits with status 1 if the codes are not found.
      """)

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var userArgument: UserArgument

  @Option(name: .long, help: "TOTP: how many time steps either side of now to search, 1 to 10000.")
  var range = 120

  @Option(name: .long, help: "HOTP: how many counter values ahead to search, 1 to 100000.")
  var lookahead = 1000

  func validate() throws {
    guard (1...10_000).contains(range) else { throw ValidationError("--range must be between 1 and 10000") }
    guard (1...100_000).contains(lookahead) else { throw ValidationError("--lookahead must be between 1 and 100000") }
  }

  func run() throws {
    let store = try storeOptions.records()
    let user = try userArgument.name()
    guard try store.record(of: user).parameters.kind != .delivered else {
      throw Failure("\(user)'s codes are sent to them; there is no device to resynchronise", code: Exit.refused)
    }
    let first = try Input.code(prompt: "First code: ")
    let second = try Input.code(prompt: "Next code: ")
    let now = SystemClock.now()
    var message = ""
    try store.update(user) { record throws(Failure) in
      let p = record.parameters
      func matches(_ typed: SecretBytes, at counter: Int64) -> Bool {
        guard counter >= 0,
          var expected = OneTimePassword.text(
            secret: record.secret, counter: UInt64(counter), algorithm: p.algorithm, digits: p.digits, crypto: crypto)
        else { return false }
        defer { wipe(&expected) }
        return typed.withUnsafeBytes { a in expected.withUnsafeBytes { crypto.constantTimeEqual(a, $0) } }
      }
      switch p.kind {
      case .hotp:
        let start = Int64(clamping: record.counter)
        let end = min(start + Int64(lookahead), Int64(UserRecord.largestCounter) - 2)
        guard start <= end,
          let found = (start...end).first(where: { matches(first, at: $0) && matches(second, at: $0 + 1) })
        else {
          throw Failure(
            "the two codes are not consecutive codes within \(lookahead) counter values", code: Exit.refused)
        }
        record.counter = UInt64(found + 2)
        message = "Resynchronised \(user): the next counter value is \(found + 2) (it was \(start))."
      case .totp:
        let current = p.timeStep(at: now)
        // The second code is the one the device shows now: its step is the device's current step.
        let candidates = (-Int64(range)...Int64(range)).sorted { abs($0) < abs($1) }
        guard
          let offset = candidates.first(where: {
            matches(first, at: current + $0 - 1) && matches(second, at: current + $0)
          })
        else {
          throw Failure(
            "the two codes are not consecutive codes within \(range) time steps of now", code: Exit.refused)
        }
        let step = current + offset
        if let last = record.lastStep, step - 1 <= last {
          throw Failure("the codes were already used (time step \(step - 1) or earlier)", code: Exit.refused)
        }
        record.offset = offset
        record.lastStep = step
        message =
          "Resynchronised \(user): the device's clock runs \(abs(offset)) time steps "
          + (offset >= 0 ? "ahead" : "behind") + " (\(abs(offset) * Int64(p.period)) seconds)."
      case .delivered: break  // Refused above, before the codes were asked for.
      }
    }
    print(message)
  }
}
