import Foundation

/// The deadline of one request passed.
struct DeadlinePassed: Error, CustomStringConvertible {
  var description: String { "the request's deadline passed" }
}

/// Runs `operation` until `deadline`. When the deadline comes first, `onTimeout` runs (it closes
/// whatever the operation waits on) and `DeadlinePassed` is thrown at once, without waiting for
/// the operation to notice: a server that accepts a connection and never answers must not hold
/// a login past its deadline.
func withDeadline<T>(
  _ deadline: ContinuousClock.Instant, onTimeout: @escaping @Sendable () -> Void = {},
  _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
  let outcome = OneOutcome<T>()
  return try await withCheckedThrowingContinuation { continuation in
    outcome.continuation = continuation
    let work = Task {
      do { outcome.resume(with: .success(try await operation())) } catch { outcome.resume(with: .failure(error)) }
    }
    let timer = Task {
      try? await Task.sleep(until: deadline, clock: .continuous)
      if outcome.resume(with: .failure(DeadlinePassed())) {
        onTimeout()
        work.cancel()
      }
    }
    outcome.whenDone = { timer.cancel() }
  }
}

/// The first of two results, delivered once.
private final class OneOutcome<T>: @unchecked Sendable {
  private let lock = NSLock()
  private var done = false
  var continuation: CheckedContinuation<T, Error>?
  var whenDone: (() -> Void)?

  /// Resumes the waiter with `result` if nothing did yet; returns whether this did.
  @discardableResult
  func resume(with result: Result<T, Error>) -> Bool {
    lock.lock()
    guard !done, let continuation else {
      lock.unlock()
      return false
    }
    done = true
    let cleanup = whenDone
    lock.unlock()
    continuation.resume(with: result)
    cleanup?()
    return true
  }
}
