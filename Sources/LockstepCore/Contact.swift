/// Where a user's codes can be sent: an email address or a mobile number.
///
/// Both are checked when they are given (`init(email:)`, `init(phone:)`) and again whenever a
/// record is read, so that what reaches a mail header or a provider's form is always one of a
/// small set of characters: never a line break, a space or a control character.
public enum Contact: Equatable, Sendable {
  /// An address of the form `local@domain`, ASCII, at most 254 bytes.
  case email(String)
  /// A number in E.164 form: `+`, then 8 to 15 digits, the first not 0.
  case sms(String)

  /// The channel the contact is reached by.
  public var channel: DeliveryChannel {
    switch self {
    case .email: return .email
    case .sms: return .sms
    }
  }

  /// The address or number as stored.
  public var address: String {
    switch self {
    case .email(let address), .sms(let address): return address
    }
  }

  /// An email address, checked; `nil` when it is not one this project sends to.
  public init?(email: String) {
    let bytes = Array(email.utf8)
    guard bytes.count <= 254, let at = bytes.firstIndex(of: UInt8(ascii: "@")), at > 0, at <= 64,
      at < bytes.count - 1, bytes.lastIndex(of: UInt8(ascii: "@")) == at
    else { return nil }
    let local = bytes[..<at]
    let domain = bytes[(at + 1)...]
    let localPunctuation = Array("!#$%&'*+-/=?^_`{|}~.".utf8)
    guard local.allSatisfy({ Self.isAlphanumeric($0) || localPunctuation.contains($0) }),
      local.first != UInt8(ascii: "."), local.last != UInt8(ascii: "."),
      domain.allSatisfy({ Self.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }),
      domain.first != UInt8(ascii: "."), domain.last != UInt8(ascii: "."),
      domain.first != UInt8(ascii: "-")
    else { return nil }
    var previous: UInt8 = 0
    for byte in bytes {
      if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") { return nil }
      previous = byte
    }
    self = .email(email)
  }

  /// A mobile number in E.164 form, checked; `nil` when it is not one.
  public init?(phone: String) {
    let bytes = Array(phone.utf8)
    guard bytes.count >= 9, bytes.count <= 16, bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0"),
      bytes.dropFirst().allSatisfy(Self.isDigit)
    else { return nil }
    self = .sms(phone)
  }

  /// The contact as `lockstep status` shows it: `a•••@example.com`, `+44 •••• ••0123`.
  public var masked: String {
    switch self {
    case .email(let address):
      let bytes = Array(address.utf8)
      let at = bytes.firstIndex(of: UInt8(ascii: "@")) ?? 0
      return String(decoding: bytes[..<1], as: UTF8.self) + "•••" + String(decoding: bytes[at...], as: UTF8.self)
    case .sms:
      let national = Array(nationalNumber.utf8)
      let hidden = national.count - 4
      var text = "+" + callingCode + " "
      for index in 0..<hidden {
        if index == 4 { text += " " }
        text += "•"
      }
      return text + String(decoding: national[hidden...], as: UTF8.self)
    }
  }

  /// The short form the login prompt names: `••0123` for a number, the masked address for email.
  public var hint: String {
    switch self {
    case .email: return masked
    case .sms(let number): return "••" + String(decoding: Array(number.utf8).suffix(4), as: UTF8.self)
    }
  }

  /// For a number: its country calling code (ITU-T E.164 assigns 1, 2 and 3 digit codes, and
  /// no code is a prefix of another); "" for an email address.
  public var callingCode: String {
    guard case .sms(let number) = self else { return "" }
    let digits = Array(number.utf8.dropFirst())
    let first = digits[0] &- UInt8(ascii: "0")
    let second = digits[1] &- UInt8(ascii: "0")
    let length: Int
    switch first {
    case 1, 7: length = 1
    case 2: length = (second == 0 || second == 7) ? 2 : 3
    case 3: length = [0, 1, 2, 3, 4, 6, 9].contains(second) ? 2 : 3
    case 4: length = second == 2 ? 3 : 2
    case 5: length = (second == 0 || second == 9) ? 3 : 2
    case 6: length = second <= 6 ? 2 : 3
    case 8: length = [1, 2, 4, 6].contains(second) ? 2 : 3
    case 9: length = (second <= 5 || second == 8) ? 2 : 3
    default: length = 3
    }
    return String(decoding: digits[..<length], as: UTF8.self)
  }

  /// For a number: the digits after the calling code; "" for an email address.
  public var nationalNumber: String {
    guard case .sms(let number) = self else { return "" }
    return String(decoding: Array(number.utf8).dropFirst(1 + callingCode.utf8.count), as: UTF8.self)
  }

  private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
  }
}

/// How a code reaches a user who has no authenticator app.
public enum DeliveryChannel: UInt8, Equatable, Sendable {
  case email = 1
  case sms = 2

  /// The channel's name in prompts and logs: "email", "SMS".
  public var name: String {
    switch self {
    case .email: return "email"
    case .sms: return "SMS"
    }
  }
}
