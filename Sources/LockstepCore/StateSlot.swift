/// What a login changes in a user's record (its `LoginState`: the replay watermark or HOTP
/// counter, the clock offset, failure counters and lockout) in the fixed-size binary form of
/// one slot of the user's state file.
///
/// The state file holds two slots, written alternately in place, so that a login costs one
/// small write and one `fdatasync` instead of rewriting the record. A slot carries a sequence
/// number (the newer of two valid slots wins), the `stateID` of the record it belongs to (a
/// slot written before the record was last replaced is stale and ignored) and a CRC-32C over
/// everything before it (a write torn by a crash leaves that slot invalid, and the other slot,
/// the previous state, in force).
///
/// Layout of version 1, 72 bytes, little-endian:
/// ```
///  0  magic "lkst"        24  counter   UInt64     48  locked-until  Int64
///  4  version UInt32 = 1  32  last-step Int64, -1  56  last-success  Int64
///  8  sequence UInt64         for none             64  failures      UInt32
/// 16  state id UInt64     40  offset    Int64      68  CRC-32C of bytes 0..<68
/// ```
/// Version 2, 132 bytes, holds the same first 68 bytes (with version 2), then the sent-code
/// state (`SentCodeState`), and is written only when that state is not empty, so that a user
/// who never had a code sent keeps version-1 slots that earlier releases read:
/// ```
///  68  digest of the pending code, 32 bytes (zeros for none)   116  last-send        Int64
/// 100  expires       Int64                                    124  attempts-left    UInt16
/// 108  window-start  Int64                                    126  sends-in-window  UInt16
///                                                             128  CRC-32C of bytes 0..<128
/// ```
public struct StateSlot: Equatable, Sendable {
  /// The size of a version-1 slot.
  public static let size = 72
  /// The size of a version-2 slot: what a reader reads, whichever version is there.
  public static let sizeWithSentCode = 132
  static let magic: [UInt8] = Array("lkst".utf8)
  /// The largest sequence number a slot holds: far more than the logins any file will see, so
  /// that numbering the next slot can never wrap round to a number lower than the newest
  /// one's (which would leave every later state unread).
  public static let largestSequence: UInt64 = 1 << 62

  /// Orders the writes to the state file: the valid slot with the larger number is the newer.
  public var sequence: UInt64
  /// The `stateID` of the record this state belongs to.
  public var stateID: UInt64
  /// The state itself.
  public var state: LoginState

  /// The per-login state of `record`, numbered `sequence`.
  public init(of record: UserRecord, sequence: UInt64) {
    self.sequence = sequence
    stateID = record.stateID
    state = record.state
  }

  /// Puts this state into `record`.
  public func apply(to record: inout UserRecord) {
    record.state = state
  }

  /// The slot's bytes.
  public func encoded() -> [UInt8] {
    let withSentCode = !state.sent.isEmpty
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Self.sizeWithSentCode)
    func append<T: FixedWidthInteger>(_ value: T) {
      withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    bytes.append(contentsOf: Self.magic)
    append(UInt32(withSentCode ? 2 : 1))
    append(sequence)
    append(stateID)
    append(state.counter)
    append(state.lastStep ?? -1)
    append(state.offset)
    append(state.lockedUntil)
    append(state.lastSuccess)
    append(UInt32(clamping: state.failures))
    if withSentCode {
      let sent = state.sent
      bytes.append(
        contentsOf: sent.digest.count == SentCodeState.digestLength
          ? sent.digest : [UInt8](repeating: 0, count: SentCodeState.digestLength))
      append(sent.expires)
      append(sent.windowStart)
      append(sent.lastSend)
      append(UInt16(clamping: sent.attemptsLeft))
      append(UInt16(clamping: sent.sendsInWindow))
    }
    append(bytes.withUnsafeBytes { CRC32C.checksum($0) })
    return bytes
  }

  /// Decodes a slot from the `sizeWithSentCode` bytes where one starts (a version-1 slot uses
  /// the first `size` of them); `nil` when they are not a whole, valid slot: empty (never
  /// written), torn by a crash, or holding a value no record could hold.
  public init?(decoding bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= Self.size, bytes.starts(with: Self.magic) else { return nil }
    func value<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
      var raw = T.zero
      withUnsafeMutableBytes(of: &raw) {
        $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + MemoryLayout<T>.size]))
      }
      return T(littleEndian: raw)
    }
    let version = value(at: 4, as: UInt32.self)
    let length: Int
    switch version {
    case 1: length = Self.size
    case 2: length = Self.sizeWithSentCode
    default: return nil
    }
    guard bytes.count >= length else { return nil }
    let checked = UnsafeRawBufferPointer(rebasing: bytes[..<(length - 4)])
    guard value(at: length - 4, as: UInt32.self) == CRC32C.checksum(checked) else { return nil }
    let lastStep = value(at: 32, as: Int64.self)
    let failures = value(at: 64, as: UInt32.self)
    let unixTimes: ClosedRange<Int64> = 0...UserRecord.latestTime
    sequence = value(at: 8, as: UInt64.self)
    stateID = value(at: 16, as: UInt64.self)
    state = LoginState(
      counter: value(at: 24, as: UInt64.self), lastStep: lastStep == -1 ? nil : lastStep,
      offset: value(at: 40, as: Int64.self), failures: Int(failures), lockedUntil: value(at: 48, as: Int64.self),
      lastSuccess: value(at: 56, as: Int64.self))
    if version == 2 {
      let digest = Array(bytes[68..<100])
      state.sent = SentCodeState(
        digest: digest.allSatisfy { $0 == 0 } ? [] : digest, expires: value(at: 100, as: Int64.self),
        attemptsLeft: Int(value(at: 124, as: UInt16.self)), windowStart: value(at: 108, as: Int64.self),
        sendsInWindow: Int(value(at: 126, as: UInt16.self)), lastSend: value(at: 116, as: Int64.self))
    }
    let sent = state.sent
    guard unixTimes.contains(sent.expires), unixTimes.contains(sent.windowStart), unixTimes.contains(sent.lastSend),
      sent.attemptsLeft <= SentCodeState.largestCount, sent.sendsInWindow <= SentCodeState.largestCount,
      // A version-2 slot is written only for a state that needs it.
      version == 1 || !sent.isEmpty
    else { return nil }
    guard sequence <= Self.largestSequence, state.counter <= UserRecord.largestCounter, lastStep >= -1,
      UserRecord.offsetRange.contains(state.offset), failures <= UserRecord.largestFailureCount,
      unixTimes.contains(state.lockedUntil), unixTimes.contains(state.lastSuccess)
    else { return nil }
  }
}
