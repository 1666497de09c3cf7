import Foundation

extension Sandbox {
  /// Runs one driver process per request, all released at the same instant from a start line
  /// (each reports ready on a FIFO and then waits for end-of-file on another, which this test
  /// gives all of them at once), and returns what each saw, in the order of `requests`.
  func raceLogins(_ requests: [LoginRequest]) throws -> [Login] {
    let line = try StartLine(in: root, name: "race-\(UUID().uuidString.prefix(8))")
    var children: [Child] = []
    defer { children.forEach { $0.kill() } }
    for (index, request) in requests.enumerated() {
      children.append(
        try Child(
          Paths.driver, driverArguments(request) + line.driverArguments, environment: request.environment,
          output: root + "/race-\(index).out"))
    }
    try line.waitUntilReady(children)
    line.release()
    return children.map { Login(parsing: $0.wait()) }
  }

  /// `count` logins as alice with the same `answer` at `time`, released at the same instant.
  func raceLogins(count: Int, answer: String, time: Int64) throws -> [Login] {
    try raceLogins(Array(repeating: LoginRequest(answers: [answer], time: time), count: count))
  }
}
