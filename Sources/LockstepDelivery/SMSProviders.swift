import CCurl
import Foundation
import LockstepConfiguration
import LockstepCore

/// One SMS to send.
struct SMSRequest {
  /// E.164, with its `+`.
  let to: String
  let body: String
  let lifetimeSeconds: Int
  let deadline: UInt64
}

/// The SMS providers' HTTPS APIs: one POST each, https only, no redirects followed
/// (`CurlTransfer`), credentials in libcurl's options and never in a URL or a reason.
enum SMSProviders {
  /// Twilio's Messages API: `POST {twilio-url}/2010-04-01/Accounts/{AccountSid}/Messages.json`,
  /// a form with `To`, `From` or `MessagingServiceSid`, `Body` and `ValidityPeriod` (seconds:
  /// a code that cannot arrive before it expires is not worth sending late), Basic
  /// authentication with the account and its auth token or an API key and its secret.
  /// Accepted is 201 with the message's `sid`; an error is Twilio's JSON `code`, `message`,
  /// `more_info`.
  static func twilio(
    _ request: SMSRequest, settings: DeliverySettings, credentials: Deliverer.Credentials
  ) throws(DeliveryError) -> DeliveryReceipt {
    guard let account = settings.twilioAccountSID, let user = credentials.twilioUser,
      let password = credentials.twilioPassword
    else { throw DeliveryError("twilio: not configured") }
    var fields = [("To", request.to)]
    if let service = settings.twilioMessagingServiceSID {
      fields.append(("MessagingServiceSid", service))
    } else if let from = settings.twilioFrom {
      fields.append(("From", from))
    }
    fields.append(("Body", request.body))
    fields.append(("ValidityPeriod", String(min(max(request.lifetimeSeconds, 1), 36000))))
    let transfer = try CurlTransfer(
      url: settings.twilioURL + "/2010-04-01/Accounts/\(account)/Messages.json", protocols: "https",
      caFile: settings.smsCAFile, deadline: request.deadline)
    transfer.set(CURLOPT_HTTPAUTH, 1)  // CURLAUTH_BASIC, a cast macro that Swift cannot import
    transfer.set(CURLOPT_USERNAME, user)
    transfer.set(CURLOPT_PASSWORD, password)
    let (status, json) = try exchange(transfer, "twilio", form: fields)
    guard status == 201 else {
      let code = json.flatMap { jsonText($0["code"]) }
      let message = json.flatMap { jsonText($0["message"]) }
      let more = json.flatMap { jsonText($0["more_info"]) }
      var reason = "twilio " + (code ?? "HTTP \(status)")
      if let message { reason += ": " + message }
      if let more { reason += " (\(more))" }
      throw DeliveryError(printable(reason))
    }
    return DeliveryReceipt(provider: "twilio", messageID: json.flatMap { jsonText($0["sid"]) })
  }

  /// Vonage's SMS API: `POST {vonage-url}/sms/json`, a form with `api_key`, `api_secret`,
  /// `from`, `to` (digits, without the `+`) and `text`; sent is HTTP 200 with
  /// `messages[0].status` "0" and its `message-id`, otherwise its `error-text`.
  static func vonage(
    _ request: SMSRequest, settings: DeliverySettings, credentials: Deliverer.Credentials
  ) throws(DeliveryError) -> DeliveryReceipt {
    guard let key = settings.vonageAPIKey, let secret = credentials.vonageSecret, let from = settings.vonageFrom else {
      throw DeliveryError("vonage: not configured")
    }
    let sender = from.hasPrefix("+") ? String(from.dropFirst()) : from
    let transfer = try CurlTransfer(
      url: settings.vonageURL + "/sms/json", protocols: "https", caFile: settings.smsCAFile,
      deadline: request.deadline)
    let (status, json) = try exchange(
      transfer, "vonage",
      form: [
        ("api_key", key), ("api_secret", secret), ("from", sender), ("to", String(request.to.dropFirst())),
        ("text", request.body), ("type", request.body.utf8.allSatisfy { $0 < 0x80 } ? "text" : "unicode"),
      ])
    let first = (json?["messages"] as? [Any])?.first as? [String: Any]
    let messageStatus = first.flatMap { jsonText($0["status"]) }
    guard status == 200, messageStatus == "0" else {
      var reason = "vonage " + (messageStatus ?? "HTTP \(status)")
      if let text = first.flatMap({ jsonText($0["error-text"]) }) { reason += ": " + text }
      throw DeliveryError(printable(reason))
    }
    return DeliveryReceipt(provider: "vonage", messageID: first.flatMap { jsonText($0["message-id"]) })
  }

