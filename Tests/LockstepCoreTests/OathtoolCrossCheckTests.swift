import Foundation
import LockstepCore
import Testing

/// Codes compared with `oathtool` (OATH Toolkit), an implementation independent of this one.
@Suite("oathtool cross-check")
struct OathtoolCrossCheckTests {
  static let oathtool = "/usr/bin/oathtool"

  /// What oathtool prints for its arguments, without the newline.
  private func oathtool(_ arguments: [String]) throws -> String {
    try #require(FileManager.default.isExecutableFile(atPath: Self.oathtool), "install the Debian package oathtool")
    let result = try runProgram(Self.oathtool, arguments)
    try #require(result.status == 0, "oathtool \(arguments.joined(separator: " ")) failed")
    return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  @Test("HOTP (SHA1) for random secrets, digits and counters")
  func hotp() throws {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    for _ in 0..<50 {
      let key = randomBytes(Int.random(in: 10...64, using: &generator), using: &generator)
      let digits = Int.random(in: 6...8, using: &generator)
      let counter =
        Bool.random(using: &generator)
        ? UInt64.random(in: 0...1_000_000, using: &generator) : UInt64.random(in: 0...UInt64.max, using: &generator)
      let expected = try oathtool(["--hotp", "-d", String(digits), "-c", String(counter), hexString(key)])
      let text = OneTimePassword.text(
        secret: SecretBytes(key), counter: counter, algorithm: .sha1, digits: digits, crypto: libCrypto)
      #expect(
        String(decoding: text ?? [], as: UTF8.self) == expected,
        "seed \(seed): key \(hexString(key)), counter \(counter), \(digits) digits")
    }
  }

  @Test("TOTP for random secrets, digits and times", arguments: OTPAlgorithm.allCases)
  func totp(algorithm: OTPAlgorithm) throws {
    let seed = UInt64.random(in: 0...UInt64.max)
    var generator = SeededGenerator(seed: seed)
    for index in 0..<50 {
      let key = randomBytes(Int.random(in: 10...100, using: &generator), using: &generator)
      let digits = Int.random(in: 6...8, using: &generator)
      // Mostly the standard 30 seconds; some other periods too.
      let period = index % 5 == 4 ? Int.random(in: 1...600, using: &generator) : 30
      let time = Int64.random(in: 0...(Int64(1) << 35), using: &generator)
      let expected = try oathtool([
        "--totp=\(algorithm.rawValue)", "-d", String(digits), "-s", "\(period)s", "-N", "@\(time)", hexString(key),
      ])
      let parameters = TokenParameters(kind: .totp, algorithm: algorithm, digits: digits, period: period)
      let step = parameters.timeStep(at: time)
      let text = OneTimePassword.text(
        secret: SecretBytes(key), counter: UInt64(step), algorithm: algorithm, digits: digits, crypto: libCrypto)
      #expect(
        String(decoding: text ?? [], as: UTF8.self) == expected,
        "seed \(seed): key \(hexString(key)), time \(time), period \(period), \(digits) digits")
    }
  }
}
