#!/usr/bin/python3
"""A stand-in for Twilio's Messages API, for the delivery tests (DeliveryTests).

    twilio.py DIR --cert C --key K --account AC... --token T [--api-key SK... --api-secret S]
              [--messaging-service MG...] [--from +1...] [--delay SECONDS]

HTTPS on 127.0.0.1 (port chosen by the kernel, announced as "ready PORT"). It follows the
contract of POST /2010-04-01/Accounts/{AccountSid}/Messages.json as Twilio documents it, with
the magic numbers of Twilio's test credentials:

- Basic authentication with the account SID and auth token, or (with --api-key) the API key
  SID and its secret; anything else is 401 with error 20003.
- A form (application/x-www-form-urlencoded) with To, From or MessagingServiceSid (not both),
  Body, and optionally ValidityPeriod (1 to 36000 seconds).
- To +15005550001 is 21211 (invalid), +15005550002 21612 (cannot route), +15005550003 21408
  (no permission for the region), +15005550004 21610 (blocked), +15005550009 21614 (not a
  mobile); any other To must be E.164 (21211 otherwise).
- From +15005550006 passes, +15005550001 is 21212, +15005550007 21606, +15005550008 21611
  (queue full); any other From is 21606, unless given with --from.
- Accepted is 201 with a Message resource: sid "SM" and 32 hex digits, status "queued".

Errors are Twilio's JSON: {"code", "message", "more_info", "status"}. Each accepted request's
fields (and the user it authenticated as) are written to DIR as a JSON file. --delay waits
before every answer.
"""

import argparse
import signal
import email.utils
import re
import secrets
import sys
import urllib.parse

from https_stand_in import Handler, save, serve

TO_ERRORS = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: +15005550002, is not currently reachable using the 'From' phone number: via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +15005550003."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
FROM_ERRORS = {
    "+15005550001": (21212, "The 'From' number +15005550001 is not a valid phone number, shortcode, or alphanumeric sender ID."),
    "+15005550007": (21606, "The From phone number +15005550007 is not a valid, SMS-capable inbound phone number or short code for your account."),
    "+15005550008": (21611, "This 'From' number has exceeded the maximum number of queued messages"),
}
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def main():
    # The test that starts us may have SIGTERM blocked in the thread that spawned us; unblock it
    # so that SIGTERM, how the test stops us, works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--api-key")
    parser.add_argument("--api-secret")
    parser.add_argument("--messaging-service")
    parser.add_argument("--from", dest="senders", action="append", default=[])
    parser.add_argument("--delay", type=float, default=0)
    args = parser.parse_args()
    path = "/2010-04-01/Accounts/%s/Messages.json" % args.account
    credentials = {args.account: args.token}
    if args.api_key:
        credentials[args.api_key] = args.api_secret

    class Twilio(Handler):
        delay = args.delay

        def error(self, status, code, message):
            self.answer(status, {"code": code, "message": message,
                                 "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status})

        def do_GET(self):
            self.body()
            self.error(405, 20004, "Method not allowed")

        def do_POST(self):
            raw = self.body()
            auth = self.basic_auth()
            if auth is None or credentials.get(auth[0]) != auth[1]:
                return self.error(401, 20003, "Authenticate")
            if self.path != path:
                return self.error(404, 20404, "The requested resource %s was not found" % self.path)
            if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/x-www-form-urlencoded":
                return self.error(400, 20001, "the stand-in wants application/x-www-form-urlencoded")
            try:
                pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                return self.error(400, 20001, "the stand-in could not parse the form")
            fields = dict(pairs)
            if len(fields) != len(pairs):
                return self.error(400, 20001, "the stand-in got a field twice")
            to, sender, service = fields.get("To"), fields.get("From"), fields.get("MessagingServiceSid")
            body = fields.get("Body")
            if not to:
                return self.error(400, 21604, "A 'To' phone number is required.")
            if to in TO_ERRORS:
                return self.error(400, *TO_ERRORS[to])
            if not E164.match(to):
                return self.error(400, 21211, "The 'To' number %s is not a valid phone number." % to)
            if sender and service:
                return self.error(400, 20001, "the stand-in wants From or MessagingServiceSid, not both")
            if service is not None:
                if service != args.messaging_service:
                    return self.error(400, 21701, "The Messaging Service Sid %s is invalid." % service)
            elif not sender:
                return self.error(400, 21603, "A 'From' phone number is required.")
            elif sender in FROM_ERRORS:
                return self.error(400, *FROM_ERRORS[sender])
            elif sender != "+15005550006" and sender not in args.senders:
                return self.error(400, 21606, "The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account." % sender)
            if not body:
                return self.error(400, 21602, "Message body is required.")
            if len(body) > 1600:
                return self.error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
            validity = fields.get("ValidityPeriod")
            if validity is not None and not (validity.isdigit() and 1 <= int(validity) <= 36000):
                return self.error(400, 20001, "ValidityPeriod must be between 1 and 36000 seconds (stand-in)")
            sid = "SM" + secrets.token_hex(16)
            save(args.directory, {"path": self.path, "user": auth[0], "fields": fields, "sid": sid})
            now = email.utils.formatdate(usegmt=True).replace("GMT", "+0000")
            self.answer(201, {
                "account_sid": args.account, "api_version": "2010-04-01", "body": body,
                "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
                "error_code": None, "error_message": None, "from": sender, "messaging_service_sid": service,
                "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
                "status": "accepted" if service else "queued", "to": to,
                "uri": "/2010-04-01/Accounts/%s/Messages/%s.json" % (args.account, sid),
                "subresource_uris": {"media": "/2010-04-01/Accounts/%s/Messages/%s/Media.json" % (args.account, sid)},
            })

    serve(Twilio, args.cert, args.key)
    sys.exit(0)


if __name__ == "__main__":
    main()