  /// A site's own gateway: `POST {webhook-url}` with the JSON
  /// `{"to": "+…", "channel": "sms", "message": "…"}` and, with `webhook-token-file`,
  /// `Authorization: Bearer …`. Any 2xx is sent; its JSON `id`, if any, is the message's id.
  static func webhook(
    _ request: SMSRequest, settings: DeliverySettings, credentials: Deliverer.Credentials
  ) throws(DeliveryError) -> DeliveryReceipt {
    guard let url = settings.webhookURL else { throw DeliveryError("webhook: not configured") }
    let transfer = try CurlTransfer(
      url: url, protocols: "https", caFile: settings.smsCAFile, deadline: request.deadline)
    var headers = ["Content-Type: application/json", "Accept: application/json", "Expect:"]
    if let token = credentials.webhookToken { headers.append("Authorization: Bearer \(token)") }
    transfer.set(CURLOPT_HTTPHEADER, list: headers)
    let body =
      "{\"to\": \(JSONText.quoted(request.to)), \"channel\": \"sms\", \"message\": \(JSONText.quoted(request.body))}"
    transfer.post(Array(body.utf8))
    transfer.set(CURLOPT_USERAGENT, "lockstepd")
    try transfer.perform("webhook")
    let status = transfer.responseCode
    let json = parseObject(transfer.response)
    guard (200..<300).contains(status) else {
      var reason = "webhook: HTTP \(status)"
      if let error = json.flatMap({ jsonText($0["error"]) ?? jsonText($0["message"]) }) {
        reason += ": " + error
      } else if let line = String(decoding: transfer.response, as: UTF8.self).split(separator: "\n").first {
        reason += ": " + String(line.prefix(200))
      }
      throw DeliveryError(printable(reason))
    }
    return DeliveryReceipt(provider: "webhook", messageID: json.flatMap { jsonText($0["id"]) })
  }

  /// POSTs `form` and returns the HTTP status and the response as a JSON object, if it is one.
  private static func exchange(
    _ transfer: CurlTransfer, _ provider: String, form: [(String, String)]
  ) throws(DeliveryError) -> (Int, [String: Any]?) {
    transfer.set(
      CURLOPT_HTTPHEADER,
      list: ["Content-Type: application/x-www-form-urlencoded", "Accept: application/json", "Expect:"])
    transfer.set(CURLOPT_USERAGENT, "lockstepd")
    transfer.post(Array(formEncoded(form).utf8))
    try transfer.perform(provider)
    return (transfer.responseCode, parseObject(transfer.response))
  }
}

/// `application/x-www-form-urlencoded`: letters, digits and `-._~` as they are, a space as `+`,
/// every other byte of the UTF-8 as `%XX` (so the `+` of a number is `%2B`).
func formEncoded(_ fields: [(String, String)]) -> String {
  func encode(_ text: String) -> String {
    var result = ""
    let hex = Array("0123456789ABCDEF".utf8)
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
        UInt8(ascii: "~"):
        result.unicodeScalars.append(Unicode.Scalar(byte))
      case UInt8(ascii: " "): result += "+"
      default:
        result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
      }
    }
    return result
  }
  return fields.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
}

/// The JSON object in `bytes`, or nil.
private func parseObject(_ bytes: [UInt8]) -> [String: Any]? {
  guard !bytes.isEmpty else { return nil }
  return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
}

/// A JSON string or number as text (Twilio's `code` is a number, Vonage's `status` a string).
private func jsonText(_ value: Any?) -> String? {
  switch value {
  case let text as String: return text
  case let number as NSNumber: return number.stringValue
  default: return nil
  }
}
