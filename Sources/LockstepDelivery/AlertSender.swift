import Dispatch
import LockstepConfiguration
import LockstepCore
import LockstepPlatform

/// Sends alerts where `alert-command` and `alert-email` say, one at a time on a queue of its
/// own, so that no login waits for an alert. The command gets the alert's JSON on its
/// standard input; the mail goes through the `sendmail =` command, as emailed codes do. Each
/// runs within `alert-timeout` and is killed past it (see `Sendmail.run`).
public final class AlertSender: Sendable {
  private let settings: AlertSettings
  private let sendmail: [String]
  private let from: String
  private let hostName: String
  private let queue = DispatchQueue(label: "lockstepd.alerts")
  /// Told what became of each alert: where it went (`command`, `email`), and the error if it
  /// failed.
  private let report: @Sendable (Alert, _ target: String, _ error: String?) -> Void

  /// `from` is the mail's sender; `hostName` names this host in every alert.
  public init(
    settings: AlertSettings, sendmail: [String], from: String, hostName: String,
    report: @escaping @Sendable (Alert, _ target: String, _ error: String?) -> Void
  ) {
    self.settings = settings
    self.sendmail = sendmail
    self.from = from
    self.hostName = hostName
    self.report = report
  }

  /// Queues `alert`; returns at once.
  public func send(_ alert: Alert) {
    queue.async { self.deliver(alert) }
  }

  private func deliver(_ alert: Alert) {
    let json = alert.json(host: hostName)
    if let command = settings.command {
      report(
        alert, "command",
        failure { () throws(DeliveryError) in try self.run(command, input: Array((json + "\n").utf8)) }.map {
          "alert-command: " + $0
        })
    }
    if let address = settings.email {
      let mail = MailMessage(
        from: from, to: address, subject: "Lockstep alert on \(hostName): \(alert.kind)",
        body: "\(alert.summary).\n\nThe event, as JSON:\n\(json)\n", hostName: hostName)
      report(
        alert, "email",
        failure { () throws(DeliveryError) in
          _ = try Sendmail.send(mail, command: self.sendmail, deadline: self.deadline())
        })
    }
  }

  private func run(_ command: [String], input: [UInt8]) throws(DeliveryError) {
    let result = try Sendmail.run(command, input: input, deadline: deadline())
    guard result.status == 0 else {
      let line = result.errorOutput.split(separator: "\n").first.map { ": " + printable(String($0)) } ?? ""
      throw DeliveryError("\(command[0]) exited with status \(result.status)\(line)")
    }
  }

  private func deadline() -> UInt64 {
    MonotonicClock.now() &+ UInt64(settings.timeoutSeconds) &* 1_000_000_000
  }

  /// `nil` when `body` succeeds, else its error.
  private func failure(_ body: () throws(DeliveryError) -> Void) -> String? {
    do {
      try body()
      return nil
    } catch {
      return error.reason
    }
  }
}
