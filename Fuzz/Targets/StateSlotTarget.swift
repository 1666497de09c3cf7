import LockstepCore

/// Two state slots and a record's state id through the state file's decoder and slot rules,
/// which the module runs on every login.
///
/// Input: one flag byte (bit 0: give each slot a correct CRC-32C, so that the fuzzer reaches
/// the field checks behind it; bit 1: where version 2's CRC goes, bit 0 fixes it there), two
/// 132-byte slots (a version-1 slot uses the first 72), and an 8-byte state id.
///
/// Properties: a slot decodes exactly when it is well formed (checked by an independent
/// reading of the documented layout); a decoded slot encodes back to the same bytes; its state
/// is one the record format can hold; the current slot is the newest valid one of the record;
/// and the next write never goes over the newest valid slot and is numbered after every valid
/// slot, so that it really becomes the newest.
func fuzz(_ input: UnsafeRawBufferPointer) {
  var reader = FuzzInput(input)
  let flags = reader.byte()
  let fixChecksums = flags & 1 == 1
  let length = flags & 2 == 2 ? StateSlot.sizeWithSentCode : StateSlot.size
  let raw = (0..<2).map { _ -> [UInt8] in
    var bytes = reader.take(StateSlot.sizeWithSentCode)
    bytes += [UInt8](repeating: 0, count: StateSlot.sizeWithSentCode - bytes.count)
    if fixChecksums {
      let crc = ReferenceCRC32C.checksum(bytes[..<(length - 4)])
      for index in 0..<4 { bytes[length - 4 + index] = UInt8(truncatingIfNeeded: crc >> (8 * index)) }
    }
    return bytes
  }
  let stateID = reader.integer(UInt64.self)
  let slots = raw.map { bytes in bytes.withUnsafeBytes { StateSlot(decoding: $0) } }

  for (bytes, slot) in zip(raw, slots) {
    require((slot != nil) == isWellFormed(bytes), "decoding disagrees with the documented layout: \(bytes)")
    guard let slot else { continue }
    let encoded = slot.encoded()
    require(encoded[...] == bytes[..<encoded.count], "a decoded slot does not encode back to its bytes")
    var record = UserRecord(parameters: .standard, secret: SecretBytes([1, 2, 3, 4, 5]))
    slot.apply(to: &record)
    require(survivesRecordFormat(record), "a valid slot holds a state no record can hold")
  }

  let mine = slots.compactMap { $0 }.filter { $0.stateID == stateID }
  let current = StateFile.current(of: slots, for: stateID)
  require((current == nil) == mine.isEmpty, "the current state is missing or invented")
  if let current {
    require(mine.allSatisfy { $0.sequence <= current.sequence }, "the current state is not the newest")
  }

  let valid = slots.compactMap { $0 }
  guard let (index, sequence) = StateFile.next(after: slots) else {
    require(valid.contains { $0.sequence == StateSlot.largestSequence }, "no next write, yet numbers are left")
    return
  }
  require(StateFile.slotOffsets.indices.contains(index), "the next slot does not exist")
  if let newest = valid.map(\.sequence).max() {
    require(sequence > newest, "the next write (\(sequence)) would not be newer than slot \(newest)")
    require(
      slots[index].map { $0.sequence < newest } ?? true
        || slots.filter { $0?.sequence == newest }.count > 1,
      "the next write goes over the newest state")
  }
}

/// Whether `bytes` is a well-formed slot, read field by field from the layout documented in
/// `StateSlot`.
private func isWellFormed(_ bytes: [UInt8]) -> Bool {
  func field<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
    (0..<MemoryLayout<T>.size).reduce(T.zero) { $0 | T(truncatingIfNeeded: bytes[offset + $1]) << (8 * $1) }
  }
  let times: ClosedRange<Int64> = 0...(1 << 40)
  let version = field(4, UInt32.self)
  let sentCodeIsWellFormed =
    version == 1
    || (version == 2 && field(128, UInt32.self) == ReferenceCRC32C.checksum(bytes[..<128])
      && times.contains(field(100, Int64.self)) && times.contains(field(108, Int64.self))
      && times.contains(field(116, Int64.self)) && field(124, UInt16.self) <= 10_000
      && field(126, UInt16.self) <= 10_000 && bytes[68..<128].contains { $0 != 0 })
  return bytes.count == 132 && bytes[0..<4].elementsEqual("lkst".utf8) && sentCodeIsWellFormed
    && field(8, UInt64.self) <= 1 << 62
    && (version == 2 || field(68, UInt32.self) == ReferenceCRC32C.checksum(bytes[..<68]))
    && field(24, UInt64.self) <= 1 << 62 && field(32, Int64.self) >= -1
    && (-100_000...100_000).contains(field(40, Int64.self)) && times.contains(field(48, Int64.self))
    && times.contains(field(56, Int64.self)) && field(64, UInt32.self) <= 1_000_000
}
