/// The words a label may take: the values Lockstep itself logs for one field (pam_lockstep(8),
/// LOG FORMAT). Anything else becomes `other`, and a missing value (or `-`) becomes `none`, so
/// that a forged or future log line can add no series, and a family's series stay few.
struct LabelVocabulary: Sendable {
  private let words: [String]

  init(_ words: [String]) {
    self.words = words
  }

  /// The label for a field's `value`.
  func label(_ value: String?) -> String {
    guard let value, value != "-" else { return "none" }
    return words.contains(value) ? value : "other"
  }

  /// `method=` of an accepted login.
  static let methods = LabelVocabulary(["totp", "hotp", "backup", "sent"])
  /// `reason=` of a refused login, the module's and the agent's.
  static let refusals = LabelVocabulary([
    "wrong-code", "replay", "enrollment-replay", "not-a-code", "locked-out", "not-enrolled", "alias-not-enrolled",
    "no-password", "password-not-a-code", "bad-name", "record-gone",
  ])
  /// `reason=` of a login that failed closed (`outcome=error`).
  static let errors = LabelVocabulary(["config", "accounts", "store", "agent", "random"])
  /// `channel=` of a send.
  static let channels = LabelVocabulary(["email", "sms"])
  /// `outcome=` of a send (`event=delivery`).
  static let sendOutcomes = LabelVocabulary(["sent", "failed", "refused"])
  /// `reason=` of a refused send.
  static let sendRefusals = LabelVocabulary([
    "no-channel", "no-contact", "destination", "cooldown", "user-limit", "source-limit", "locked-out",
  ])
  /// `outcome=` of `event=database`.
  static let databaseOutcomes = LabelVocabulary(["unavailable", "lost", "failover"])
  /// `outcome=` of `event=agent` other than `started`.
  static let agentErrors = LabelVocabulary(["error", "client-refused", "request-refused", "exchange-failed"])
}
