import LockstepCore

#if canImport(Glibc)
  import Glibc
#endif

/// Reads what the administrator or user types: codes and secrets, one line at a time, with
/// unbuffered `read(2)` so that several lines can come from one pipe in turn (a secret with
/// `--secret-file -`, then a confirmation code).
enum Input {
  /// The longest line read, in bytes.
  static let maximumLine = 4096

  /// One line from `descriptor` without its line ending, in secret storage; `nil` at end of input.
  static func line(from descriptor: Int32) throws(Failure) -> SecretBytes? {
    var bytes: [UInt8] = []
    defer { wipe(&bytes) }
    var byte: UInt8 = 0
    while true {
      let n = read(descriptor, &byte, 1)
      if n < 0 {
        if errno == EINTR { continue }
        throw Failure("could not read the input: \(String(cString: strerror(errno)))", code: Exit.usage)
      }
      if n == 0 {
        if bytes.isEmpty { return nil }
        break
      }
      if byte == UInt8(ascii: "\n") { break }
      guard bytes.count < maximumLine else { throw Failure("the input line is too long", code: Exit.usage) }
      bytes.append(byte)
    }
    if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
    return SecretBytes(bytes)
  }

  /// Reads one code from standard input, showing `prompt` on standard error when standard
  /// input is a terminal. When standard input already gave the secret (`usedStandardInput`)
  /// and has no further line, the code is read from the controlling terminal instead.
  static func code(prompt: String, usedStandardInput: Bool = false) throws(Failure) -> SecretBytes {
    if isatty(0) != 0 { printError(prompt, terminator: "") }
    if let line = try line(from: 0) { return line }
    if usedStandardInput {
      let terminal = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
      if terminal >= 0 {
        defer { close(terminal) }
        printError(prompt, terminator: "")
        if let line = try line(from: terminal) { return line }
      }
    }
    throw Failure("no code was given on standard input", code: Exit.usage)
  }

  /// One line from standard input; when it is a terminal, after showing `prompt` on standard
  /// error and with echo turned off, so that a typed secret does not stay on the screen.
  static func hiddenLine(prompt: String) throws(Failure) -> SecretBytes? {
    guard isatty(0) != 0 else { return try line(from: 0) }
    var saved = termios()
    guard tcgetattr(0, &saved) == 0 else { return try line(from: 0) }
    var quiet = saved
    quiet.c_lflag &= ~tcflag_t(ECHO)
    printError(prompt, terminator: "")
    _ = tcsetattr(0, TCSAFLUSH, &quiet)
    defer {
      _ = tcsetattr(0, TCSAFLUSH, &saved)
      printError("")
    }
    return try line(from: 0)
  }

  /// The whole file at `path` (at most `limit` bytes); the caller wipes the result. With
  /// `owner`, the file must be a regular file owned by that user, and not a symbolic link.
  static func file(path: String, limit: Int, owner: uid_t? = nil) throws(Failure) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (owner == nil ? 0 : O_NOFOLLOW))
    guard fd >= 0 else { throw Failure("cannot open \(path): \(String(cString: strerror(errno)))", code: Exit.usage) }
    defer { close(fd) }
    if let owner {
      var st = stat()
      guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == owner else {
        throw Failure("\(path) is not a regular file owned by uid \(owner)", code: Exit.usage)
      }
    }
    var text: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    defer { wipe(&chunk) }
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        wipe(&text)
        throw Failure("cannot read \(path): \(String(cString: strerror(errno)))", code: Exit.usage)
      }
      if n == 0 { break }
      text.append(contentsOf: chunk[0..<n])
      guard text.count <= limit else {
        wipe(&text)
        throw Failure("\(path) is larger than \(limit) bytes", code: Exit.usage)
      }
    }
    return text
  }

  /// The names in the directory at `path` (`what` it is, for the error), without `.` and `..`.
  static func directory(path: String, what: String) throws(Failure) -> [String] {
    guard let stream = opendir(path) else {
      throw Failure("cannot read \(what) \(path): \(String(cString: strerror(errno)))", code: Exit.usage)
    }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// Reads a base32 secret from the file at `path`, or the first line of standard input for `-`.
  static func secret(path: String) throws(Failure) -> SecretBytes {
    var text: [UInt8] = []
    defer { wipe(&text) }
    if path == "-" {
      guard let line = try hiddenLine(prompt: "Secret (base32): ") else {
        throw Failure("no secret was given on standard input", code: Exit.usage)
      }
      line.withUnsafeBytes { text.append(contentsOf: $0) }
    } else {
      let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
      guard fd >= 0 else {
        throw Failure("cannot open the secret file \(path): \(String(cString: strerror(errno)))", code: Exit.usage)
      }
      defer { close(fd) }
      var chunk = [UInt8](repeating: 0, count: 4096)
      defer { wipe(&chunk) }
      while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
          if errno == EINTR { continue }
          throw Failure("cannot read the secret file \(path): \(String(cString: strerror(errno)))", code: Exit.usage)
        }
        if n == 0 { break }
        text.append(contentsOf: chunk[0..<n])
        guard text.count <= maximumLine else {
          throw Failure("the secret file \(path) is too large to hold one secret", code: Exit.usage)
        }
      }
    }
    // Surrounding white space and line endings do not matter; lines inside do.
    let blank: Set<UInt8> = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")]
    let start = text.firstIndex { !blank.contains($0) } ?? text.count
    let end = (text.lastIndex { !blank.contains($0) } ?? -1) + 1
    let trimmed = start < end ? text[start..<end] : []
    let decoded: SecretBytes? =
      trimmed.contains(UInt8(ascii: "\n")) ? nil : Array(trimmed).withUnsafeBytes { Base32.decode($0) }
    guard let decoded else { throw Failure("the secret is not valid base32 (RFC 4648)", code: Exit.usage) }
    guard decoded.count >= Secrets.minimumLength else {
      throw Failure(
        "the secret is too short: it has \(decoded.count * 8) bits, and at least \(Secrets.minimumLength * 8) are needed",
        code: Exit.usage)
    }
    return decoded
  }
}

/// Secret sizes.
enum Secrets {
  /// The length of a generated secret in bytes: 160 bits, as RFC 4226 recommends.
  static let generatedLength = 20
  /// The shortest secret accepted in bytes: 80 bits, what google-authenticator generates.
  static let minimumLength = 10
}

/// Prints `text` on standard error.
func printError(_ text: String, terminator: String = "\n") {
  let bytes = Array((text + terminator).utf8)
  var done = 0
  while done < bytes.count {
    let n = bytes.withUnsafeBytes { raw -> Int in
      guard let base = raw.baseAddress else { return 0 }
      return write(2, base + done, raw.count - done)
    }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { return }
    done += n
  }
}
