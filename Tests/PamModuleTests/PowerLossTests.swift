import Foundation
import Testing

/// The power goes at a random moment while logins and administration commands run on a store
/// mounted through powercut-fs (see `PowerLossExperiment` for the actors and the checks, and
/// Tests/PamModuleTests/PowerCut/README.md for what a cut loses). After every cut and remount:
/// every record and state file reads; `lockstep check` finds nothing wrong; no code a login
/// reported accepted is accepted again (typed again through the driver, and the watermark at
/// or above it); a used backup code stays used; no more than `max_failures` wrong guesses are
/// checked between unlocks, summed over the cuts; an enrollment is one of those the commands
/// could have left, with no state from another; the next login with a fresh code works.
///
/// `LOCKSTEP_POWER_CUTS` sets the number of cuts (default 200, `make power-loss` runs 2,000),
/// `LOCKSTEP_POWER_SEED` the seed of the random choices (printed with the counts).
@Suite struct PowerLossTests {
  static let environment = ProcessInfo.processInfo.environment
  static let cuts = Int(environment["LOCKSTEP_POWER_CUTS"] ?? "") ?? 200
  static let seed = UInt64(environment["LOCKSTEP_POWER_SEED"] ?? "") ?? UInt64(monotonicSeconds() * 1e6)
  /// Independent stores, each with its own disk and actors, run side by side.
  static let stores = 2

  /// Tallies gathered from the stores' threads.
  final class Tallies: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var total = PowerLossTally()
    private(set) var failures: [String] = []

    func add(_ tally: PowerLossTally) { lock.withLock { total.add(tally) } }
    func fail(_ text: String) { lock.withLock { failures.append(text) } }
  }

  @Test func noAcceptedCodeIsAcceptedAgainAndNoStateIsTornWhenThePowerGoes() throws {
    let tallies = Tallies()
    let start = monotonicSeconds()
    DispatchQueue.concurrentPerform(iterations: Self.stores) { store in
      let share = Self.cuts / Self.stores + (store < Self.cuts % Self.stores ? 1 : 0)
      do {
        let experiment = try PowerLossExperiment(seed: Self.seed &+ UInt64(store))
        defer { tallies.add(experiment.tally) }
        try experiment.run(cuts: share)
      } catch {
        tallies.fail("store \(store): \(error)")
      }
    }
    let t = tallies.total
    print(
      "power loss (seed \(Self.seed)): \(t.cuts) cuts, \(t.statesChecked) states checked, \(t.violations.count) violations; "
        + "\(t.reported) results reported before a cut, \(t.inFlight) processes in flight at one, "
        + "\(t.crashes) crashes before a cut, \(t.lossyCuts) cuts lost or tore unsynced writes, \(t.tornSlots) torn state slots seen, "
        + "\(t.replays) accepted codes typed again, \(t.guessesChecked) wrong guesses checked, "
        + "\(t.stuck.count) killed processes still blocked at a cut \(t.stuck.prefix(3)); "
        + String(format: "%.0f s", monotonicSeconds() - start))
    #expect(tallies.failures.isEmpty, "\(tallies.failures)")
    #expect(t.violations.isEmpty, "\(t.violations.prefix(20))")
    #expect(t.cuts == Self.cuts)
    // The experiment must have had something to lose: cuts in the middle of logins and commands.
    #expect(t.inFlight > 0 && t.lossyCuts > 0 && t.replays > 0 && t.guessesChecked > 0)
  }

  /// The same experiment on a disk that acknowledges syncs and loses them at the cut: the
  /// checks must find that accepted codes are accepted again, and more.
  @Test func theChecksFindWhatADiskThatIgnoresSyncsLoses() throws {
    let experiment = try PowerLossExperiment(seed: Self.seed, ignoringSyncs: true)
    try experiment.run(cuts: 15)
    let violations = experiment.tally.violations
    print(
      "power loss on a disk that ignores syncs: \(violations.count) violations in 15 cuts, the first: \(violations.prefix(3))"
    )
    #expect(violations.contains { $0.contains("was accepted again") }, "\(violations)")
    #expect(violations.contains { $0.contains("watermark") }, "\(violations)")
  }
}
