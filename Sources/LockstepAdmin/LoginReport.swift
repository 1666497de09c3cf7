import LockstepCore

/// What `lockstep report` says about a stretch of Lockstep's log (pam_lockstep(8), LOG FORMAT),
/// worked out from the lines' fields alone, with no I/O: logins accepted and refused per user
/// and per source address, replays, lockouts, backup codes, codes sent, the sources that fail
/// most (and those that fail for many users: spraying), clock warnings, and the agent's
/// problems; with what the store says, the users enrolled who never logged in and those with
/// few backup codes left.
///
/// Logins are counted from the module's `event=login` lines only: the agent's `verify` lines
/// are its view of the same logins, and counting them too would count each login twice. Sends
/// are the module's `event=send` lines, for the same reason.
public struct LoginReport {
  /// One Lockstep log line: when it was written and its fields, as `LogLine.fields(of:)`
  /// returns them.
  public struct Entry {
    /// The Unix time of the line.
    public var time: Int64
    /// The line's fields, values unescaped.
    public var fields: [(key: String, value: String)]

    public init(time: Int64, fields: [(key: String, value: String)]) {
      self.time = time
      self.fields = fields
    }

    /// The value of the first field named `key`, or `-` (the log's word for a missing value).
    public subscript(_ key: String) -> String {
      fields.first { $0.key == key }?.value ?? "-"
    }

    /// The value of `key` as a number, or 0.
    func number(_ key: String) -> Int64 { Int64(self[key]) ?? 0 }
  }

  /// What the store says about one enrolled user.
  public struct Enrolled {
    /// The user's name.
    public var user: String
    /// The Unix time of the last accepted login, 0 for none.
    public var lastSuccess: Int64
    /// The backup codes the user has left; `nil` when the record holds none, which is both
    /// "never issued" and "all used" (the record cannot tell them apart: the log can).
    public var backupCodesLeft: Int?

    public init(user: String, lastSuccess: Int64, backupCodesLeft: Int?) {
      self.user = user
      self.lastSuccess = lastSuccess
      self.backupCodesLeft = backupCodesLeft
    }
  }

  /// The logins of one user or from one source address.
  public struct Tally {
    /// Logins let in.
    public var accepted = 0
    /// Logins refused.
    public var refused = 0
  }

  /// One notable line (a replay, a lockout, a backup code used, a clock warning, an agent
  /// problem): when, who, from where, and the fields that say what happened.
  public struct Event {
    /// The Unix time of the line.
    public var time: Int64
    /// The user (`-` for the agent's lines that name none).
    public var user: String
    /// The source address (`-` when unknown or local).
    public var rhost: String
    /// The fields that tell this kind of event apart, by key (`reason`, `until`, `left`, …).
    public var details: [String: String]
  }

  /// A source address that failed logins, with how many users it failed for.
  public struct FailingSource {
    /// The address (`-` for logins with no remote host).
    public var rhost: String
    /// Logins refused from it.
    public var failures: Int
    /// The distinct users those refusals were for.
    public var users: Int
    /// Whether it failed for at least `sprayUsers` distinct users: someone trying a few codes
    /// on many accounts, below each one's lockout.
    public var spraying: Bool
  }

  /// A user and the backup codes left.
  public struct BackupCodesLeft {
    public var user: String
    public var left: Int
  }

  /// Users with this many backup codes left or fewer are close to running out.
  public static let lowBackupCodes = 2

