internal import CLockstepSystem
internal import CPAM
import LockstepCore

/// One call into the module: the PAM handle and the few things the module asks of it.
/// Every method turns PAM's C conventions into Swift values; none can trap.
struct PAMSession {
  let handle: OpaquePointer

  /// The user being authenticated, from `pam_get_user(3)`, or the PAM code of the failure.
  func user() -> Result<[UInt8], PAMCode> {
    var name: UnsafePointer<CChar>?
    let result = pam_get_user(handle, &name, nil)
    guard result == PAM_SUCCESS else { return .failure(PAMCode(result)) }
    guard let name else { return .failure(.userUnknown) }
    // Enough to tell a name too long to be a record's, and to log as much of it as the log shows.
    return .success(bytes(of: name, limit: max(UserName.maximumLength, LogText.maximumLength) + 1))
  }

  /// The remote host (`PAM_RHOST`), escaped as a log field; `-` when unset.
  func remoteHost() -> String {
    guard let host = lockstep_pam_get_string_item(handle, PAM_RHOST) else { return "-" }
    return LogText.field(bytes(of: host, limit: LogText.maximumLength + 1))
  }

  /// The service (`PAM_SERVICE`: `sshd`, `sudo`), escaped as a log field; `-` when unset.
  func service() -> String {
    guard let name = lockstep_pam_get_string_item(handle, PAM_SERVICE) else { return "-" }
    return LogText.field(bytes(of: name, limit: LogText.maximumLength + 1))
  }

  /// The password a previous module in the stack collected (`PAM_AUTHTOK`), if any.
  func stackedPassword() -> SecretBytes? {
    guard let token = lockstep_pam_get_string_item(handle, PAM_AUTHTOK) else { return nil }
    return secret(of: token, limit: Attempt.maximumLength + 1)
  }

  /// Hands `password` on to the next modules as `PAM_AUTHTOK`.
  func setStackedPassword(_ password: SecretBytes) -> PAMCode {
    var terminated = password.withUnsafeBytes { Array($0) + [0] }
    defer { wipe(&terminated) }
    let result = terminated.withUnsafeBytes { bytes in
      pam_set_item(handle, PAM_AUTHTOK, bytes.baseAddress)
    }
    return PAMCode(result)
  }

  /// Asks `prompt` through the conversation; the answer is copied into secret storage (at most
  /// `Attempt.maximumLength + 1` bytes, enough to tell that it is too long) and the
  /// conversation's copy is wiped.
  func ask(_ prompt: String, echo: Bool) -> Result<SecretBytes, PAMCode> {
    var answer: UnsafeMutablePointer<CChar>?
    let style = echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF
    let result = prompt.withCString { lockstep_pam_ask(handle, style, $0, &answer) }
    defer { lockstep_pam_release_answer(answer) }
    guard result == PAM_SUCCESS, let answer else {
      return .failure(result == PAM_BUF_ERR ? .bufferError : .conversationError)
    }
    return .success(secret(of: answer, limit: Attempt.maximumLength + 1))
  }

  /// Shows `message` to the user as an error (`PAM_ERROR_MSG`); what the application does with
  /// it (sshd and sudo print it) is its own affair, so the result is not needed.
  func tell(_ message: String) {
    _ = message.withCString { lockstep_pam_show(handle, PAM_ERROR_MSG, $0) }
  }

  /// Shows `message` to the user as information (`PAM_TEXT_INFO`), like `tell`.
  func inform(_ message: String) {
    _ = message.withCString { lockstep_pam_show(handle, PAM_TEXT_INFO, $0) }
  }

  /// Logs `message` through `pam_syslog(3)`.
  func log(_ priority: Int32, _ message: String) {
    message.withCString { lockstep_pam_log(handle, priority, $0) }
  }

  /// The bytes of a C string, reading no further than `limit` bytes.
  private func bytes(of string: UnsafePointer<CChar>, limit: Int) -> [UInt8] {
    let length = strnlen(string, limit)
    return string.withMemoryRebound(to: UInt8.self, capacity: length) {
      Array(UnsafeBufferPointer(start: $0, count: length))
    }
  }

  /// Like `bytes(of:limit:)`, copied straight into secret storage.
  private func secret(of string: UnsafePointer<CChar>, limit: Int) -> SecretBytes {
    SecretBytes(UnsafeRawBufferPointer(start: string, count: strnlen(string, limit)))
  }
}

/// A PAM return code, with names for the ones the module returns.
struct PAMCode: Error, Equatable {
  let value: Int32
  init(_ value: Int32) { self.value = value }

  /// `PAM_SUCCESS`: the code was accepted.
  static let success = PAMCode(PAM_SUCCESS)
  /// `PAM_IGNORE`: this module has no say (`nullok`, a user without a record).
  static let ignore = PAMCode(PAM_IGNORE)
  /// `PAM_AUTH_ERR`: refused; every refusal of a user looks like this one.
  static let authError = PAMCode(PAM_AUTH_ERR)
  /// `PAM_SERVICE_ERR`: the module's line in /etc/pam.d is wrong.
  static let serviceError = PAMCode(PAM_SERVICE_ERR)
  /// `PAM_AUTHINFO_UNAVAIL`: the store or the user database could not be used; fail closed.
  static let authInfoUnavailable = PAMCode(PAM_AUTHINFO_UNAVAIL)
  /// `PAM_CONV_ERR`: the application's conversation failed.
  static let conversationError = PAMCode(PAM_CONV_ERR)
  /// `PAM_BUF_ERR`: out of memory in the conversation.
  static let bufferError = PAMCode(PAM_BUF_ERR)
  /// `PAM_USER_UNKNOWN`: libpam gave no user name.
  static let userUnknown = PAMCode(PAM_USER_UNKNOWN)
}
