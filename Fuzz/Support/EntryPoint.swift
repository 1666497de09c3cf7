/// The function libFuzzer calls with each input: it hands the bytes to the target's `fuzz(_:)`.
///
/// Every target defines `func fuzz(_ input: UnsafeRawBufferPointer)`, which checks properties
/// with `require(_:_:)`; a broken property or a trap stops the process, and libFuzzer keeps
/// the input that did it.
@_cdecl("LLVMFuzzerTestOneInput")
public func llvmFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  fuzz(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
  return 0
}
