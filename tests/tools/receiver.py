"""receiver - what the local test receivers share

webhook_receiver.py, channel_receiver.py and smtp_sink.py each record what
txw-notifier sends them as JSON lines in --out and can fail the first
--fail-first of it on purpose. This is their common frame: those options,
and the serve loop (127.0.0.1 only; "listening on ..." on stdout once the
port is bound; served until interrupted, one daemon thread a connection).
Standard library only; importing it starts nothing.
"""
import argparse
import socketserver
from http.server import ThreadingHTTPServer


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def parser(description, unit="request", fail_help="requests to fail first"):
    """An argument parser with --port, --out (a JSON line per unit) and
    --fail-first."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True, help=f"JSON lines, one per {unit}")
    p.add_argument("--fail-first", type=int, default=0, help=fail_help)
    return p


def open_out(path):
    """--out, appended to a line at a time (the suites read it meanwhile)."""
    return open(path, "a", buffering=1)


def serve(server_class, handler, port):
    """Serves handler on 127.0.0.1:port until interrupted."""
    server = server_class(("127.0.0.1", port), handler)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
