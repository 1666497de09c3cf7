/// A user name that is safe to use as a file name inside the store.
///
/// PAM user names come from the network (the name typed at an SSH login), so they are checked
/// before they touch the file system: a name is refused if it is empty, longer than
/// `maximumLength` bytes, starts with `.` (which also rules out `.` and `..`, and keeps the
/// store's own state and temporary files, which start with `.`, out of reach), contains `/`,
/// a NUL or another control character, or is not valid UTF-8 or holds U+FFFD (the character
/// that replaces invalid bytes): the CLI reads names as text, so the module and the CLI agree
/// on every name only if both refuse those that text cannot spell exactly.
public struct UserName: Equatable, Hashable, Sendable, CustomStringConvertible {
  /// The longest name accepted, in bytes, leaving room in a 255-byte file name for the
  /// store's prefixes and suffixes.
  public static let maximumLength = 200

  /// The name's bytes, as PAM gave them.
  public let bytes: [UInt8]

  /// Checks `bytes`; `nil` if the name cannot be used.
  public init?<C: Collection>(bytes input: C) where C.Element == UInt8 {
    let bytes = Array(input)
    guard !bytes.isEmpty, bytes.count <= Self.maximumLength, bytes[0] != UInt8(ascii: ".") else {
      return nil
    }
    for byte in bytes where byte < 0x20 || byte == 0x7f || byte == UInt8(ascii: "/") {
      return nil
    }
    guard let text = String(validating: bytes, as: UTF8.self), !text.unicodeScalars.contains("\u{FFFD}") else {
      return nil
    }
    self.bytes = bytes
  }

  /// Checks a name given as a string.
  public init?(_ name: String) {
    self.init(bytes: name.utf8)
  }

  /// The name, escaped for logs as a field value (`LogText.field`): it can hold spaces and `=`.
  public var description: String { LogText.field(bytes) }

  /// The file name of the user's record.
  public var recordFileName: [UInt8] { bytes }
  /// The file name of the user's state file (see `StateFile`), which is also the file the
  /// user's lock is taken on.
  public var stateFileName: [UInt8] { Array(".".utf8) + bytes + Array(".state".utf8) }
  /// The file name a new record is written to before it replaces the old one.
  public var temporaryFileName: [UInt8] { Array(".".utf8) + bytes + Array(".tmp".utf8) }
}
