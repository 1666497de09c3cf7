import Foundation
import LockstepCore
import Testing

/// Logins that race each other for the same user.
@Suite struct ConcurrencyTests {
  static let now = LoginTests.now

  @Test func sameCodeFromManyProcessesSucceedsExactlyOnce() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=100"])
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let logins = try sandbox.raceLogins(count: 16, answer: code, time: Self.now)
    #expect(logins.allSatisfy { $0.status == 0 })
    #expect(logins.filter { $0.result == "PAM_SUCCESS" }.count == 1)
    #expect(logins.filter { $0.result == "PAM_AUTH_ERR" }.count == 15)
    let record = try #require(try sandbox.record("alice"))
    #expect(record.lastStep == Self.now / 30)
    #expect(record.failures == 15)
  }

  @Test func everyFailureIsCountedUnderContention() throws {
    let sandbox = try Sandbox(arguments: ["max_failures=1000"])
    try sandbox.enroll("alice")
    let logins = try sandbox.raceLogins(count: 12, answer: "000000", time: Self.now)
    #expect(logins.allSatisfy { $0.result == "PAM_AUTH_ERR" })
    #expect(try sandbox.record("alice")?.failures == 12, "no update may be lost")
  }
}
