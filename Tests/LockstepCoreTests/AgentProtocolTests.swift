import Foundation
import LockstepCore
import LockstepPlatform
import Testing

/// The messages of the agent's socket: every request and reply survives the trip, and bytes
/// that are not a message are refused with a reason, never misread.
@Suite struct AgentProtocolTests {
  static let alice = UserName(bytes: Array("alice".utf8)).unsafelyUnwrapped
  static let qr = QRMatrix(width: 21, modules: Array(repeating: true, count: 441)).unsafelyUnwrapped

  static var verify: VerifyRequest {
    VerifyRequest(
      nonce: Array(0..<16), user: alice, service: "sshd", remoteHost: "192.0.2.7",
      code: SecretBytes(Array("123456".utf8)),
      backupCode: nil, policy: VerificationPolicy(window: 2, lookahead: 3, maxFailures: 4, lockoutSeconds: 60))
  }

  static var requests: [AgentRequest] {
    [
      .lookup(alice), .verify(verify), .fetch(alice),
      .store(alice, record: SecretBytes(Array("text".utf8)), mode: .replace),
      .update(alice, expected: SecretBytes(Array("before".utf8)), record: SecretBytes(Array("after".utf8))),
      .remove(alice), .list(after: nil), .list(after: alice), .status,
      .send(SendRequest(user: alice, service: "sshd", remoteHost: "192.0.2.7")),
      .deliver(alice, contact: .sms("+447700900123"), code: SecretBytes(Array("12345678".utf8))),
      .deliver(alice, contact: .email("alice@example.com"), code: SecretBytes(Array("123456".utf8))),
      .invitation(alice), .takeUp(verify),
    ]
  }

  static var replies: [AgentReply] {
    [
      .enrollment(nil, offer: nil),
      .enrollment(TokenParameters(kind: .hotp, algorithm: .sha256, digits: 8, period: 60), offer: nil),
      .verdict(.accepted(.code(step: 58_333_333)), kind: .totp),
      .verdict(.accepted(.backupCode(remaining: 4)), kind: .totp),
      .verdict(.rejected(.wrongCode, failures: 3, lockedUntil: nil), kind: .hotp),
      .verdict(.rejected(.replayedCode(step: 9), failures: 5, lockedUntil: 1_750_000_900), kind: .totp),
      .verdict(.rejected(.replayedEnrollmentCode(step: 9), failures: 0, lockedUntil: nil), kind: .totp),
      .verdict(.rejected(.notACode, failures: 1, lockedUntil: nil), kind: .totp),
      .verdict(.lockedOut(until: 1_750_000_900), kind: .totp), .notEnrolled, .record(nil),
      .record(SecretBytes(Array("record".utf8))),
      .names([alice, UserName(bytes: Array("bob".utf8)).unsafelyUnwrapped], more: true), .names([], more: false),
      .done(changed: false),
      .status([AgentStatusLine(name: "tls", healthy: true, detail: "TLSv1.3")]), .unavailable("down"), .refused("no"),
      .outdated,
      .enrollment(
        TokenParameters(kind: .delivered, algorithm: .sha1, digits: 6, period: 30),
        offer: DeliveryOffer(channel: .sms, hint: "••0123")),
      .verdict(.accepted(.sentCode), kind: .delivered),
      .sent(DeliveryOffer(channel: .email, hint: "a•••@example.com"), lifetimeSeconds: 300),
      .notSent(.cooldown(until: 1_750_000_060)), .notSent(.userLimit(until: 1_750_000_600)),
      .notSent(.sourceLimit(until: 1_750_000_600)), .notSent(.lockedOut(until: 1_750_000_900)),
      .notSent(.noChannel), .notSent(.deliveryFailed),
      .invited(.standard, expires: 1_750_259_200),
      .invitation(
        InvitationCard(
          uri: "otpauth://totp/alice?secret=GEZDGNBV",
          qr: Self.qr
        )),
      .tookUp(.accepted(.code(step: 58_333_333)), kind: .totp, backupCodes: [SecretBytes(Array("12345678".utf8))]),
      .tookUp(.rejected(.wrongCode, failures: 1, lockedUntil: nil), kind: .totp, backupCodes: []),
    ]
  }

