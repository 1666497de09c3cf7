import LockstepCore

/// Any bytes through the record parser, which the module runs on every login. A record it
/// accepts must be within the documented ranges, must come back unchanged when written and
/// read again, must be written the same way twice, and its per-login state must survive the
/// binary state slot the store keeps it in.
func fuzz(_ input: UnsafeRawBufferPointer) {
  let record: UserRecord
  do {
    record = try RecordFormat.parse(input)
  } catch {
    require(error.line >= 0 && !error.reason.isEmpty, "an error without a reason")
    require(isOneSafeLine(error.description), "an error message that is not one safe line: \(error)")
    return
  }
  require(input.count <= RecordFormat.maximumSize, "a record larger than the limit was accepted")
  require(record.parameters.isValid, "parameters out of range were accepted: \(record.parameters)")
  require(
    record.secret.count > 0 || (record.parameters.kind == .delivered && record.contact != nil),
    "an empty secret was accepted without codes being sent")
  require(record.parameters.kind != .delivered || record.secret.count == 0, "a delivered record holds a secret")
  require(record.counter <= UserRecord.largestCounter, "a counter beyond the limit was accepted")
  require(UserRecord.offsetRange.contains(record.offset), "an offset out of range was accepted")
  require(
    (0...UserRecord.largestFailureCount).contains(record.failures), "a failure count out of range was accepted")
  require(record.backupCodes.hashes.count <= BackupCodeHashes.maximumCount, "too many backup codes were accepted")
  if let invitation = record.invitation {
    require(record.parameters.kind != .delivered, "an invitation without a secret was accepted")
    require(Invitation.isValidIssuer(invitation.issuer), "an invitation's issuer that is not one safe name")
    require(
      QRMatrix(encoded: invitation.qr.encoded) == invitation.qr, "an invitation's QR code does not survive its encoding"
    )
  }

  let text = RecordFormat.serialize(record)
  let again: UserRecord
  do {
    again = try text.withUnsafeBytes { bytes throws(LineError) in try RecordFormat.parse(bytes) }
  } catch {
    require(false, "a record this code wrote does not parse: \(error)")
    return
  }
  require(again.hasSameEnrollment(as: record), "writing and reading changed the enrollment")
  require(again.state == record.state, "writing and reading changed the per-login state")
  require(RecordFormat.serialize(again).hasSameBytes(as: text), "the same record is written two ways")

  let slot = StateSlot(of: record, sequence: 1)
  let decoded = slot.encoded().withUnsafeBytes { StateSlot(decoding: $0) }
  require(decoded == slot, "the per-login state of an accepted record does not survive a state slot")
}
