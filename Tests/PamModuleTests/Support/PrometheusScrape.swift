import Foundation

/// A metrics page as Prometheus sees it: fetched over HTTP by Python's `http.client` (from a
/// loopback port or a Unix socket) and read by the official client's text-format parser,
/// `prometheus_client.parser.text_string_to_metric_families` (Debian's
/// `python3-prometheus-client`), which rejects anything the format does not allow.
struct PrometheusScrape: Decodable {
  /// One sample, as the parser gives it.
  struct Sample: Decodable {
    /// The family's type: `counter`, `gauge`, `histogram`.
    let type: String
    /// The sample's own name (`…_total`, `…_bucket`, `…_count`).
    let name: String
    let labels: [String: String]
    let value: Double
  }

  /// The HTTP status (200 when the text was given rather than fetched).
  let status: Int
  /// The `Content-Type` header.
  let contentType: String?
  /// The page as served.
  let body: String
  /// Every sample of a 200 page.
  let samples: [Sample]

  /// Fetches `path` from `target` (`127.0.0.1:PORT`, `[::1]:PORT` or `unix:/PATH`) with
  /// `method`, and parses a page that came with status 200.
  static func fetch(_ target: String, path: String = "/metrics", method: String = "GET") throws -> PrometheusScrape {
    try run([target, path, method], input: nil)
  }

  /// Parses `text` as a page of metrics.
  static func parse(_ text: String) throws -> PrometheusScrape { try run(["-"], input: text) }

  /// The value of the sample `name` whose labels are exactly `labels`; nil when there is none.
  func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
    samples.first { $0.name == name && $0.labels == labels }?.value
  }

  /// The samples of `name`, whatever their labels.
  func samples(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

  private static func run(_ arguments: [String], input: String?) throws -> PrometheusScrape {
    let result = try runCommand("/usr/bin/python3", ["-c", program] + arguments, input: input)
    guard result.status == 0 else { throw TestFailure("the scrape failed: \(result.error)") }
    return try JSONDecoder().decode(PrometheusScrape.self, from: Data(result.output.utf8))
  }

  private static let program = """
    import http.client, json, socket, sys
    from prometheus_client.parser import text_string_to_metric_families

    class UnixConnection(http.client.HTTPConnection):
        def __init__(self, path):
            super().__init__("localhost", timeout=10)
            self.socket_path = path
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(10)
            self.sock.connect(self.socket_path)

    if sys.argv[1] == "-":
        status, content_type, body = 200, None, sys.stdin.read()
    else:
        target, path, method = sys.argv[1:4]
        if target.startswith("unix:"):
            connection = UnixConnection(target[5:])
        else:
            host, port = target.rsplit(":", 1)
            connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=10)
        connection.request(method, path)
        response = connection.getresponse()
        status, content_type = response.status, response.getheader("Content-Type")
        body = response.read().decode("utf-8")
    samples = []
    if status == 200:
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                samples.append({"type": family.type, "name": sample.name, "labels": sample.labels, "value": sample.value})
    print(json.dumps({"status": status, "contentType": content_type, "body": body, "samples": samples}))
    """
}
