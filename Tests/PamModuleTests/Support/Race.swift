import Foundation

extension Sandbox {
  /// Runs `count` logins in separate driver processes released at the same instant: each
  /// driver reports on a "ready" FIFO and then waits for end-of-file on a "start" FIFO, which
  /// this test gives to all of them at once by closing its end once every driver is ready.
  func raceLogins(count: Int, answer: String, time: Int64) throws -> [Login] {
    let ready = root + "/ready.fifo"
    let start = root + "/start.fifo"
    guard mkfifo(ready, 0o600) == 0, mkfifo(start, 0o600) == 0 else { throw TestFailure("mkfifo failed") }
    // Held open read-write, so that neither open blocks and the drivers' reads wait for us.
    let readyFD = open(ready, O_RDWR)
    let startFD = open(start, O_RDWR)
    guard readyFD >= 0, startFD >= 0 else { throw TestFailure("cannot open the FIFOs") }
    defer { close(readyFD) }
    var processes: [(Process, Pipe)] = []
    for _ in 0..<count {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: Paths.driver)
      process.arguments = [
        "--confdir", confdir, "--service", "lockstep-test", "--syslog", syslog, "--user", "alice",
        "--answer", answer, "--ready-fifo", ready, "--start-fifo", start,
      ]
      process.environment = ["LD_PRELOAD": Paths.faketime, "FAKETIME_FMT": "%s", "FAKETIME": String(time), "TZ": "UTC"]
      let pipe = Pipe()
      process.standardOutput = pipe
      process.standardInput = FileHandle.nullDevice
      try process.run()
      processes.append((process, pipe))
    }
    var byte: UInt8 = 0
    for _ in 0..<count {
      // A watchdog, not a timing assumption: a driver that died before reporting would
      // otherwise leave this test waiting forever.
      var waiting = pollfd(fd: readyFD, events: Int16(POLLIN), revents: 0)
      guard poll(&waiting, 1, 60_000) == 1, read(readyFD, &byte, 1) == 1 else {
        processes.forEach { $0.0.terminate() }
        throw TestFailure("a driver did not report ready within a minute")
      }
    }
    close(startFD)
    return processes.map { process, pipe in
      let output = pipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return Login(
        parsing: CommandResult(
          status: process.terminationStatus, output: String(decoding: output, as: UTF8.self), error: ""))
    }
  }
}