  @Test func aLookupIsTheDocumentedBytes() throws {
    // Version 3, type 1, then the name as a 16-bit big-endian length and its bytes.
    #expect(AgentRequest.lookup(Self.alice).encoded() == [3, 1, 0, 5] + Array("alice".utf8))
    // Version 3, type 128 (enrollment), absent, no offer.
    #expect(AgentReply.enrollment(nil, offer: nil).encoded() == [3, 128, 0, 0])
    // An offer: the channel (2, SMS), then the hint as a field.
    #expect(
      AgentReply.enrollment(nil, offer: DeliveryOffer(channel: .sms, hint: "x")).encoded() == [3, 128, 0, 1, 2, 0, 1]
        + Array("x".utf8))
    // Type 140 (invited): the parameters (kind and algorithm as fields, digits and period as
    // 64-bit numbers), then the expiry.
    let eight = { (value: UInt8) in [0, 0, 0, 0, 0, 0, 0, value] }
    #expect(
      AgentReply.invited(.standard, expires: 255).encoded() == [3, 140, 0, 4] + Array("totp".utf8) + [0, 4]
        + Array("SHA1".utf8) + eight(6) + eight(30) + eight(255))
  }

  @Test func everyRequestReadsBackAsWritten() throws {
    for request in Self.requests {
      let bytes = request.encoded()
      #expect(try AgentRequest.decode(bytes).encoded() == bytes)
    }
    guard case .verify(let read) = try AgentRequest.decode(AgentRequest.verify(Self.verify).encoded()) else {
      Issue.record("not a verify request")
      return
    }
    #expect(read.nonce == Array(0..<16))
    #expect(read.user == Self.alice)
    #expect(read.code?.hasSameBytes(as: SecretBytes(Array("123456".utf8))) == true)
    #expect(read.backupCode == nil)
    #expect(read.policy == VerificationPolicy(window: 2, lookahead: 3, maxFailures: 4, lockoutSeconds: 60))
  }

  @Test func everyReplyReadsBackAsWritten() throws {
    for reply in Self.replies {
      let bytes = reply.encoded()
      #expect(try AgentReply.decode(bytes).encoded() == bytes, "\(reply)")
    }
    guard
      case .verdict(.rejected(.replayedCode(9), 5, 1_750_000_900), .totp) = try AgentReply.decode(
        Self.replies[5].encoded())
    else {
      Issue.record("the rejection did not read back")
      return
    }
  }

  @Test func everyTruncationOfAMessageIsRefused() {
    for bytes in Self.requests.map({ $0.encoded() }) + Self.replies.map({ $0.encoded() }) {
      for length in 0..<bytes.count {
        let cut = Array(bytes[..<length])
        #expect(
          (try? AgentRequest.decode(cut)) == nil && (try? AgentReply.decode(cut)) == nil, "\(bytes) cut at \(length)")
      }
    }
  }

  @Test func otherVersionsTypesAndTrailingBytesAreRefused() {
    var otherVersion = AgentRequest.list(after: nil).encoded()
    // Version 2, the release before invitations went through the agent, is refused like any other.
    otherVersion[0] = 2
    #expect(throws: WireError("unsupported protocol version")) { try AgentRequest.decode(otherVersion) }
    #expect(throws: WireError("unknown request type")) { try AgentRequest.decode([3, 99]) }
    #expect(throws: WireError("trailing bytes")) {
      try AgentRequest.decode(AgentRequest.list(after: nil).encoded() + [0])
    }
    #expect(throws: WireError("unknown reply type")) { try AgentReply.decode([3, 2]) }
    // A QR code that is not one is refused, not drawn.
    var card = AgentReply.invitation(
      InvitationCard(uri: "otpauth://", qr: Self.qr)
    ).encoded()
    // The width, after the version, the type and the URI's field, and the QR code's length.
    card[2 + 2 + "otpauth://".utf8.count + 2] = 22
    #expect(throws: WireError("invalid QR code")) { try AgentReply.decode(card) }
    // A contact that is not one (a line break in an address) is refused, not carried.
    var contact = AgentRequest.deliver(
      Self.alice, contact: .email("alice@example.com"), code: SecretBytes(Array("123456".utf8))
    ).encoded()
    contact[contact.firstIndex(of: UInt8(ascii: "@"))!] = UInt8(ascii: "\n")
    #expect(throws: WireError("invalid contact")) { try AgentRequest.decode(contact) }
  }

  @Test func aVerifyRequestOutsideTheModulesLimitsIsRefused() {
    var request = Self.verify
    request.policy.window = 11
    #expect(throws: WireError("window out of range")) {
      try AgentRequest.decode(AgentRequest.verify(request).encoded())
    }
    request.policy.window = 1
    request.policy.maxFailures = 0
    #expect(throws: WireError("max_failures out of range")) {
      try AgentRequest.decode(AgentRequest.verify(request).encoded())
    }
  }

  @Test func anExchangeOverTheSocketCarriesTheReply() throws {
    let path = FileManager.default.temporaryDirectory.path + "/agent-\(UUID().uuidString.prefix(8)).sock"
    defer { unlink(path) }
    let listener = try AgentListener(path: path)
    var st = stat()
    #expect(lstat(path, &st) == 0 && st.st_mode & 0o777 == 0o600, "the socket is root's alone")
    let seen = SeenByServer()
    let served = Thread { () in
      defer { seen.done.signal() }
      guard let connection = try? listener.accept(),
        let message = try? connection.receiveMessage(deadline: MonotonicClock.now() + 5_000_000_000),
        case .lookup(let user)? = try? AgentRequest.decode(message)
      else { return }
      seen.user = user
      seen.peer = try? connection.peerUID()
      try? connection.sendMessage(
        AgentReply.enrollment(.standard, offer: nil).encoded(), deadline: MonotonicClock.now() + 5_000_000_000)
    }
    served.start()
    let deadline = MonotonicClock.now() + 5_000_000_000
    let reply = try AgentConnection.connect(to: path, deadline: deadline).exchange(
      .lookup(Self.alice), deadline: deadline)
    guard case .enrollment(let parameters?, nil) = reply else {
      Issue.record("reply: \(reply)")
      return
    }
    #expect(parameters == .standard)
    #expect(seen.done.wait(timeout: .now() + 5) == .success)
    #expect(seen.user == Self.alice)
    #expect(seen.peer == getuid(), "the server sees who connected")
  }

  @Test func anAgentThatNeverAnswersTimesOutAtTheDeadline() throws {
    let path = FileManager.default.temporaryDirectory.path + "/agent-\(UUID().uuidString.prefix(8)).sock"
    defer { unlink(path) }
    let listener = try AgentListener(path: path)
    let started = MonotonicClock.now()
    let deadline = started + 300_000_000
    #expect(throws: AgentError.self) {
      try AgentConnection.connect(to: path, deadline: deadline).exchange(.list(after: nil), deadline: deadline)
    }
    let elapsed = MonotonicClock.now() - started
    #expect(elapsed >= 300_000_000 && elapsed < 3_000_000_000, "\(elapsed) ns")
    _ = listener
  }

  @Test func noSocketIsAClearError() {
    do {
      _ = try AgentConnection.connect(to: "/nonexistent/agent.sock", deadline: MonotonicClock.now() + 1_000_000_000)
      Issue.record("connected to nothing")
    } catch {
      #expect(error.description.contains("the agent at /nonexistent/agent.sock cannot be reached"))
      #expect(error.description.contains("No such file or directory"))
    }
  }
}

/// What the test's server thread saw, read once it signals `done`.
private final class SeenByServer: @unchecked Sendable {
  let done = DispatchSemaphore(value: 0)
  var user: UserName?
  var peer: UInt32?
}
