import LockstepAdmin
import LockstepCore

/// Any bytes through the importer of `~/.google_authenticator` files, which `lockstep import`
/// runs on files users wrote.
///
/// Properties: an import is a whole token within lockstep's ranges: a secret, standard
/// parameters, a counter only for HOTP, a replay watermark only for TOTP, window suggestions
/// lockstep accepts, and scratch codes that are distinct 8-digit lines of the file that
/// google-authenticator would have accepted; the record the CLI makes of it can be stored;
/// errors and warnings are one safe line each.
func fuzz(_ input: UnsafeRawBufferPointer) {
  let fileBytes = Array(input)
  let token: ImportedToken
  do {
    token = try GoogleAuthenticatorFile.parse(bytes: fileBytes)
  } catch {
    require(isOneSafeLine(error.description), "an error that is not one safe line: \(error)")
    require(error.line >= 0 && error.line <= fileBytes.count + 1, "an error on line \(error.line)")
    return
  }
  let p = token.parameters
  require(p.isValid && p.algorithm == .sha1 && p.digits == 6, "parameters \(p)")
  require(p.kind == .hotp || GoogleAuthenticatorFile.stepSizeRange.contains(p.period), "a period of \(p.period)")
  require(token.secret.count > 0, "an empty secret")
  require((p.kind == .hotp) == (token.counter > 0), "a counter of \(token.counter) for \(p.kind)")
  require(p.kind == .totp || token.lastUsedStep == nil, "a replay watermark for HOTP")
  require(token.lastUsedStep.map { $0 >= 0 } ?? true, "a negative replay watermark")
  require(token.windowSize.map(GoogleAuthenticatorFile.windowSizeRange.contains) ?? true, "a window out of range")
  require((0...10).contains(token.suggestedWindow), "a window= suggestion lockstep refuses")
  require((0...100).contains(token.suggestedLookahead), "a lookahead= suggestion lockstep refuses")
  require(token.timeSkew.map { abs($0) <= 1_000_000 } ?? true, "a time skew out of range")
  require(token.warnings.allSatisfy(isOneSafeLine), "a warning that is not one safe line: \(token.warnings)")

  let lines = Set(fileBytes.split(separator: UInt8(ascii: "\n")).map(trimmed))
  require(token.scratchCodes.count <= BackupCodeHashes.maximumCount, "too many scratch codes")
  require(Set(token.scratchCodes).count == token.scratchCodes.count, "a scratch code imported twice")
  for code in token.scratchCodes {
    require(code.count == 8 && code.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }, "a scratch code that is not 8 digits")
    require(code[0] != UInt8(ascii: "0"), "a scratch code google-authenticator never accepted")
    require(lines.contains(code), "a scratch code that is not a line of the file")
  }

  let offset = token.timeSkew.flatMap { UserRecord.offsetRange.contains($0) ? $0 : nil } ?? 0
  let record = UserRecord(
    parameters: p, secret: token.secret, counter: token.counter, lastStep: token.lastUsedStep, offset: offset)
  require(survivesRecordFormat(record), "the imported token cannot be stored")
}

/// `line` without leading and trailing blanks (and a `\r` ending).
private func trimmed(_ line: ArraySlice<UInt8>) -> [UInt8] {
  let blank: Set<UInt8> = [0x20, 0x09, 0x0d, 0x0b, 0x0c]
  guard let first = line.firstIndex(where: { !blank.contains($0) }),
    let last = line.lastIndex(where: { !blank.contains($0) })
  else { return [] }
  return Array(line[first...last])
}
