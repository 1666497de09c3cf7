#!/usr/bin/python3
"""Stand-ins for Vonage's SMS API and for a site's own SMS webhook, for the delivery tests.

    sms-gateway.py DIR --mode vonage --cert C --key K --api-key K --api-secret S [--delay SECONDS]
    sms-gateway.py DIR --mode webhook --cert C --key K [--token T] [--status N] [--delay SECONDS]

HTTPS on 127.0.0.1 (port chosen by the kernel, announced as "ready PORT").

vonage: POST /sms/json, a form with api_key, api_secret, from, to (digits, no +) and text,
answered as Vonage's SMS API does: HTTP 200 and {"message-count", "messages": [...]}, each
message with "status" "0" and a "message-id" when sent, otherwise a status and "error-text"
(2 a missing parameter, 3 an invalid one, 4 bad credentials).

webhook: POST any path, JSON {"to", "channel", "message"}, with "Authorization: Bearer T" when
--token is given (401 otherwise); answered 202 {"id": ...}, or with --status N and an error.

Each accepted request is written to DIR as a JSON file.
"""

import argparse
import signal
import json
import re
import secrets
import sys
import urllib.parse

from https_stand_in import Handler, save, serve


def main():
    # The test that starts us may have SIGTERM blocked in the thread that spawned us; unblock it
    # so that SIGTERM, how the test stops us, works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--mode", choices=["vonage", "webhook"], required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--api-key")
    parser.add_argument("--api-secret")
    parser.add_argument("--token")
    parser.add_argument("--status", type=int, default=202)
    parser.add_argument("--delay", type=float, default=0)
    args = parser.parse_args()

    class Vonage(Handler):
        delay = args.delay

        def reply(self, status, text=None, **extra):
            message = {"status": status}
            if text:
                message["error-text"] = text
            message.update(extra)
            self.answer(200, {"message-count": "1", "messages": [message]})

        def do_POST(self):
            raw = self.body()
            if self.path != "/sms/json":
                return self.answer(404, {"type": "not-found", "title": "Not found"})
            fields = dict(urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            for name in ["api_key", "api_secret", "from", "to", "text"]:
                if not fields.get(name):
                    return self.reply("2", "Missing %s" % name)
            if fields["api_key"] != args.api_key or fields["api_secret"] != args.api_secret:
                return self.reply("4", "Bad Credentials")
            if not re.match(r"^[1-9][0-9]{7,14}$", fields["to"]):
                return self.reply("3", "Invalid to param")
            message_id = secrets.token_hex(8).upper()
            save(args.directory, {"path": self.path, "fields": fields, "id": message_id})
            self.reply("0", to=fields["to"], **{"message-id": message_id, "remaining-balance": "10.0",
                                               "message-price": "0.03", "network": "12345"})

    class Webhook(Handler):
        delay = args.delay

        def do_POST(self):
            raw = self.body()
            if args.token and self.headers.get("Authorization") != "Bearer " + args.token:
                return self.answer(401, {"error": "unauthorized"})
            if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                return self.answer(415, {"error": "wants application/json"})
            try:
                document = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return self.answer(400, {"error": "not JSON"})
            if set(document) != {"to", "channel", "message"} or document["channel"] != "sms":
                return self.answer(400, {"error": "wants to, channel (sms) and message"})
            if args.status >= 300:
                return self.answer(args.status, {"error": "the gateway is failing on purpose"})
            message_id = secrets.token_hex(8)
            save(args.directory, {"path": self.path, "document": document, "id": message_id})
            self.answer(args.status, {"id": message_id})

    serve(Vonage if args.mode == "vonage" else Webhook, args.cert, args.key)
    sys.exit(0)


if __name__ == "__main__":
    main()
