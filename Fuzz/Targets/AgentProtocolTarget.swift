import LockstepCore

/// Any bytes as a message on the agent's socket, read as a request (what the agent reads from
/// the module and the CLI) and as a reply (what the module reads from the agent).
///
/// Properties: reading never traps; a message that is read is written back to exactly the same
/// bytes (there is one encoding of every message, so the two ends cannot disagree on what was
/// said); and a request's fields stay within the limits the module's own options have.
func fuzz(_ input: UnsafeRawBufferPointer) {
  let bytes = Array(input)
  if let request = try? AgentRequest.decode(bytes) {
    require(request.encoded() == bytes, "a request does not encode back to its bytes")
    switch request {
    case .verify(let verify), .takeUp(let verify):
      require(verify.nonce.count == AgentProtocol.nonceLength, "a nonce of the wrong length was read")
      require(ModuleSetting.window.range.contains(verify.policy.window), "a window outside its range was read")
      require(ModuleSetting.maxFailures.range.contains(verify.policy.maxFailures), "max_failures out of range")
    default: break
    }
  }
  if let reply = try? AgentReply.decode(bytes) {
    require(reply.encoded() == bytes, "a reply does not encode back to its bytes")
  }
}
