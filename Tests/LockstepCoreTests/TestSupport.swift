import Foundation
import LockstepCore
import LockstepLibCrypto
import LockstepPlatform

/// The production crypto provider, shared by all tests.
let libCrypto = LibCrypto()

/// A string's UTF-8 bytes.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The bytes held by secret storage.
func bytes(of secret: SecretBytes) -> [UInt8] { secret.withUnsafeBytes { Array($0) } }

/// The bytes held by secret storage, as a string (for readable failure messages).
func text(of secret: SecretBytes?) -> String? {
  secret.map { String(decoding: bytes(of: $0), as: UTF8.self) }
}

/// Secret storage holding a string's UTF-8 bytes.
func secretBytes(_ text: String) -> SecretBytes { SecretBytes(Array(text.utf8)) }

/// Bytes from hexadecimal written in a test (not decoded by the code under test).
func hexBytes(_ hex: String) -> [UInt8] {
  let digits = Array(hex.utf8)
  precondition(digits.count % 2 == 0)
  func nibble(_ c: UInt8) -> UInt8 {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    default: preconditionFailure("not lower-case hex")
    }
  }
  return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
}

/// Lower-case hexadecimal of bytes, written here so that it does not depend on `Hex`.
func hexString(_ bytes: [UInt8]) -> String {
  bytes.map { String(format: "%02x", $0) }.joined()
}

/// A small seeded generator (SplitMix64), so that a failing random test can be repeated
/// from the seed in its failure message.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// `count` random bytes from `generator`.
func randomBytes(_ count: Int, using generator: inout SeededGenerator) -> [UInt8] {
  (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// The result of running a program to completion.
struct ProgramOutput {
  var status: Int32
  var standardOutput: String
}

/// Runs `executable` with `arguments` and no input, and collects its standard output.
func runProgram(_ executable: String, _ arguments: [String]) throws -> ProgramOutput {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let output = Pipe()
  process.standardOutput = output
  process.standardError = FileHandle.nullDevice
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return ProgramOutput(status: process.terminationStatus, standardOutput: String(decoding: data, as: UTF8.self))
}
