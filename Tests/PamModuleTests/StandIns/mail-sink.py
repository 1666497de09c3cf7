#!/usr/bin/python3
"""An SMTP server for the delivery tests (DeliveryTests), with aiosmtpd.

    mail-sink.py DIR [--tls-cert C --tls-key K] [--implicit-tls] [--auth USER:PASSWORD]
                     [--delay SECONDS]

Listens on 127.0.0.1, on a port the kernel chooses, and prints "ready PORT" on one line once
it accepts connections. Each message it receives is written to DIR as one file (the envelope
in "X-Sink-Mail-From:" and "X-Sink-Rcpt-To:" lines, then the message as received), under a
temporary name first and then renamed, so that a reader never sees half a message.

With a certificate, STARTTLS is offered and required before MAIL (or, with --implicit-tls,
TLS starts with the connection). With --auth, AUTH (PLAIN or LOGIN, over TLS only) is
required, and only USER:PASSWORD is accepted. --delay waits that long before answering the
end of each message's data, as a slow server would. SIGTERM stops it.
"""

import argparse
import asyncio
import os
import signal
import ssl
import sys
import uuid

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, delay):
        self.directory = directory
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        name = uuid.uuid4().hex
        temporary = os.path.join(self.directory, "." + name + ".tmp")
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        lines = [b"X-Sink-Mail-From: " + envelope.mail_from.encode("utf-8")]
        lines += [b"X-Sink-Rcpt-To: " + rcpt.encode("utf-8") for rcpt in envelope.rcpt_tos]
        with open(temporary, "wb") as f:
            f.write(b"\r\n".join(lines) + b"\r\n" + content)
        os.rename(temporary, os.path.join(self.directory, name + ".eml"))
        return "250 OK queued as " + name


def main():
    # The test that starts us may have SIGTERM blocked in the thread that spawned us; unblock it
    # so that SIGTERM, how the test stops us, works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--delay", type=float, default=0)
    args = parser.parse_args()

    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    authenticator = None
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
                  and auth_data.password == password.encode())
            # handled=False: aiosmtpd answers a failure with 535 itself.
            return AuthResult(success=ok, handled=False)

    handler = Sink(args.directory, args.delay)

    def protocol():
        return SMTP(
            handler,
            hostname="mail-sink.test",
            tls_context=None if args.implicit_tls else context,
            require_starttls=bool(context) and not args.implicit_tls,
            authenticator=authenticator,
            auth_required=bool(args.auth),
            # With implicit TLS the connection is TLS already, which aiosmtpd does not know.
            auth_require_tls=not args.implicit_tls,
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(protocol, "127.0.0.1", 0, ssl=context if args.implicit_tls else None))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    print("ready %d" % server.sockets[0].getsockname()[1], flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
