import CCurl
import LockstepConfiguration

/// `email = smtp`: one message to an SMTP server through libcurl, over TLS from the start
/// (`smtps://`) or after STARTTLS, which is required (`smtp://`): a server that does not offer
/// it is refused, so the password and the code never cross the network in clear.
enum SMTP {
  static func send(
    _ mail: MailMessage, settings: DeliverySettings, password: String?, deadline: UInt64
  ) throws(DeliveryError) -> DeliveryReceipt {
    guard let server = settings.smtpURL else { throw DeliveryError("smtp: no smtp-url") }
    // The URL's path is the name libcurl gives in EHLO.
    let transfer = try CurlTransfer(
      url: server.url + "/" + mail.domain, protocols: "smtp,smtps", caFile: settings.smtpCAFile, deadline: deadline)
    transfer.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
    transfer.set(CURLOPT_MAIL_FROM, "<\(mail.from)>")
    transfer.set(CURLOPT_MAIL_RCPT, list: ["<\(mail.to)>"])
    if let user = settings.smtpUser, let password {
      transfer.set(CURLOPT_USERNAME, user)
      transfer.set(CURLOPT_PASSWORD, password)
    }
    transfer.upload(mail.text(newline: "\r\n"))
    try transfer.perform("smtp")
    return DeliveryReceipt(provider: "smtp", messageID: mail.messageID)
  }
}
