#!/usr/bin/env python3
"""webhook_receiver - a local HTTP receiver for txw-notifier's webhooks

Records every request as one JSON line in --out: the status it answered (or
"reset"/"slow" when it did not answer), the X-Txwatch-Alert-Key,
X-Txwatch-Attempt and X-Txwatch-Signature headers, whether the signature
verified, the Content-Type, the body parsed as JSON and its exact bytes
(base64, to check a signature again).
With --secret-file it checks X-Txwatch-Signature as proto/SERVING.md tells
receivers to (verify_signature below is that snippet, word for word): a
request that fails is answered 401 and recorded as "401", and does not use
up one of --fail-first. Without it, "verified" is null.
It can fail on purpose:
  --fail-first N --fail-mode 500,reset,slow   the first N requests fail, in
      turn with a 500 (with --retry-after S, a Retry-After header), a
      connection reset, or an answer slower than the notifier's timeout;
  --status 400                                every request gets that status.
Standard library only; importing it starts nothing (the tests call
verify_signature directly). Usage:
  webhook_receiver.py --port 18281 --out good.jsonl [--fail-first 6 --fail-mode 500,reset]
      [--secret-file secret.txt]
"""
import base64
import hashlib
import hmac
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

import receiver


def verify_signature(secret: bytes, header: str, body: bytes, now=None, tolerance=300) -> bool:
    """True if header, the X-Txwatch-Signature of a request, signs its raw
    body with secret and was made within tolerance seconds of now."""
    t, signatures = None, []
    for item in (header or "").split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            t = value
        elif name == "v1":
            signatures.append(value.encode("ascii", "replace"))
    if t is None or not (t.isascii() and t.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(t)) > tolerance:
        return False    # too old (a replay) or too far ahead
    expected = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest().encode()
    return any(hmac.compare_digest(expected, s) for s in signatures)


def read_secret(path):
    """The secret in the file at path, without the line ends at its end."""
    with open(path, "rb") as f:
        return f.read().rstrip(b"\r\n")


def add_failure_options(p):
    """How requests fail (channel_receiver.py takes them too)."""
    p.add_argument("--fail-mode", default="500", help="comma list of 500, reset, slow, used in turn")
    p.add_argument("--status", type=int, default=200, help="status of the requests not failed")
    p.add_argument("--retry-after", default=None, help="Retry-After value sent with each 500")
    p.add_argument("--slow-s", type=float, default=3.0, help="delay of a slow answer")


def parse_args():
    p = receiver.parser("records webhook POSTs, fails on purpose")
    add_failure_options(p)
    p.add_argument("--secret-file", default=None,
                   help="check X-Txwatch-Signature with this secret; 401 when it fails")
    return p.parse_args()


ARGS = None         # set by main
MODES = []
SECRET = None
LOCK = threading.Lock()
COUNT = [0]
OUT = None


def record(outcome, headers, body, verified):
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    line = json.dumps({
        "outcome": outcome,
        "key": headers.get("X-Txwatch-Alert-Key"),
        "attempt": headers.get("X-Txwatch-Attempt"),
        "signature": headers.get("X-Txwatch-Signature"),
        "verified": verified,
        "content_type": headers.get("Content-Type"),
        "authorization": headers.get("Authorization"),
        "body": parsed,
        "raw": None if parsed is not None else body.decode("utf-8", "replace"),
        "body_b64": base64.b64encode(body).decode(),
        "t": time.time(),
    })
    with LOCK:
        OUT.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, extra=None):
        payload = json.dumps({"status": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        verified = None
        if SECRET is not None:
            verified = verify_signature(SECRET, self.headers.get("X-Txwatch-Signature"), body)
            if not verified:
                record("401", self.headers, body, verified)
                self.answer(401)
                return
        with LOCK:
            n = COUNT[0]
            COUNT[0] += 1
        mode = MODES[n % len(MODES)] if n < ARGS.fail_first and MODES else None
        if mode == "reset":
            record("reset", self.headers, body, verified)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if mode == "slow":
            record("slow", self.headers, body, verified)
            time.sleep(ARGS.slow_s)
            try:
                self.answer(200)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "500":
            record("500", self.headers, body, verified)
            self.answer(500, {"Retry-After": ARGS.retry_after} if ARGS.retry_after else None)
            return
        record(str(ARGS.status), self.headers, body, verified)
        self.answer(ARGS.status)


def configure(args):
    """Sets the receiver up from its options (channel_receiver.py's too,
    which has no --secret-file)."""
    global ARGS, MODES, SECRET, OUT
    ARGS = args
    MODES = [m.strip() for m in args.fail_mode.split(",") if m.strip()]
    for m in MODES:
        if m not in ("500", "reset", "slow"):
            sys.exit(f"webhook_receiver: unknown --fail-mode {m}")
    if getattr(args, "secret_file", None):
        SECRET = read_secret(args.secret_file)
    OUT = receiver.open_out(args.out)


def main():
    configure(parse_args())
    receiver.serve(receiver.HTTPServer, Handler, ARGS.port)


if __name__ == "__main__":
    main()
