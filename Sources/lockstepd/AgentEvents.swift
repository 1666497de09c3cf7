import Foundation
import LockstepCore
import Logging

/// What the agent tells of its work. Every event (a checked login, a lockout, a code sent or
/// not, the database's health) is one log line in the format of pam_lockstep(8), LOG FORMAT,
/// and, once logged, is handed to what watches the agent (its metrics and alerts), so that they
/// count exactly what the log says.
final class AgentEvents: @unchecked Sendable {
  /// Told of every event after it is logged, on the thread that logged it.
  typealias Observer = @Sendable (LogLine) -> Void

  private let logger: Logger
  private let lock = NSLock()
  private var observers: [Observer] = []

  init(logger: Logger) {
    self.logger = logger
  }

  /// Adds an observer; done before the agent serves its first request.
  func observe(_ observer: @escaping Observer) {
    lock.withLock { observers.append(observer) }
  }

  /// Logs `line` at `level` and tells the observers.
  func record(_ level: Logger.Level, _ line: LogLine) {
    logger.log(level: level, "\(line.text)")
    for observer in lock.withLock({ observers }) { observer(line) }
  }

  /// Records the verdict the agent gave a login (`event=verify`), the lockout it started, and
  /// an invitation taken up (`event=invitation`).
  func verdict(_ reply: AgentReply, for request: VerifyRequest) {
    switch reply {
    case .verdict(let outcome, let kind), .tookUp(let outcome, let kind, _):
      let message: String
      let level: Logger.Level
      switch outcome {
      case .accepted(.code(let step)): (message, level) = ("accepted verification code (step \(step))", .info)
      case .accepted(.backupCode(let remaining)):
        (message, level) = ("accepted backup code (\(remaining) left)", .notice)
      case .accepted(.sentCode): (message, level) = ("accepted the code sent to the user", .info)
      case .rejected(let reason, let failures, _):
        (message, level) = ("refused: \(Self.words(reason)); failure \(failures)", .notice)
      case .lockedOut(let until): (message, level) = ("refused unchecked: locked out until \(until)", .notice)
      }
      record(level, by(LogLine(message, event: "verify", verdict: outcome, kind: kind), request))
      if case .rejected(_, let failures, let until?) = outcome {
        record(
          .warning,
          by(
            .lockout(
              "locked out until \(until) after \(failures) consecutive failures", failures: failures, until: until),
            request))
      }
      if case .tookUp(.accepted, _, let codes) = reply {
        record(
          .notice,
          by(
            LogLine(
              "took up the invitation: enrolled, with \(codes.count) backup codes", event: "invitation",
              outcome: "accepted"
            ).with("left", codes.count), request))
      }
    case .notEnrolled:
      record(
        .notice,
        by(
          LogLine("refused: not enrolled", event: "verify", outcome: "refused").with("reason", "not-enrolled"), request)
      )
    default: break
    }
  }

  /// `line` with the login's service, remote host and user. The module sends the service and
  /// the remote host already escaped as fields; anything in them that a field may not hold is
  /// escaped again here, so that a client cannot add a field.
  func by(_ line: LogLine, service: String, rhost: String, user: UserName) -> LogLine {
    line.by(service: Self.field(service), rhost: Self.field(rhost), user: user.description)
  }

  private func by(_ line: LogLine, _ request: VerifyRequest) -> LogLine {
    by(line, service: request.service, rhost: request.remoteHost, user: request.user)
  }

  /// `text` when it is already a safe field value (as the module escapes it), else escaped.
  private static func field(_ text: String) -> String {
    let bytes = Array(text.utf8)
    let safe = !bytes.isEmpty && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7f && !"\"';=".utf8.contains($0) }
    return safe ? text : LogText.field(bytes)
  }

  private static func words(_ reason: RejectionReason) -> String {
    switch reason {
    case .wrongCode: "wrong verification code"
    case .replayedCode(let step): "replayed verification code (step \(step) was already used)"
    case .replayedEnrollmentCode(let step): "replayed enrollment code (step \(step))"
    case .notACode: "the answer is not a code"
    }
  }
}
