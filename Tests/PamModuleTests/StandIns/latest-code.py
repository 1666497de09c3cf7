#!/usr/bin/python3
"""Prints the code in the newest message a stand-in received, for the sent-code tests.

    latest-code.py DIR [--count N] [--wait SECONDS]

DIR is a mail sink's directory (each file a message, read with Python's own email parser,
which undoes any transfer encoding) or an SMS stand-in's (each file a JSON request whose
"Body", "text" or "message", at the top or under "fields", is the text sent). The code is the first run of 6 to 8 digits in
the text. It waits (at most --wait seconds, default 20) until DIR holds --count messages
(default 1), and reads the newest of those; without a code there, it prints nothing and
exits 1.
"""

import argparse
import email
import email.policy
import json
import os
import re
import sys
import time


def messages(directory):
    names = [n for n in os.listdir(directory) if not n.startswith(".")]
    return sorted((os.path.join(directory, n) for n in names), key=os.path.getmtime)


def text_of(path):
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        request = json.loads(raw)
    except ValueError:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        return message.get_body(preferencelist=("plain",)).get_content()
    for document in (request, request.get("fields", {})):
        for key in ("Body", "text", "message"):
            if key in document:
                return document[key]
    return ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--wait", type=float, default=20)
    arguments = parser.parse_args()
    deadline = time.monotonic() + arguments.wait
    found = messages(arguments.directory)
    # A condition with a deadline: the message comes from another process.
    while len(found) < arguments.count and time.monotonic() < deadline:
        time.sleep(0.05)
        found = messages(arguments.directory)
    if len(found) < arguments.count:
        return 1
    match = re.search(r"\b(\d{6,8})\b", text_of(found[arguments.count - 1]))
    if not match:
        return 1
    print(match.group(1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
