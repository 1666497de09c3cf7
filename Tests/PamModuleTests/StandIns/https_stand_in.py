"""What the HTTPS stand-ins (twilio.py, sms-gateway.py) share: a threaded HTTPS server on
127.0.0.1 with a port the kernel chooses, announced as "ready PORT" on one line of standard
output, and requests saved as JSON files (a temporary name, then a rename, so that a reader
never sees half a file). SIGTERM, whose default action ends the process, stops it."""

import base64
import http.server
import json
import os
import ssl
import time
import uuid


class Handler(http.server.BaseHTTPRequestHandler):
    """A request handler that answers with JSON; `delay` (seconds) is waited before answering."""

    protocol_version = "HTTP/1.1"
    delay = 0.0

    def log_message(self, format, *args):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def basic_auth(self):
        """The (user, password) of a Basic Authorization header, or None."""
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except Exception:
            return None
        return user, password

    def answer(self, status, document):
        if self.delay:
            time.sleep(self.delay)
        data = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def save(directory, document):
    """Writes `document` as a JSON file of its own in `directory`."""
    name = uuid.uuid4().hex
    temporary = os.path.join(directory, "." + name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(document, f)
    os.rename(temporary, os.path.join(directory, name + ".json"))


def serve(handler, cert, key):
    """Serves `handler` over TLS with `cert` and `key` until SIGTERM."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready %d" % server.server_address[1], flush=True)
    server.serve_forever()
