import CCurl
import Glibc
import LockstepPlatform

enum Curl {
  /// `curl_global_init`, once per process (Swift runs a global's initialiser once, thread-safely).
  static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

/// One libcurl transfer, set up the same way for every provider: the URL's protocols only, no
/// redirects, TLS 1.2 or later with the peer's certificate and name always verified (against
/// `caFile` when given), no signals (the agent is threaded), and one deadline for all of it,
/// connecting included.
final class CurlTransfer {
  private let handle: UnsafeMutableRawPointer
  private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
  private var lists: [UnsafeMutablePointer<curl_slist>] = []
  private let buffers = Buffers()
  private var refused: CURLoption?
  private let timeoutSeconds: UInt64

  /// What is uploaded (an SMTP message) and what comes back (an HTTP response body, its
  /// first 64 KiB), reached from the C callbacks through a context pointer.
  private final class Buffers {
    var upload: [UInt8] = []
    var offset = 0
    var response: [UInt8] = []
    static let responseLimit = 64 * 1024
  }

  init(url: String, protocols: String, caFile: String?, deadline: UInt64) throws(DeliveryError) {
    guard Curl.initialized, let handle = curl_easy_init() else {
      throw DeliveryError("libcurl could not start a transfer")
    }
    self.handle = handle
    errorBuffer[0] = 0
    let now = MonotonicClock.now()
    let milliseconds = deadline > now ? Int((deadline - now) / 1_000_000) : 0
    timeoutSeconds = (UInt64(milliseconds) + 999) / 1000
    guard milliseconds > 0 else { throw DeliveryError("no time left to send") }
    set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
    set(CURLOPT_URL, url)
    set(CURLOPT_PROTOCOLS_STR, protocols)
    set(CURLOPT_REDIR_PROTOCOLS_STR, protocols)
    set(CURLOPT_FOLLOWLOCATION, 0)
    set(CURLOPT_NOSIGNAL, 1)
    set(CURLOPT_TIMEOUT_MS, milliseconds)
    set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds)
    set(CURLOPT_SSL_VERIFYPEER, 1)
    set(CURLOPT_SSL_VERIFYHOST, 2)
    set(CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))
    if let caFile { set(CURLOPT_CAINFO, caFile) }
    set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(buffers).toOpaque())
    set(CURLOPT_WRITEFUNCTION) { data, size, count, context in
      guard let data, let context else { return 0 }
      let buffers = Unmanaged<Buffers>.fromOpaque(context).takeUnretainedValue()
      let total = size * count
      let kept = min(total, Buffers.responseLimit - buffers.response.count)
      if kept > 0 {
        buffers.response.append(
          contentsOf: UnsafeRawBufferPointer(start: UnsafeRawPointer(data), count: kept))
      }
      return total
    }
  }

  deinit {
    curl_easy_cleanup(handle)
    for list in lists { curl_slist_free_all(list) }
    errorBuffer.deallocate()
  }

  func set(_ option: CURLoption, _ value: Int) {
    if lockstep_curl_setopt_long(handle, option, value) != CURLE_OK { refused = refused ?? option }
  }

  /// libcurl copies the string (7.17 and later), so it need not outlive the call.
  func set(_ option: CURLoption, _ value: String) {
    if lockstep_curl_setopt_string(handle, option, value) != CURLE_OK { refused = refused ?? option }
  }

  func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) {
    if lockstep_curl_setopt_pointer(handle, option, pointer) != CURLE_OK { refused = refused ?? option }
  }

  func set(_ option: CURLoption, callback: lockstep_curl_data_callback) {
    if lockstep_curl_setopt_callback(handle, option, callback) != CURLE_OK { refused = refused ?? option }
  }

  /// A list option (headers, recipients), kept until the transfer is released.
  func set(_ option: CURLoption, list items: [String]) {
    var list: UnsafeMutablePointer<curl_slist>?
    for item in items {
      guard let longer = curl_slist_append(list, item) else {
        refused = refused ?? option
        return
      }
      list = longer
    }
    if let list { lists.append(list) }
    set(option, pointer: UnsafeMutableRawPointer(list))
  }

  /// `bytes` as what is uploaded (`CURLOPT_UPLOAD` with a read callback).
  func upload(_ bytes: [UInt8]) {
    buffers.upload = bytes
    buffers.offset = 0
    set(CURLOPT_UPLOAD, 1)
    set(CURLOPT_INFILESIZE_LARGE, bytes.count)
    set(CURLOPT_READDATA, pointer: Unmanaged.passUnretained(buffers).toOpaque())
    set(CURLOPT_READFUNCTION) { data, size, count, context in
      guard let data, let context else { return Int(CURL_READFUNC_ABORT) }
      let buffers = Unmanaged<Buffers>.fromOpaque(context).takeUnretainedValue()
      let n = min(size * count, buffers.upload.count - buffers.offset)
      buffers.upload.withUnsafeBytes { bytes in
        if n > 0, let base = bytes.baseAddress { _ = memcpy(data, base + buffers.offset, n) }
      }
      buffers.offset += n
      return n
    }
  }

  /// A POST of `body` (libcurl copies it).
  func post(_ body: [UInt8]) {
    set(CURLOPT_POST, 1)
    set(CURLOPT_POSTFIELDSIZE, body.count)
    body.withUnsafeBytes { bytes in
      set(CURLOPT_COPYPOSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }
  }

  /// Runs the transfer; an error says what `provider` could not do, in libcurl's words.
  func perform(_ provider: String) throws(DeliveryError) {
    if let refused { throw DeliveryError("\(provider): libcurl refused option \(refused.rawValue)") }
    let result = curl_easy_perform(handle)
    guard result == CURLE_OK else {
      let detail = String(cString: errorBuffer)
      let text = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
      if result == CURLE_OPERATION_TIMEDOUT {
        throw DeliveryError("\(provider): no answer within \(timeoutSeconds) s (\(printable(text)))")
      }
      throw DeliveryError("\(provider): \(printable(text))")
    }
  }

  /// The HTTP status of the response.
  var responseCode: Int {
    var code = 0
    _ = lockstep_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
    return code
  }

  /// The response's body (its first 64 KiB).
  var response: [UInt8] { buffers.response }
}
