/// The rules for the two slots of a user's state file: which one holds the current state, and
/// which one the next write goes to. No I/O here; the store reads and writes the bytes.
public enum StateFile {
  /// The size of the file: each slot starts a page of its own, so that a write torn at any
  /// block boundary can damage only the slot being written.
  public static let size = 8192
  /// Where the slots start.
  public static let slotOffsets = [0, 4096]

  /// The current state for the record identified by `stateID`: of the valid slots that belong
  /// to that record, the one with the larger sequence number; `nil` when none does (the record
  /// was just written, or no login has changed it since), in which case the record's own
  /// fields are the state.
  public static func current(of slots: [StateSlot?], for stateID: UInt64) -> StateSlot? {
    slots.compactMap { $0 }.filter { $0.stateID == stateID }.max { $0.sequence < $1.sequence }
  }

  /// Where the next state goes, and its sequence number: never over the newest valid slot,
  /// whichever record it belongs to, so that a write torn by a crash leaves the newest state
  /// before it readable. `nil` when the newest slot's number is `StateSlot.largestSequence`:
  /// a slot numbered beyond it would be invalid, so the file has to be started afresh.
  public static func next(after slots: [StateSlot?]) -> (index: Int, sequence: UInt64)? {
    var newest: (index: Int, sequence: UInt64)?
    for (index, slot) in slots.enumerated() {
      if let slot, newest.map({ slot.sequence > $0.sequence }) ?? true { newest = (index, slot.sequence) }
    }
    guard let newest else { return (0, 1) }
    guard newest.sequence < StateSlot.largestSequence else { return nil }
    return ((newest.index + 1) % slotOffsets.count, newest.sequence + 1)
  }
}
