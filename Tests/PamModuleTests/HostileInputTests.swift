import Foundation
import LockstepCore
import Testing

/// Answers and calls that no honest client sends: each gets the expected PAM code, and none
/// changes the record. An answer that cannot be a code is not even counted as a failure.
@Suite struct HostileInputTests {
  static let now = LoginTests.now

  struct Case: CustomStringConvertible, Sendable {
    var description: String
    var arguments: [String]
  }

  static let answers: [Case] = [
    Case(description: "empty", arguments: ["--answer", ""]),
    Case(description: "10 MB", arguments: ["--answer-repeat", "10485760:7"]),
    Case(description: "NUL inside", arguments: ["--answer-hex", "313233003435"]),
    Case(
      description: "not UTF-8",
      arguments: ["--answer-hex", "ff fe 31 32 33 34".replacingOccurrences(of: " ", with: "")]),
    Case(description: "five digits", arguments: ["--answer", "12345"]),
    Case(description: "seven digits", arguments: ["--answer", "1234567"]),
    Case(description: "nine digits", arguments: ["--answer", "123456789"]),
    Case(description: "plus sign", arguments: ["--answer", "+12345"]),
    Case(description: "full-width digits", arguments: ["--answer", "１２３４５６"]),
    Case(description: "letters", arguments: ["--answer", "abcdef"]),
    Case(description: "format string", arguments: ["--answer", "%s%n%x%p"]),
  ]

  @Test(arguments: answers)
  func nastyAnswerIsAPlainFailure(_ answer: Case) throws {
    let sandbox = try Sandbox()
    let before = try sandbox.enroll("alice")
    let login = try sandbox.login(LoginRequest(extraArguments: answer.arguments, time: Self.now))
    #expect(login.status == 0)
    #expect(login.result == "PAM_AUTH_ERR")
    let after = try #require(try sandbox.record("alice"))
    #expect(after.hasSameLoginState(as: before) && after.hasSameEnrollment(as: before))
    #expect(sandbox.logLines().contains { $0.contains("the answer is not a code") })
  }

  @Test func codeWithSurroundingSpacesIsAccepted() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    #expect(try sandbox.login(answers: ["  \(code)\t"], at: Self.now).result == "PAM_SUCCESS")
  }

  @Test func missingConversationIsAConversationError() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let login = try sandbox.login(LoginRequest(extraArguments: ["--no-conv"], time: Self.now))
    #expect(login.result == "PAM_CONV_ERR")
    #expect(try sandbox.record("alice")?.failures == 0)
  }

  @Test func failingConversationIsAConversationError() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let login = try sandbox.login(LoginRequest(extraArguments: ["--fail-conv"], time: Self.now))
    #expect(login.result == "PAM_CONV_ERR")
    #expect(try sandbox.record("alice")?.failures == 0)
  }

  @Test func conversationWithoutAnAnswerIsAConversationError() throws {
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    #expect(try sandbox.login(answers: [], at: Self.now).result == "PAM_CONV_ERR")
  }

  @Test(arguments: ["bogus", "window=eleven", "window=11", "max_failures=0", "store=relative/path", "nullok=1"])
  func badModuleArgumentIsRefused(argument: String) throws {
    let sandbox = try Sandbox(arguments: [argument])
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(answers: [code], at: Self.now)
    #expect(login.result == "PAM_SERVICE_ERR")
    #expect(login.prompts.isEmpty)
    #expect(sandbox.logLines().contains { $0.contains("configuration error") && $0.contains("<83>") })
  }

  @Test func userNameAskedThroughTheConversation() throws {
    // With no PAM_USER set, pam_get_user asks for it through the conversation first.
    let sandbox = try Sandbox()
    try sandbox.enroll("alice")
    let code = try oathtool(secret: Sandbox.secret, at: Self.now)
    let login = try sandbox.login(LoginRequest(user: nil, answers: ["alice", code], time: Self.now))
    #expect(login.result == "PAM_SUCCESS")
    #expect(login.prompts.count == 2)
  }
}
