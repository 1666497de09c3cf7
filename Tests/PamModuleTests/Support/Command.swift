import Foundation

/// The outcome of running a program to completion.
struct CommandResult {
  var status: Int32
  var output: String
  var error: String
}

/// Runs `executable` with `arguments` and an optional extra environment, waiting for it to
/// exit; standard input is `input`, or empty.
func runCommand(
  _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil
) throws
  -> CommandResult
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  for (key, value) in environment { env[key] = value }
  process.environment = env
  // Standard error goes to a file, so that the child can never block on a full pipe that
  // nobody is reading while standard output is being read.
  let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-stderr-\(UUID())")
  FileManager.default.createFile(atPath: errorFile.path, contents: nil)
  defer { try? FileManager.default.removeItem(at: errorFile) }
  let errorHandle = try FileHandle(forWritingTo: errorFile)
  let out = Pipe()
  process.standardOutput = out
  process.standardError = errorHandle
  let inputPipe = input.map { _ in Pipe() }
  process.standardInput = inputPipe ?? FileHandle.nullDevice
  try process.run()
  try? errorHandle.close()
  if let inputPipe, let input {
    // A few bytes: the pipe's buffer holds them whether or not the child reads them.
    inputPipe.fileHandleForWriting.write(Data(input.utf8))
    try? inputPipe.fileHandleForWriting.close()
  }
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  let errData = (try? Data(contentsOf: errorFile)) ?? Data()
  return CommandResult(
    status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
    error: String(decoding: errData, as: UTF8.self))
}

/// The TOTP or HOTP code from `oathtool`, an implementation independent of Lockstep's.
func oathtool(
  secret: String, at time: Int64? = nil, counter: UInt64? = nil, digits: Int = 6, algorithm: String = "sha1"
)
  throws -> String
{
  var arguments = ["-d", String(digits), "-b", secret]
  if let counter {
    arguments = ["--hotp", "-c", String(counter)] + arguments
  } else {
    arguments = ["--totp=\(algorithm)", "--now", "@\(time ?? Int64(Date().timeIntervalSince1970))"] + arguments
  }
  let result = try runCommand("/usr/bin/oathtool", arguments)
  guard result.status == 0 else { throw TestFailure("oathtool failed: \(result.error)") }
  return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A failure in the test set-up itself.
struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Whether `text` contains `number` as a whole number (not as part of a longer one).
func containsNumber(_ text: String, _ number: String) -> Bool {
  text.range(of: "(?<![0-9])\(number)(?![0-9])", options: .regularExpression) != nil
}
