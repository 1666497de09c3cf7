import ArgumentParser
import LockstepCore
import LockstepPlatform

/// The exit codes of `lockstep`, which scripts can rely on.
enum Exit {
  /// The command did what was asked (for `verify`: the code was accepted).
  static let success: Int32 = 0
  /// A code was wrong, replayed, or refused because the user is locked out.
  static let refused: Int32 = 1
  /// The command line or an input (a secret, a code) is not valid.
  static let usage: Int32 = 2
  /// The user has no enrollment.
  static let notEnrolled: Int32 = 3
  /// The store or a record is unsafe, unreadable or could not be written.
  static let storeUnusable: Int32 = 4
  /// The command must be run as root.
  static let notRoot: Int32 = 5
  /// The user is already enrolled (and `--force` was not given).
  static let alreadyEnrolled: Int32 = 6
}

/// Why a command stopped: one sentence for standard error and the exit code that goes with it.
struct Failure: Error {
  /// The sentence, without the `lockstep: ` prefix.
  var message: String
  /// The process exit code.
  var code: Int32

  init(_ message: String, code: Int32) {
    self.message = message
    self.code = code
  }

  /// A store error, as the sentence the store itself gives.
  static func store(_ error: StoreError) -> Failure {
    Failure(error.description, code: Exit.storeUnusable)
  }

  /// The user has no record.
  static func notEnrolled(_ user: UserName, in place: String) -> Failure {
    Failure("\(user) is not enrolled in \(place)", code: Exit.notEnrolled)
  }

  /// The line printed on standard error.
  var line: String {
    var text = message
    if let last = text.last, !".!?".contains(last) { text += "." }
    return "lockstep: " + text
  }
}
