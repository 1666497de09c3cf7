import ArgumentParser
import LockstepCore
import LockstepPlatform

/// `lockstep invite USER... [--group GROUP]`: opens a time-boxed enrollment that each user
/// takes up at their next login, through a stack whose module has the `invitations` argument
/// and whose first factor has already passed.
struct Invite: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Invite users to enroll themselves at their next login.",
    discussion: """
      Each user gets a new secret, kept in the store (sealed, in a sealed store) with the QR \
      code of its otpauth:// URI, until the invitation expires (--expires, default 72h). At \
      the user's next login through a PAM stack whose pam_lockstep line has the 'invitations' \
      argument, the module shows the QR code and the URI, asks for the first code from the \
      app, and on a right one makes the user enrolled and shows ten backup codes, once. Give \
      'invitations' only where a first factor (an SSH key, a password) always comes before the \
      module: whoever reaches the prompt gets the secret. Until then the user counts as not \
      enrolled (refused, or let through with nullok). An invitation works once; lockstep list \
      shows it, lockstep revoke withdraws it, and inviting again replaces it (--force). \
      With --group, every member of the group who is not enrolled is invited. With \
      lockstepd.conf's 'database =', the invitation is kept in the fleet store, and a login on \
      any host of the fleet (its module with 'agent=' and 'invitations') takes it up, once.
      """)

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var unknownUser: UnknownUserOption
  @OptionGroup var token: TokenOptions
  @OptionGroup var output: JSONOption

  @Argument(help: ArgumentHelp("The users to invite.", valueName: "user"))
  var users: [String] = []

  @Option(
    name: .long, help: ArgumentHelp("Also invite every member of this group who is not enrolled.", valueName: "group"))
  var group: String?

  @Option(
    name: .long,
    help: ArgumentHelp("How long the invitation stays open: 30m, 72h, 7d (at most 30d).", valueName: "duration"))
  var expires = "72h"

  @Flag(name: .long, help: "Replace an open invitation (its QR code stops working).")
  var force = false

  /// The longest an invitation stays open.
  static let longest: Int64 = 30 * 86_400

  func validate() throws {
    guard !users.isEmpty || group != nil else { throw ValidationError("name a user, or a group with --group") }
    guard let seconds = DurationText.seconds(expires), (60...Self.longest).contains(seconds) else {
      throw ValidationError("--expires takes a duration from 1m to 30d, such as 30m, 72h or 7d")
    }
    if let issuer = token.issuer, !Invitation.isValidIssuer(issuer) {
      throw ValidationError("--issuer takes at most \(Invitation.longestIssuer) bytes, without control characters")
    }
  }

  func run() throws {
    let store = try storeOptions.records(creating: true)
    var names: [UserName] = []
    for given in users {
      let name = try UserArgument(user: given).name()
      try unknownUser.check(name)
      if !names.contains(name) { names.append(name) }
    }
    if let group {
      guard let members = Accounts.members(of: group) else {
        throw Failure("there is no group '\(LogText.escape(Array(group.utf8)))'", code: Exit.usage)
      }
      for member in members {
        // Members already enrolled (or invited) are left as they are.
        guard let name = UserName(member), !names.contains(name), try store.read(name) == nil else { continue }
        names.append(name)
      }
    }
    let now = SystemClock.now()
    // Checked by validate().
    guard let lifetime = DurationText.seconds(expires) else { throw ValidationError("--expires is not a duration") }
    let until = now + lifetime
    var invited: [[String: Any]] = []
    for name in names {
      let secret = try TokenOptions.newSecret()
      let parameters = token.parameters
      let uri = KeyURI.make(
        secret: secret, parameters: parameters, issuer: token.effectiveIssuer,
        label: String(decoding: name.bytes, as: UTF8.self))
      guard let qr = QRCode(uri)?.matrix else {
        throw Failure("the key URI of \(name) is too long for a QR code; use a shorter --issuer", code: Exit.usage)
      }
      var record = UserRecord(parameters: parameters, secret: secret, enrolled: now)
      record.invitation = Invitation(expires: until, issuer: token.effectiveIssuer, qr: qr)
      try store.enroll(record, for: name, force: force, remark: " (or the invitation)")
      invited.append(["user": name.description, "expires": until, "expiresAt": UTCTime.iso8601(until)])
      if !output.json { print("Invited \(name) until \(UTCTime.iso8601(until)).") }
    }
    if output.json {
      Output.printJSON(["invited": invited])
    } else if names.isEmpty {
      print("Nobody to invite: every member of the group is enrolled or invited already.")
    }
  }
}
