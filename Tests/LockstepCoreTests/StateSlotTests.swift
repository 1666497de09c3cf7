import Testing

@testable import LockstepCore

/// A record whose per-login state has every field set.
private func busyRecord(stateID: UInt64 = 0x0102_0304_0506_0708) -> UserRecord {
  UserRecord(
    parameters: .standard, secret: SecretBytes(utf8("12345678901234567890")), counter: 77, lastStep: 59_017_393,
    offset: -3, failures: 4, lockedUntil: 1_770_522_690, lastSuccess: 1_770_521_790, stateID: stateID)
}

/// Little-endian bytes of a value, written out by the test rather than by the code under test.
private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
  (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

private func decode(_ bytes: [UInt8]) -> StateSlot? {
  bytes.withUnsafeBytes { StateSlot(decoding: $0) }
}

/// `StateFile.next` as an array of the slot index and the sequence number, to compare.
private func nextWrite(_ slots: [StateSlot?]) -> [UInt64]? {
  StateFile.next(after: slots).map { [UInt64($0.index), $0.sequence] }
}

@Suite("StateSlot and StateFile")
struct StateSlotTests {
  @Test("CRC-32C gives the standard check value")
  func checkValue() {
    // The check value of the CRC-32C (iSCSI) catalogue entry.
    #expect(utf8("123456789").withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
    #expect([UInt8]().withUnsafeBytes { CRC32C.checksum($0) } == 0)
  }

  @Test("a slot is laid out as documented")
  func layout() {
    let slot = StateSlot(of: busyRecord(), sequence: 9)
    var expected = utf8("lkst") + le(UInt32(1)) + le(UInt64(9)) + le(UInt64(0x0102_0304_0506_0708))
    expected += le(UInt64(77)) + le(Int64(59_017_393)) + le(Int64(-3)) + le(Int64(1_770_522_690))
    expected += le(Int64(1_770_521_790)) + le(UInt32(4))
    expected += le(expected.withUnsafeBytes { CRC32C.checksum($0) })
    #expect(slot.encoded() == expected)
    #expect(expected.count == StateSlot.size)
  }

  @Test("encode then decode gives the same state, and it applies to a record")
  func roundTrip() throws {
    for record in [busyRecord(), UserRecord(parameters: .standard, secret: SecretBytes([1]))] {
      let slot = StateSlot(of: record, sequence: 3)
      let decoded = try #require(decode(slot.encoded()))
      #expect(decoded == slot)
      var target = UserRecord(parameters: .standard, secret: SecretBytes([1]))
      decoded.apply(to: &target)
      #expect(target.state == record.state)
    }
  }

  @Test("every single flipped bit makes the slot invalid")
  func flippedBits() {
    let bytes = StateSlot(of: busyRecord(), sequence: 5).encoded()
    for bit in 0..<(bytes.count * 8) {
      var damaged = bytes
      damaged[bit / 8] ^= 1 << UInt8(bit % 8)
      #expect(decode(damaged) == nil, "bit \(bit)")
    }
  }

  @Test("a torn slot (a prefix of the new bytes over the old ones) is invalid")
  func tornWrites() {
    let old = StateSlot(of: busyRecord(), sequence: 5).encoded()
    var newer = busyRecord()
    newer.lastStep = 59_017_400
    newer.failures = 0
    let new = StateSlot(of: newer, sequence: 6).encoded()
    for cut in 1..<StateSlot.size {
      let torn = Array(new[..<cut] + old[cut...])
      if torn != old && torn != new { #expect(decode(torn) == nil, "cut at \(cut)") }
    }
    #expect(decode([UInt8](repeating: 0, count: StateSlot.size)) == nil)
    #expect(decode(Array(new.dropLast())) == nil)
  }

  @Test("values no record can hold are refused even with a good checksum")
  func outOfRange() {
    #expect(decode(StateSlot(of: busyRecord(), sequence: 1).encoded()) != nil, "control: the record before spoiling")
    let spoilers: [(String, (inout UserRecord) -> Void)] = [
      ("counter", { $0.counter = UserRecord.largestCounter + 1 }),
      ("offset", { $0.offset = UserRecord.offsetRange.upperBound + 1 }),
      ("failures", { $0.failures = UserRecord.largestFailureCount + 1 }),
      ("locked-until", { $0.lockedUntil = -1 }),
      ("last-success", { $0.lastSuccess = UserRecord.latestTime + 1 }),
      ("last-step", { $0.lastStep = -2 }),
    ]
    for (field, spoil) in spoilers {
      var record = busyRecord()
      spoil(&record)
      #expect(decode(StateSlot(of: record, sequence: 1).encoded()) == nil, "\(field)")
    }
  }

  @Test("a slot numbered so high that the next number would wrap is refused")
  func sequenceNeverWraps() throws {
    let highest = try #require(decode(StateSlot(of: busyRecord(), sequence: StateSlot.largestSequence).encoded()))
    let belowHighest = try #require(
      decode(StateSlot(of: busyRecord(), sequence: StateSlot.largestSequence - 1).encoded()))
    #expect(nextWrite([belowHighest, nil]) == [1, StateSlot.largestSequence])
    // The numbers are used up: the store has to start the file afresh.
    #expect(nextWrite([highest, nil]) == nil)
    #expect(nextWrite([belowHighest, highest]) == nil)
    // Found by the state-slot fuzz target: a slot numbered UInt64.max made the next write
    // number 0, older than it, so every later login's state was written and never read.
    let wrapping = StateSlot(of: busyRecord(), sequence: .max).encoded()
    #expect(decode(wrapping) == nil)
    #expect(decode(StateSlot(of: busyRecord(), sequence: StateSlot.largestSequence + 1).encoded()) == nil)
  }

  @Test("the current state is the newest valid slot of this record")
  func current() {
    let a = StateSlot(of: busyRecord(stateID: 1), sequence: 7)
    let b = StateSlot(of: busyRecord(stateID: 1), sequence: 8)
    let stale = StateSlot(of: busyRecord(stateID: 2), sequence: 9)
    #expect(StateFile.current(of: [a, b], for: 1) == b)
    #expect(StateFile.current(of: [b, a], for: 1) == b)
    #expect(StateFile.current(of: [a, nil], for: 1) == a)
    #expect(StateFile.current(of: [stale, b], for: 1) == b)
    #expect(StateFile.current(of: [stale, nil], for: 1) == nil)
    #expect(StateFile.current(of: [nil, nil], for: 1) == nil)
  }

  @Test("the next write never goes over the newest valid slot")
  func next() {
    let a = StateSlot(of: busyRecord(stateID: 1), sequence: 7)
    let b = StateSlot(of: busyRecord(stateID: 2), sequence: 8)
    #expect(nextWrite([nil, nil]) == [0, 1])
    #expect(nextWrite([a, nil]) == [1, 8])
    #expect(nextWrite([nil, a]) == [0, 8])
    #expect(nextWrite([a, b]) == [0, 9])
    #expect(nextWrite([b, a]) == [1, 9])
  }
}
