import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// Logins that race each other for the same user, released at the same instant from a start line.
@Suite struct ConcurrencyTests {
  static let now = LoginTests.now

  @Test func sameCodeFromThirtyTwoProcessesSucceedsExactlyOnceInEachOfAHundredRounds() throws {
    // Each round leaves 31 failures (the replays after the one success); the next success
    // resets them, so the count never comes near the maximum.
    let sandbox = try Sandbox(arguments: ["max_failures=1000"])
    try sandbox.enroll("alice")
    for round in 0..<100 {
      // A new time step every round, so every round has a fresh valid code.
      let time = Self.now + Int64(round) * 30
      let code = try oathtool(secret: Sandbox.secret, at: time)
      let logins = try sandbox.raceLogins(count: 32, answer: code, time: time)
      let results = Dictionary(grouping: logins.map(\.result), by: { $0 }).mapValues(\.count)
      let record = try sandbox.record("alice")
      let expected = ["PAM_SUCCESS": 1, "PAM_AUTH_ERR": 31]
      #expect(results == expected, "round \(round): \(sandbox.logLines().filter { $0.hasPrefix("<83>") })")
      #expect(logins.allSatisfy { $0.status == 0 }, "round \(round)")
      // The one success stored its step; the 31 that came after it under the lock were replays.
      #expect(record?.lastStep == time / 30, "round \(round)")
      #expect(record?.failures == 31, "round \(round)")
      if results != expected || record?.lastStep != time / 30 { break }
    }
    let log = sandbox.logLines()
    #expect(log.filter { $0.contains("accepted verification code") }.count == 100)
    #expect(log.filter { $0.contains("replayed verification code") }.count == 3100)
  }

  @Test func everyFailureIsCountedUnderContention() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=1000"])
    try sandbox.enroll("alice")
    let logins = try sandbox.raceLogins(count: 12, answer: "000000", time: Self.now)
    #expect(logins.allSatisfy { $0.result == "PAM_AUTH_ERR" })
    #expect(try sandbox.record("alice")?.failures == 12, "no update may be lost")
  }

  @Test func sameBackupCodeFromTwoProcessesSucceedsExactlyOnce() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=1000"])
    let crypto = LibCrypto()
    let codes = try #require(BackupCodeHashes.generateCodes(count: 50, crypto: crypto))
    let hashes = try #require(BackupCodeHashes.issue(codes: codes, iterations: 1000, crypto: crypto))
    try sandbox.enroll("alice") { $0.backupCodes = hashes }
    for (round, bytes) in codes.enumerated() {
      let code = String(decoding: bytes, as: UTF8.self)
      let logins = try sandbox.raceLogins(count: 2, answer: code, time: Self.now)
      let record = try #require(try sandbox.record("alice"))
      #expect(logins.map(\.result).sorted() == ["PAM_AUTH_ERR", "PAM_SUCCESS"], "round \(round)")
      #expect(record.backupCodes.hashes.count == codes.count - round - 1, "round \(round)")
      if logins.filter({ $0.result == "PAM_SUCCESS" }).count != 1 { break }
    }
  }

  @Test func readingARecordWhileItIsReplacedNeverFails() throws {
    // The module reads the record without the lock before it prompts. A record renamed over
    // the one just opened leaves that file with no links; the read must then open the name
    // again rather than refuse the record as unsafe.
    let sandbox = try Sandbox()
    let record = try sandbox.enroll("alice")
    let name = try #require(UserName("alice"))
    let done = Atomic(false)
    let path = sandbox.store
    let writer = Thread {
      defer { done.set(true) }
      // Writes the record back as it is, 300 times, each a temporary file renamed over it.
      guard let store = try? Store(path: path), let current = try? store.read(name) else { return }
      for _ in 0..<300 {
        guard let lock = try? store.lock(name), (try? store.write(current, holding: lock)) != nil else { return }
      }
    }
    writer.start()
    let store = try Store(path: sandbox.store)
    var reads = 0
    var failures: [String] = []
    while !done.get() {
      do { _ = try store.read(name) } catch { failures.append(error.description) }
      reads += 1
    }
    #expect(failures.isEmpty, "\(failures.count) of \(reads) reads failed, first: \(failures.first ?? "")")
    #expect(try sandbox.record("alice")?.fingerprint == record.fingerprint)
  }
}

/// A flag shared between two threads.
final class Atomic: @unchecked Sendable {
  private var value: Bool
  private let lock = NSLock()

  init(_ value: Bool) { self.value = value }

  func get() -> Bool { lock.withLock { value } }
  func set(_ newValue: Bool) { lock.withLock { value = newValue } }
}
