import LockstepCore

/// Whether `record` can be stored: written in the record format, it reads back with the same
/// state. Importers must only produce such records, or the module would refuse the user.
func survivesRecordFormat(_ record: UserRecord) -> Bool {
  let text = RecordFormat.serialize(record)
  let parsed = try? text.withUnsafeBytes { bytes throws(LineError) in try RecordFormat.parse(bytes) }
  guard let parsed else { return false }
  return parsed.state == record.state && parsed.hasSameEnrollment(as: record)
}

/// The bytes held by secret storage.
func bytes(of secret: SecretBytes) -> [UInt8] {
  secret.withUnsafeBytes { Array($0) }
}
