import LockstepCore

/// Module arguments, as libpam passes them from a line of `/etc/pam.d` (the input split at NUL
/// bytes), through the option parser the module runs first on every call.
///
/// Properties, from an independent reading of the documented arguments: the options have no
/// problem exactly when every argument is a known one with a valid value and no two exclude
/// each other, so nothing unknown is ever accepted silently; when there is no problem, each
/// value is the one the last argument of its name gave; values are always within their
/// ranges; and the problems and the debug summary are safe to log.
func fuzz(_ input: UnsafeRawBufferPointer) {
  let arguments = input.split(separator: 0, omittingEmptySubsequences: false).map {
    String(decoding: $0, as: UTF8.self)
  }
  let options = ModuleOptions(arguments: arguments)

  require((0...10).contains(options.window), "window out of range")
  require((0...100).contains(options.lookahead), "lookahead out of range")
  require((1...1000).contains(options.maxFailures), "max_failures out of range")
  require((0...31_536_000).contains(options.lockoutSeconds), "lockout out of range")
  require((0...10_000).contains(options.failDelayMilliseconds), "fail_delay out of range")
  require((1...600).contains(options.lockTimeoutSeconds), "lock_timeout out of range")
  require((1...60).contains(options.agentTimeoutSeconds), "agent_timeout out of range")
  require((1...60).contains(options.sendTimeoutSeconds), "send_timeout out of range")
  require(options.store.hasPrefix("/"), "a relative store")
  require(!options.store.utf8.contains { $0 < 0x20 || $0 == 0x7f }, "a store path with control characters")
  require(options.problems.allSatisfy(isOneSafeLine), "a problem that is not one safe line: \(options.problems)")
  require(isOneSafeLine(options.summary), "a summary that is not one safe line")

  var expected = ModuleOptions()
  var valid = true
  var firstPassModes: Set<String> = []
  for argument in arguments {
    let name = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
    let value = argument.contains("=") ? String(argument.dropFirst(name.count + 1)) : nil
    switch (name, value) {
    case ("nullok", nil): expected.nullok = true
    case ("echo", nil): expected.echo = true
    case ("debug", nil): expected.debug = true
    case ("lockout_message", nil): expected.lockoutMessage = true
    case ("forward_pass", nil): expected.forwardPass = true
    case ("send_at_once", nil): expected.sendAtOnce = true
    case ("invitations", nil): expected.invitations = true
    case ("try_first_pass", nil):
      expected.firstPass = .tryFirstPass
      firstPassModes.insert(String(name))
    case ("use_first_pass", nil):
      expected.firstPass = .useFirstPass
      firstPassModes.insert(String(name))
    case ("store", let path?): valid = setPath(&expected.store, path) && valid
    case ("host_key", let path?): valid = setPath(&expected.hostKey, path) && valid
    case ("agent", let path?):
      valid = isPath(path) && valid
      expected.agent = isPath(path) ? path : nil
    case ("prompt", let text?): expected.prompt = text
    case ("window", let text?): valid = set(&expected.window, text, 0...10) && valid
    case ("lookahead", let text?): valid = set(&expected.lookahead, text, 0...100) && valid
    case ("max_failures", let text?): valid = set(&expected.maxFailures, text, 1...1000) && valid
    case ("lockout", let text?): valid = set(&expected.lockoutSeconds, text, 0...31_536_000) && valid
    case ("fail_delay", let text?): valid = set(&expected.failDelayMilliseconds, text, 0...10_000) && valid
    case ("lock_timeout", let text?): valid = set(&expected.lockTimeoutSeconds, text, 1...600) && valid
    case ("agent_timeout", let text?): valid = set(&expected.agentTimeoutSeconds, text, 1...60) && valid
    case ("send_timeout", let text?): valid = set(&expected.sendTimeoutSeconds, text, 1...60) && valid
    default: valid = false
    }
  }
  if firstPassModes.count > 1 || (expected.forwardPass && expected.firstPass != .none) { valid = false }
  // The documented exclusions: an agent names its own store; only an agent sends codes; an
  // invitation is taken up on a local store, at a prompt of the module's own.
  if expected.agent != nil && arguments.contains(where: { $0.hasPrefix("store=") }) { valid = false }
  if expected.sendAtOnce && expected.agent == nil { valid = false }
  if expected.invitations && (expected.forwardPass || expected.firstPass != .none) {
    valid = false
  }

  require(options.problems.isEmpty == valid, "arguments \(arguments) gave problems \(options.problems)")
  if valid {
    require(options == expected, "arguments \(arguments) were read as \(options.summary), not \(expected.summary)")
  }
}

/// Whether `text` is a path as the arguments take one: absolute, without control characters.
private func isPath(_ text: String) -> Bool {
  text.first == "/" && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }
}

/// Sets `value` to `text` if it is a path as the arguments take one.
private func setPath(_ value: inout String, _ text: String) -> Bool {
  guard isPath(text) else { return false }
  value = text
  return true
}

/// Sets `value` from decimal `text` (an optional `-` and up to 20 digits, as the module's
/// arguments are documented to be read) if it is within `range`.
private func set(_ value: inout Int, _ text: String, _ range: ClosedRange<Int>) -> Bool {
  let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
  guard !digits.isEmpty, digits.count <= 20, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
  let significant = digits.drop { $0 == "0" }
  guard significant.count <= 9, let number = Int(significant.isEmpty ? "0" : significant) else { return false }
  let signed = text.hasPrefix("-") ? -number : number
  guard range.contains(signed) else { return false }
  value = signed
  return true
}
