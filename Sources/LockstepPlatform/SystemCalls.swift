internal import CLockstepSystem

// The conventions every system call here follows, written once: retry on `EINTR`, read `errno`
// right after the call, loop until a transfer is whole, pass names as NUL-terminated bytes.

/// The calling thread's `errno`.
var errno: Int32 { lockstep_errno() }

/// Repeats a system call while it fails with `EINTR`.
func retrying<T: SignedInteger>(_ call: () -> T) -> T {
  while true {
    let result = call()
    if result >= 0 || errno != EINTR { return result }
  }
}

/// Calls `step(done)` until `count` bytes are transferred, where `step` makes one `read`,
/// `write`, `pread` or `pwrite` of the rest and returns what the call returned (retried on
/// `EINTR`). A call that transfers nothing ends the loop early (the end of a file), so the
/// result can be less than `count`; a failure throws `call`'s error.
func transfer(_ call: String, count: Int, _ step: (_ done: Int) -> Int) throws(SystemError) -> Int {
  var done = 0
  while done < count {
    let n = retrying { step(done) }
    if n < 0 { throw SystemError(call) }
    if n == 0 { break }
    done += n
  }
  return done
}

/// Calls `body` with the bytes of `array` for a system call to fill, passing on `body`'s typed
/// error (which `Array.withUnsafeMutableBytes` does not).
func withMutableBytes<R>(
  of array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(SystemError) -> R
) throws(SystemError) -> R {
  let result = array.withUnsafeMutableBytes { buffer in Result { () throws(SystemError) in try body(buffer) } }
  return try result.get()
}

/// The file type bits of a mode (`S_IFMT`), to compare with `S_IFREG`, `S_IFDIR`, `S_IFLNK`.
func fileType(_ mode: mode_t) -> mode_t { mode & mode_t(S_IFMT) }

/// Calls `body` with `bytes` as a NUL-terminated C string (the array-to-pointer conversion
/// keeps the storage alive for the duration of the call).
func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
  let terminated = bytes.map { CChar(bitPattern: $0) } + [0]
  return body(terminated)
}

/// The bytes of a NUL-terminated C string.
func bytes(ofCString string: UnsafePointer<CChar>) -> [UInt8] {
  Array(UnsafeRawBufferPointer(start: string, count: strlen(string)))
}
