#if canImport(Glibc)
  import Glibc
#endif

/// Checks a property of the code under test: when it does not hold, says which and where on
/// standard error and aborts, so that libFuzzer reports a crash and saves the input.
func require(
  _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) {
  if condition { return }
  fputs("property broken at \(file):\(line): \(message())\n", stderr)
  abort()
}