  /// The Unix times of the first and last line read, `nil` when there were none.
  public private(set) var first: Int64?
  public private(set) var last: Int64?
  /// Logins accepted, refused and failed closed (`outcome=error`).
  public private(set) var accepted = 0
  public private(set) var refused = 0
  public private(set) var errors = 0
  /// Accepted logins by `method=` (`totp`, `hotp`, `backup`, `sent`).
  public private(set) var byMethod: [String: Int] = [:]
  /// Refused logins by `reason=` (`wrong-code`, `replay`, `locked-out`, …).
  public private(set) var byReason: [String: Int] = [:]
  /// Logins failed closed by `reason=` (`config`, `store`, `agent`, …).
  public private(set) var byError: [String: Int] = [:]
  /// Logins per user and per source address.
  public private(set) var users: [String: Tally] = [:]
  public private(set) var sources: [String: Tally] = [:]
  /// Refusals as replays (`reason=replay` or `enrollment-replay`; details: `reason`).
  public private(set) var replays: [Event] = []
  /// Lockouts started (details: `until`, `failures`, `seconds`).
  public private(set) var lockouts: [Event] = []
  /// Backup codes used (details: `left`).
  public private(set) var backupCodesUsed: [Event] = []
  /// The clock behind the last accepted time step (details: `step`, `last`).
  public private(set) var clockWarnings: [Event] = []
  /// Codes sent, by `channel=`; sends refused, by `reason=`; sends that failed (`outcome=error`).
  public private(set) var sent: [String: Int] = [:]
  public private(set) var sendsRefused: [String: Int] = [:]
  public private(set) var sendErrors = 0
  /// The agent's `delivery outcome=failed` and `database` lines (details: `event`, `outcome`, and
  /// `reason`, `channel`, `provider` or `host` as the line has them).
  public private(set) var agentProblems: [Event] = []
  /// The source addresses that failed, most failures first.
  public private(set) var failingSources: [FailingSource] = []
  /// Users enrolled who never logged in, by name; `nil` when the store was not read.
  public private(set) var neverLoggedIn: [String]?
  /// Users with `lowBackupCodes` or fewer backup codes left, by name: from the store when it
  /// was read (a record with none counts when the log shows its last one used), else from the
  /// last backup code each user was logged using.
  public private(set) var lowBackupCodesLeft: [BackupCodesLeft] = []

  /// The report of `entries` (in any order), and of `enrolled` when the store was read; a
  /// source is spraying when it failed for `sprayUsers` distinct users or more.
  public init(entries: [Entry], enrolled: [Enrolled]?, sprayUsers: Int = 3) {
    var failedUsers: [String: Set<String>] = [:]
    var lastLeft: [String: Int] = [:]
    for entry in entries.sorted(by: { $0.time < $1.time }) {
      first = first ?? entry.time
      last = entry.time
      let user = entry["user"]
      let rhost = entry["rhost"]
      func event(_ keys: [String]) -> Event {
        var details: [String: String] = [:]
        for key in keys where entry.fields.contains(where: { $0.key == key }) { details[key] = entry[key] }
        return Event(time: entry.time, user: user, rhost: rhost, details: details)
      }
      switch (entry["event"], entry["outcome"]) {
      case ("login", "accepted"):
        accepted += 1
        byMethod[entry["method"], default: 0] += 1
        users[user, default: Tally()].accepted += 1
        sources[rhost, default: Tally()].accepted += 1
        if entry["method"] == "backup" {
          backupCodesUsed.append(event(["left"]))
          lastLeft[user] = Int(entry.number("left"))
        }
      case ("login", "refused"):
        refused += 1
        let reason = entry["reason"]
        byReason[reason, default: 0] += 1
        users[user, default: Tally()].refused += 1
        sources[rhost, default: Tally()].refused += 1
        failedUsers[rhost, default: []].insert(user)
        if reason == "replay" || reason == "enrollment-replay" { replays.append(event(["reason"])) }
      case ("login", "error"):
        errors += 1
        byError[entry["reason"], default: 0] += 1
      case ("lockout", _):
        lockouts.append(event(["until", "failures", "seconds"]))
      case ("clock", _):
        clockWarnings.append(event(["step", "last"]))
      case ("send", "sent"):
        sent[entry["channel"], default: 0] += 1
      case ("send", "refused"):
        sendsRefused[entry["reason"], default: 0] += 1
      case ("send", "error"):
        sendErrors += 1
      case ("delivery", "failed"), ("database", _):
        agentProblems.append(event(["event", "outcome", "reason", "channel", "provider", "host"]))
      default:
        break
      }
    }
    failingSources = failedUsers.map { rhost, names in
      FailingSource(
        rhost: rhost, failures: sources[rhost]?.refused ?? 0, users: names.count, spraying: names.count >= sprayUsers)
    }.sorted { ($0.failures, $1.rhost) > ($1.failures, $0.rhost) }
    if let enrolled {
      neverLoggedIn = enrolled.filter { $0.lastSuccess == 0 }.map(\.user).sorted()
      lowBackupCodesLeft = enrolled.compactMap { user in
        let left = user.backupCodesLeft ?? (lastLeft[user.user] == 0 ? 0 : nil)
        return left.flatMap { $0 <= Self.lowBackupCodes ? BackupCodesLeft(user: user.user, left: $0) : nil }
      }
    } else {
      lowBackupCodesLeft = lastLeft.filter { $0.value <= Self.lowBackupCodes }
        .map { BackupCodesLeft(user: $0.key, left: $0.value) }
    }
    lowBackupCodesLeft.sort { $0.user < $1.user }
  }
}
