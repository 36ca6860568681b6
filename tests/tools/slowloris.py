#!/usr/bin/env python3
"""slowloris.py - do slow clients starve an HTTP listener?

Opens --sockets connections to --host:--port that each send a request line
and headers one byte every --interval-s seconds and never finish them
(--mode slow), or connect and send nothing (--mode idle). Meanwhile a
prober asks for --path on a fresh connection every --probe-every-s seconds
and times the whole answer; an answer slower than --deadline-s (or none)
is a miss. With --reconnect a slow socket the server closed is opened
again at once, as an attacker would.

civetweb holds one worker thread per connection from accept to close and
reads the headers in read_message (get_request -> get_message), which
gives up once request_timeout_ms has passed since the read began: so N
slow sockets stall a listener with at most N worker threads for about
request_timeout_ms each time. The report says both: how the probes fared,
and how long the server let each slow socket live (its header timeout as
seen from outside).

Prints a human summary and one JSON line; exits 1 if any probe missed.
Meant for loopback: run the server and this in their own network
namespace (unshare -rn) when the server binds every interface.
"""
import argparse, json, socket, statistics, sys, threading, time

def slow_request(path):
    """the bytes a slow client trickles: a request that never ends"""
    head = "GET %s HTTP/1.1\r\nHost: slow\r\nX-Slow: " % path
    return head.encode() + b"a" * 100000

class Slow:
    """one slow connection: its socket, what it sent, when it opened"""
    def __init__(self, args):
        self.opened = time.monotonic()
        self.last = 0.0         # when it last sent a byte
        self.sent = 0
        self.sock = socket.create_connection((args.host, args.port), timeout=5)
        self.sock.setblocking(False)

def run_slow(args, stop, lifetimes, refused):
    payload = slow_request(args.path)
    conns = []
    for _ in range(args.sockets):
        try:
            conns.append(Slow(args))
        except OSError:
            refused[0] += 1
    while not stop.is_set():
        for i, c in enumerate(conns):
            if c is None:
                continue
            closed = False
            try:
                #  A live connection has nothing to read; b"" (closed) or
                #  an error answer (civetweb: 400 at the timeout) means it gave up.
                c.sock.recv(4096)
                closed = True
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            due = time.monotonic() - c.last >= args.interval_s
            if not closed and args.mode == "slow" and due:
                c.last = time.monotonic()
                try:
                    c.sock.send(payload[c.sent:c.sent + 1])
                    c.sent += 1
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
            if closed:
                lifetimes.append(time.monotonic() - c.opened)
                c.sock.close()
                conns[i] = None
                if args.reconnect:
                    try:
                        conns[i] = Slow(args)
                    except OSError:
                        refused[0] += 1
        stop.wait(min(0.05, args.interval_s))   # notice closes within 50 ms
    for c in conns:
        if c:
            c.sock.close()

def probe(args):
    """seconds to a whole answer of GET path, or None; and its status"""
    started = time.monotonic()
    try:
        with socket.create_connection((args.host, args.port),
                                      timeout=args.probe_timeout_s) as s:
            s.settimeout(args.probe_timeout_s)
            s.sendall(("GET %s HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
                       % args.path).encode())
            answer = b""
            while True:
                left = args.probe_timeout_s - (time.monotonic() - started)
                if left <= 0:
                    return None, None
                s.settimeout(left)
                data = s.recv(65536)
                if not data:
                    break
                answer += data
    except OSError:
        return None, None
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else None
    return time.monotonic() - started, status

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/healthz")
    ap.add_argument("--sockets", type=int, default=2)
    ap.add_argument("--mode", choices=("slow", "idle"), default="slow")
    ap.add_argument("--interval-s", type=float, default=1.0,
                    help="seconds between two bytes of one slow socket")
    ap.add_argument("--reconnect", action="store_true",
                    help="reopen a slow socket as soon as the server closes it")
    ap.add_argument("--duration-s", type=float, default=15.0)
    ap.add_argument("--warmup-s", type=float, default=0.5,
                    help="time for the slow sockets to take their workers")
    ap.add_argument("--probe-every-s", type=float, default=0.5)
    ap.add_argument("--deadline-s", type=float, default=1.0,
                    help="a probe slower than this is a miss (a liveness probe's timeout)")
    ap.add_argument("--probe-timeout-s", type=float, default=10.0)
    args = ap.parse_args()

    stop = threading.Event()
    lifetimes, refused = [], [0]
    slow = threading.Thread(target=run_slow, args=(args, stop, lifetimes, refused))
    slow.start()
    time.sleep(args.warmup_s)
    latencies, statuses = [], {}
    end = time.monotonic() + args.duration_s
    while time.monotonic() < end:
        took, status = probe(args)
        latencies.append(took)
        statuses[status or "none"] = statuses.get(status or "none", 0) + 1
        time.sleep(max(0.0, args.probe_every_s - (took or args.probe_timeout_s)))
    stop.set()
    slow.join()

    answered = [t for t in latencies if t is not None]
    missed = sum(1 for t in latencies if t is None or t > args.deadline_s)
    report = {
        "sockets": args.sockets, "mode": args.mode, "interval_s": args.interval_s,
        "reconnect": args.reconnect, "probes": len(latencies), "missed": missed,
        "deadline_s": args.deadline_s, "statuses": statuses,
        "latency_max_s": round(max(answered), 3) if answered else None,
        "latency_median_s": round(statistics.median(answered), 3) if answered else None,
        "slow_closed": len(lifetimes),
        "slow_lifetime_min_s": round(min(lifetimes), 2) if lifetimes else None,
        "slow_lifetime_max_s": round(max(lifetimes), 2) if lifetimes else None,
        "slow_refused": refused[0],
    }
    print("%d %s sockets: %d of %d probes of %s missed the %.1f s deadline"
          " (median %s s, max %s s); the server closed %d slow sockets after %s..%s s"
          % (args.sockets, args.mode, missed, len(latencies), args.path, args.deadline_s,
             report["latency_median_s"], report["latency_max_s"], len(lifetimes),
             report["slow_lifetime_min_s"], report["slow_lifetime_max_s"]))
    print(json.dumps(report))
    return 1 if missed else 0

if __name__ == "__main__":
    sys.exit(main())
