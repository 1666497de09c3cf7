import LockstepAdmin
import LockstepConfiguration
import LockstepCore
import LockstepPlatform

#if canImport(Glibc)
  import Glibc
#endif

extension Check {
  /// What lockstepd.conf's delivery settings leave open: no host key (the agent will not start),
  /// SMS to every country (a sprayer's numbers can run up the bill), email at all (not an
  /// out-of-band authenticator under NIST SP 800-63B-4).
  func auditDelivery(_ configuration: AgentConfiguration, file: String) -> [Located] {
    let delivery = configuration.delivery
    var findings: [Located] = []
    func add(_ severity: Severity, _ rule: String, _ message: String, fix: String) {
      findings.append(
        Located(file: file, finding: Finding(severity: severity, rule: rule, line: 0, message: message, fix: fix)))
    }
    guard delivery.email != nil || delivery.sms != nil else { return [] }
    let keyPath = configuration.hostKey ?? HostKey.defaultPath
    if configuration.store != nil, access(keyPath, F_OK) != 0 {
      add(
        .error, "delivery.host-key",
        "Codes are to be sent, but there is no host key at \(keyPath) to keep their hashes under: lockstepd will not start.",
        fix: "Run 'lockstep seal', which makes the host key (and seals the store's secrets with it).")
    }
    if delivery.sms != nil && delivery.smsCountries == nil {
      add(
        .warning, "delivery.sms-countries",
        "Codes may go by SMS to numbers of any country (premium-rate ranges aside): someone who sprays user names "
          + "with numbers abroad can run up the bill.",
        fix: "Add 'sms-countries =' with the calling codes of your users' numbers, such as 'sms-countries = 44,353'.")
    }
    if delivery.email != nil {
      add(
        .info, "delivery.email",
        "Codes can be sent by email, which NIST SP 800-63B-4 does not accept as an out-of-band authenticator: "
          + "whoever reads the mailbox has the code.",
        fix: "Prefer an authenticator app, or SMS where a user cannot have one.")
    }
    return findings
  }
}
