#!/usr/bin/env python3
"""smtp_sink - a local SMTP server for txw-notifier's email channel

Speaks enough SMTP (RFC 5321) for a client like libcurl: EHLO/HELO, AUTH
PLAIN (when --user is given), MAIL FROM, RCPT TO, DATA (dot-unstuffed),
RSET, NOOP, QUIT. Records every message as one JSON line in --out: the
envelope (mail_from, rcpt_to), the authenticated user, the outcome it
answered, and the message itself (text and base64 of its exact bytes).
It can fail on purpose: --fail-first N answers the first N messages' end of
DATA with 451 (a transient failure: the client must try again), and
--reject-rcpt ADDRESS answers RCPT TO that address with 550.
Standard library only (smtpd is deprecated and gone from Python 3.12).
Usage:
  smtp_sink.py --port 19025 --out mail.jsonl [--fail-first 1] [--user u --password p]
"""
import base64
import json
import re
import socketserver
import threading
import time

import receiver

ARGS = None
LOCK = threading.Lock()
COUNT = [0]
OUT = None

PATH = re.compile(r"^(MAIL FROM|RCPT TO):\s*<([^<>]*)>(?:\s.*)?$", re.IGNORECASE)


def record(**fields):
    fields["t"] = time.time()
    with LOCK:
        OUT.write(json.dumps(fields) + "\n")


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, line):
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(4096)
        if not line:
            raise EOFError
        return line.rstrip(b"\r\n").decode("utf-8", "replace")

    def read_data(self):
        """The message after DATA, up to the lone dot, unstuffed."""
        lines = []
        while True:
            line = self.rfile.readline(1 << 20)
            if not line:
                raise EOFError
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            if line.startswith(b".."):
                line = line[1:]
            lines.append(line)

    def check_auth(self, response):
        try:
            _, user, password = base64.b64decode(response).split(b"\0")
        except ValueError:
            return None
        if user.decode() == ARGS.user and password.decode() == ARGS.password:
            return user.decode()
        return None

    def handle(self):
        mail_from, rcpt_to, user = None, [], None
        self.reply("220 smtp-sink ESMTP")
        try:
            while True:
                line = self.readline()
                verb = line.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    extensions = ["8BITMIME", "SIZE 10485760"]
                    if ARGS.user:
                        extensions.append("AUTH PLAIN")
                    self.reply("250-smtp-sink")
                    for i, ext in enumerate(extensions):
                        self.reply(("250 " if i == len(extensions) - 1 else "250-") + ext)
                elif verb == "HELO":
                    self.reply("250 smtp-sink")
                elif verb == "AUTH" and ARGS.user:
                    parts = line.split()
                    if len(parts) < 2 or parts[1].upper() != "PLAIN":
                        self.reply("504 only PLAIN")
                        continue
                    if len(parts) == 2:
                        self.reply("334 ")
                        parts.append(self.readline())
                    user = self.check_auth(parts[2])
                    self.reply("235 authenticated" if user else "535 bad credentials")
                elif verb in ("MAIL", "RCPT"):
                    m = PATH.match(line)
                    if not m:
                        self.reply("501 syntax: " + verb + " needs <address>")
                    elif ARGS.user and not user:
                        self.reply("530 authentication required")
                    elif verb == "MAIL":
                        mail_from, rcpt_to = m.group(2), []
                        self.reply("250 sender ok")
                    elif mail_from is None:
                        self.reply("503 MAIL first")
                    elif m.group(2) == ARGS.reject_rcpt:
                        self.reply("550 no such user")
                    else:
                        rcpt_to.append(m.group(2))
                        self.reply("250 recipient ok")
                elif verb == "DATA":
                    if not rcpt_to:
                        self.reply("503 RCPT first")
                        continue
                    self.reply("354 end with <CRLF>.<CRLF>")
                    data = self.read_data()
                    with LOCK:
                        n = COUNT[0]
                        COUNT[0] += 1
                    outcome = "451" if n < ARGS.fail_first else "250"
                    record(outcome=outcome, mail_from=mail_from, rcpt_to=rcpt_to, user=user,
                           data=data.decode("utf-8", "replace"),
                           data_b64=base64.b64encode(data).decode())
                    self.reply("451 try again later" if outcome == "451" else "250 queued")
                    mail_from, rcpt_to = None, []
                elif verb == "RSET":
                    mail_from, rcpt_to = None, []
                    self.reply("250 reset")
                elif verb == "NOOP":
                    self.reply("250 ok")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 command not implemented")
        except (EOFError, ConnectionError, TimeoutError):
            return


def main():
    global ARGS, OUT
    p = receiver.parser("records SMTP messages, fails on purpose", "message",
                        "messages to answer 451 first")
    p.add_argument("--reject-rcpt", default=None, help="RCPT TO this address gets 550")
    p.add_argument("--user", default=None, help="require AUTH PLAIN with this user")
    p.add_argument("--password", default=None)
    ARGS = p.parse_args()
    OUT = receiver.open_out(ARGS.out)
    receiver.serve(receiver.TCPServer, Handler, ARGS.port)


if __name__ == "__main__":
    main()
