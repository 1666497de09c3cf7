import LockstepCore

/// User names as PAM hands them over (the name typed at an SSH login) through `UserName`,
/// which decides what may become a file name in the store, and any bytes through `LogText`,
/// which makes names, arguments and host names safe to log.
///
/// Properties: a name is accepted exactly when the documented rules allow it (checked by an
/// independent reading); the file names made from an accepted name are single path
/// components no longer than 255 bytes, distinct from each other and from those of every
/// other name; escaped text is one safe line, bounded in length, and the same as its input
/// when that was already safe; a field value holds no character that delimits fields.
func fuzz(_ input: UnsafeRawBufferPointer) {
  let bytes = Array(input)
  let name = UserName(bytes: bytes)
  let allowed =
    !bytes.isEmpty && bytes.count <= 200 && bytes[0] != UInt8(ascii: ".")
    && bytes.allSatisfy { $0 >= 0x20 && $0 != 0x7f && $0 != UInt8(ascii: "/") }
    && String(validating: bytes, as: UTF8.self).map { !$0.unicodeScalars.contains("\u{FFFD}") } == true
  require((name != nil) == allowed, "the name \(bytes) was \(name == nil ? "refused" : "accepted")")
  if let name {
    let files = [name.recordFileName, name.stateFileName, name.temporaryFileName]
    for file in files {
      require(file.count <= 255 && !file.contains(UInt8(ascii: "/")) && !file.contains(0), "a bad file name")
      require(file != Array(".".utf8) && file != Array("..".utf8), "a file name that is a directory")
    }
    require(Set(files).count == 3, "two of a user's files share a name")
    require(name.recordFileName.first != UInt8(ascii: "."), "a record that looks like another user's state file")
  }

  let escaped = LogText.escape(bytes)
  require(isOneSafeLine(escaped), "escaped text that is not one safe line: \(escaped)")
  require(escaped.utf8.count <= LogText.maximumLength * 4 + 4, "escaped text of \(escaped.utf8.count) bytes")
  let field = LogText.field(bytes)
  require(
    !field.utf8.contains { [0x20, 0x22, 0x27, 0x3b, 0x3d].contains($0) },
    "a field value that can end its field: \(field)")
  if bytes.count <= LogText.maximumLength, let text = String(validating: bytes, as: UTF8.self),
    isOneSafeLine(text), !text.unicodeScalars.contains("\\")
  {
    require(escaped == text, "safe text was changed: \(text) became \(escaped)")
  }
}
