import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform
import Testing

/// The per-login state file: what a login writes, how a torn slot is survived, and how a new
/// record leaves older state behind.
@Suite struct StateFileTests {
  static let now = LoginTests.now
  static let step = now / 30

  /// The two slots of alice's state file as the module left them.
  private func slots(_ sandbox: Sandbox) throws -> [StateSlot?] {
    let file = try #require(sandbox.storeFile(".alice.state"))
    #expect(file.count == StateFile.size)
    return StateFile.slotOffsets.map { offset in
      Array(file[offset..<offset + StateSlot.size]).withUnsafeBytes { StateSlot(decoding: $0) }
    }
  }

  private func login(_ sandbox: Sandbox, step: Int64) throws -> String {
    try sandbox.login(answers: [try oathtool(secret: Sandbox.secret, at: step * 30)], at: step * 30).result
  }

  @Test func aCodeChangesOnlyTheStateFileAndSlotsAlternate() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let record = try #require(sandbox.storeFile("alice"))

    #expect(try login(sandbox, step: Self.step) == "PAM_SUCCESS")
    var slots = try self.slots(sandbox)
    let first = try #require(slots[0])
    #expect(slots[1] == nil)
    #expect(first.state.lastStep == Self.step)

    #expect(try login(sandbox, step: Self.step + 1) == "PAM_SUCCESS")
    slots = try self.slots(sandbox)
    #expect(slots[0] == first)
    #expect(slots[1]?.sequence == first.sequence + 1)
    #expect(slots[1]?.state.lastStep == Self.step + 1)

    #expect(try sandbox.login(answers: ["000000"], at: (Self.step + 1) * 30).result == "PAM_AUTH_ERR")
    slots = try self.slots(sandbox)
    #expect(slots[0]?.sequence == first.sequence + 2)
    #expect(slots[0]?.state.failures == 1)
    #expect(sandbox.storeFile("alice") == record)
    #expect(try sandbox.record("alice")?.lastStep == Self.step + 1)
  }

  /// A crash in the middle of writing a slot leaves it failing its checksum: the state before
  /// is in force, and the next login overwrites the torn slot, not the good one.
  @Test func aTornSlotLeavesThePreviousStateInForce() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    #expect(try login(sandbox, step: Self.step) == "PAM_SUCCESS")
    #expect(try login(sandbox, step: Self.step + 1) == "PAM_SUCCESS")
    let path = sandbox.store + "/.alice.state"
    var file = try #require(FileManager.default.contents(atPath: path))
    file[StateFile.slotOffsets[1] + 40] ^= 0xff
    try file.write(to: URL(fileURLWithPath: path))

    #expect(try sandbox.record("alice")?.lastStep == Self.step)
    #expect(try login(sandbox, step: Self.step + 2) == "PAM_SUCCESS")
    let slots = try self.slots(sandbox)
    #expect(slots[0]?.state.lastStep == Self.step)
    #expect(slots[1]?.state.lastStep == Self.step + 2)
  }

  /// A used backup code rewrites the record, with a new state id that carries the state over;
  /// the slots written for the old record no longer apply.
  @Test func aNewRecordLeavesOlderSlotsBehind() throws {
    let sandbox = try Sandbox()
    let crypto = LibCrypto()
    let hashes = try #require(BackupCodeHashes.issue(codes: [Array("12345678".utf8)], iterations: 1000, crypto: crypto))
    try sandbox.enroll("alice") { $0.backupCodes = hashes }
    #expect(try login(sandbox, step: Self.step) == "PAM_SUCCESS")
    let before = try #require(try sandbox.record("alice"))

    #expect(try sandbox.login(answers: ["12345678"], at: Self.now + 30).result == "PAM_SUCCESS")
    let after = try #require(try sandbox.record("alice"))
    #expect(after.stateID != before.stateID)
    #expect(after.lastStep == Self.step)
    #expect(after.backupCodes.hashes.isEmpty)
    #expect(try slots(sandbox).allSatisfy { $0?.stateID != after.stateID })
    // The code accepted before the record was rewritten is still a replay.
    #expect(try login(sandbox, step: Self.step) == "PAM_AUTH_ERR")
  }

  /// A slot numbered with the largest sequence number (only a forged one can be) leaves no
  /// number for the next write: the login's state goes into a new record instead, the slots
  /// are cleared, and replay protection keeps holding.
  @Test func usedUpSequenceNumbersStartTheFileAfresh() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    #expect(try login(sandbox, step: Self.step) == "PAM_SUCCESS")
    let enrolled = try #require(try sandbox.record("alice"))
    var forged = try #require(try slots(sandbox)[0])
    forged.sequence = StateSlot.largestSequence
    let path = sandbox.store + "/.alice.state"
    var file = try #require(FileManager.default.contents(atPath: path))
    file.replaceSubrange(0..<StateSlot.size, with: forged.encoded())
    try file.write(to: URL(fileURLWithPath: path))

    #expect(try login(sandbox, step: Self.step + 1) == "PAM_SUCCESS")
    let after = try #require(try sandbox.record("alice"))
    #expect(after.stateID != enrolled.stateID)
    #expect(after.lastStep == Self.step + 1)
    #expect(try slots(sandbox) == [nil, nil])
    #expect(try login(sandbox, step: Self.step + 1) == "PAM_AUTH_ERR")
    #expect(try login(sandbox, step: Self.step + 2) == "PAM_SUCCESS")
    #expect(try slots(sandbox)[0]?.sequence == 1)
    #expect(try login(sandbox, step: Self.step + 2) == "PAM_AUTH_ERR")
  }

  /// A state file cut short (by a crash while it was created) is given its full size at the
  /// next lock, keeping what it holds; a longer one is not the store's and fails closed.
  @Test(arguments: [0, 100, 4095, 8191, 8193, 65536])
  func aStateFileOfAnotherSize(size: Int) throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    #expect(try login(sandbox, step: Self.step) == "PAM_SUCCESS")
    #expect(truncate(sandbox.store + "/.alice.state", off_t(size)) == 0)
    let result = try login(sandbox, step: Self.step + 1)
    if size <= StateFile.size {
      #expect(result == "PAM_SUCCESS")
      #expect(sandbox.storeFile(".alice.state")?.count == StateFile.size)
      // The slot that survived the cut is still in force: the first code is a replay.
      if size >= StateSlot.size { #expect(try login(sandbox, step: Self.step) == "PAM_AUTH_ERR") }
    } else {
      #expect(result == "PAM_AUTHINFO_UNAVAIL")
      #expect(sandbox.logLines().contains { $0.contains("bytes long, more than 8192") })
    }
  }

  @Test func aStateFileOthersCanReadIsRefused() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    try setMode(sandbox.store + "/.alice.state", 0o640)
    #expect(try login(sandbox, step: Self.step) == "PAM_AUTHINFO_UNAVAIL")
    #expect(sandbox.logLines().contains { $0.contains(".alice.state: it is accessible by group or others") })
  }
}
