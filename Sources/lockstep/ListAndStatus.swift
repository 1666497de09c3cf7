import ArgumentParser
import LockstepCore
import LockstepPlatform

/// `lockstep list`: every enrolled user, as a table or JSON.
struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the enrolled users with their token settings, failures and lockouts.",
    discussion: """
      Secrets and backup codes are never shown. A record that cannot be read is listed with the \
      reason, and the command then exits with status 4.
      """)

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var output: JSONOption

  func run() throws {
    let store = try storeOptions.records()
    let names = try store.names()
    let now = SystemClock.now()
    var objects: [[String: Any]] = []
    var rows: [[String]] = [["USER", "KIND", "PARAMETERS", "ENROLLED", "LAST SUCCESS", "FAILURES", "LOCKED UNTIL"]]
    var problems: [String] = []
    for name in names {
      do throws(Failure) {
        guard let record = try store.read(name) else { continue }
        objects.append(Output.summary(name, record, now: now))
        let locked = record.lockedUntil != 0 && now < record.lockedUntil
        rows.append([
          name.description, record.parameters.kind.rawValue, Output.parameters(record.parameters),
          Output.enrolled(record, now: now), Output.time(record.lastSuccess),
          String(record.failures), locked ? Output.time(record.lockedUntil) : "-",
        ])
      } catch {
        problems.append(error.message)
        objects.append(["user": name.description, "error": error.message])
        rows.append([name.description, "unreadable: \(error.message)"])
      }
    }
    if output.json {
      Output.printJSON(objects)
    } else if names.isEmpty {
      print("No users are enrolled in \(store.place).")
    } else {
      Output.table(rows).forEach { print($0) }
    }
    if let first = problems.first {
      let more = problems.count > 1 ? " (and \(problems.count - 1) more unreadable records)" : ""
      throw Failure(first + more, code: Exit.storeUnusable)
    }
  }
}

/// `lockstep status USER`: one user's enrollment.
struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show one user's enrollment: token settings, last success, failures and lockout.",
    discussion: "Exits with status 3 when the user is not enrolled. Secrets and backup codes are never shown.")

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var userArgument: UserArgument
  @OptionGroup var output: JSONOption

  func run() throws {
    let store = try storeOptions.records()
    let user = try userArgument.name()
    let record = try store.record(of: user)
    let now = SystemClock.now()
    if output.json {
      Output.printJSON(Output.summary(user, record, now: now))
      return
    }
    let p = record.parameters
    let locked = record.lockedUntil != 0 && now < record.lockedUntil
    var lines: [(String, String)] = [
      ("user", user.description),
      ("kind", p.kind.rawValue),
      ("algorithm", p.algorithm.rawValue),
      ("digits", String(p.digits)),
    ]
    switch p.kind {
    case .totp:
      lines.append(("period", "\(p.period) seconds"))
      lines.append(("last used step", record.lastStep.map { String($0) } ?? "none"))
      lines.append(("clock offset", "\(record.offset) steps"))
    case .hotp:
      lines.append(("next counter", String(record.counter)))
    case .delivered: break
    }
    if let contact = record.contact {
      lines.append((contact.channel.name, contact.masked))
      let sent = record.state.sent
      if sent.isPending(at: now) { lines.append(("code sent, expires", Output.time(sent.expires))) }
      if sent.lastSend != 0 { lines.append(("last code sent", Output.time(sent.lastSend))) }
    }
    lines += [
      ("enrolled", Output.enrolled(record, now: now)),
      ("last success", Output.time(record.lastSuccess)),
      ("failures", String(record.failures)),
      ("locked until", locked ? Output.time(record.lockedUntil) : "not locked"),
      ("backup codes left", String(record.backupCodes.hashes.count)),
    ]
    let width = lines.map(\.0.count).max() ?? 0
    for (key, value) in lines {
      print(key + ":" + String(repeating: " ", count: width - key.count + 1) + value)
    }
  }
}
