import ArgumentParser
import LockstepCore
import LockstepPlatform

/// `lockstep export USER --uri`: shows an enrollment's URI and QR code again.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a user's otpauth:// URI and QR code again, for a new phone (needs --uri).",
    discussion: """
      Anyone who sees the URI or the QR code can generate the user's codes, so the command \
      refuses to run without --uri and prints a warning on standard error. The issuer and label \
      are not stored; give the ones used at enrollment if they differed from the defaults.
      """)

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var userArgument: UserArgument
  @OptionGroup var output: JSONOption

  @Flag(name: .long, help: "Print the URI (and its QR code): required, as a reminder that it reveals the secret.")
  var uri = false

  @Option(name: .long, help: "The issuer shown in the authenticator app (default: this host's name).")
  var issuer: String?

  @Option(name: .long, help: "The account name shown in the authenticator app (default: the user name).")
  var label: String?

  @Option(name: .long, help: "How to draw the QR code: utf8, ansi or none (default: utf8 on a terminal, else none).")
  var qr: QRStyle?

  func validate() throws {
    guard uri else { throw ValidationError("export needs --uri, because the URI reveals the secret") }
  }

  func run() throws {
    let store = try storeOptions.records()
    let user = try userArgument.name()
    let record = try store.record(of: user)
    guard record.parameters.kind != .delivered else {
      throw Failure("\(user)'s codes are sent to them; there is no secret to export", code: Exit.refused)
    }
    let text = KeyURI.make(
      secret: record.secret, parameters: record.parameters, issuer: issuer ?? hostName(),
      label: label ?? user.description, counter: record.counter)
    printError("lockstep: warning: anyone who sees this URI or QR code can generate \(user)'s codes.")
    if output.json {
      Output.printJSON(["user": user.description, "uri": text])
      return
    }
    let style = QRStyle.effective(qr)
    if style != .none, let code = QRCode(text) { print(code.rendered(style)) }
    print(text)
  }
}
