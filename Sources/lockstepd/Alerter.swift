import Foundation
import LockstepConfiguration
import LockstepCore
import LockstepDelivery
import LockstepPlatform

/// The agent's alerts (lockstepd(8), ALERTS): every event the agent logs passes `AlertRules`;
/// an alert that goes is queued on the `AlertSender`, and what became of it is logged as an
/// `event=alert` line (which makes no alert of its own).
final class Alerter: @unchecked Sendable {
  private let lock = NSLock()
  private var rules: AlertRules
  private let settings: AlertSettings
  private let events: AgentEvents
  private let sender: AlertSender

  init(settings: AlertSettings, delivery: DeliverySettings, hostName: String, events: AgentEvents) {
    self.settings = settings
    self.events = events
    rules = AlertRules(settings: settings)
    let host = hostName.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f } && !hostName.isEmpty ? hostName : "localhost"
    sender = AlertSender(
      settings: settings, sendmail: delivery.sendmailCommand, from: delivery.emailFrom ?? "lockstepd@\(host)",
      hostName: host
    ) { alert, target, error in
      let line =
        error.map { LogLine("alert \(alert.kind) could not go by \(target): \($0)", event: "alert", outcome: "failed") }
        ?? LogLine("alert \(alert.kind) went by \(target): \(alert.summary)", event: "alert", outcome: "sent")
      events.record(error == nil ? .notice : .error, line.with("kind", alert.kind).with("target", target))
    }
  }

  /// Considers one event the agent logged.
  func observe(_ line: LogLine) {
    guard let fields = LogLine.fields(of: line.text), fields.first?.value != "alert" else { return }
    let decisions = lock.withLock { rules.consider(fields, now: SystemClock.now()) }
    for decision in decisions {
      switch decision {
      case .send(let alert): sender.send(alert)
      case .suppressed(let kind):
        events.record(
          .warning,
          LogLine(
            "alert \(kind) left out: \(settings.limit) alerts went within \(settings.windowSeconds) seconds already",
            event: "alert", outcome: "suppressed"
          ).with("kind", kind))
      }
    }
  }
}
