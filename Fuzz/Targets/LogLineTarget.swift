import LockstepCore

/// Log lines as `LogLine` writes them and as `lockstep report`, the metrics and the alerts read
/// them back with `LogLine.fields(of:)`: a message with any text in it, then fields whose
/// values come from outside (a user name, a remote host) or are Lockstep's own words.
///
/// Properties: any line at all parses without trapping, and what it gives starts with `event`
/// and has keys that hold no space or `=`; a line written by `LogLine` parses back to exactly
/// the fields written, in order, whatever the message says (a forged `; event=` in it
/// included), and each value that was valid UTF-8 of at most `LogText.maximumLength` bytes
/// comes back whole.
func fuzz(_ input: UnsafeRawBufferPointer) {
  var reader = FuzzInput(input)
  let any = String(decoding: Array(input), as: UTF8.self)
  if let fields = LogLine.fields(of: any) {
    require(fields.first?.key == "event", "fields that do not start with event: \(fields)")
    require(
      fields.allSatisfy { !$0.key.isEmpty && !$0.key.utf8.contains { $0 == 0x20 || $0 == 0x3d } },
      "a key with a space or '=' in it: \(fields)")
  }

  let message = LogText.escape(reader.chunk())
  // An event is one of Lockstep's own words: lower-case letters and hyphens.
  let event = String(
    decoding: reader.chunk(limit: 16).filter { ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d }, as: UTF8.self)
  guard !event.isEmpty else { return }
  var line = LogLine(message, event: event)
  var written: [(key: String, value: [UInt8])] = [("event", Array(event.utf8))]
  for index in 0..<Int(reader.byte() % 4) {
    let value = String(decoding: reader.chunk(), as: UTF8.self)
    line = line.with("k\(index)", value)
    written.append(("k\(index)", Array(value.utf8)))
  }
  let outside = (0..<3).map { _ in reader.chunk(limit: 300) }
  line = line.by(service: LogText.field(outside[0]), rhost: LogText.field(outside[1]), user: LogText.field(outside[2]))
  written += [("service", outside[0]), ("rhost", outside[1]), ("user", outside[2])]

  let text = line.text
  guard let parsed = LogLine.fields(of: text) else {
    require(false, "a line LogLine wrote does not parse: \(text)")
    return
  }
  require(parsed.map(\.key) == written.map(\.key), "keys \(parsed.map(\.key)) instead of \(written.map(\.key))")
  for (got, wrote) in zip(parsed, written) {
    let whole = wrote.value.count <= LogText.maximumLength && String(validating: wrote.value, as: UTF8.self) != nil
    if whole {
      require(Array(got.value.utf8) == wrote.value, "\(wrote.key) came back as \(got.value), not \(wrote.value)")
    } else {
      require(got.value.hasSuffix("\\...") || wrote.value.count <= LogText.maximumLength, "a cut value not marked")
    }
  }
}
