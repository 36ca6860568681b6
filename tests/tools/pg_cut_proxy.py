#!/usr/bin/env python3
"""pg_cut_proxy.py - a TCP proxy to PostgreSQL that makes one COMMIT go wrong

Forwards every connection from --listen to --upstream unchanged, until the
first simple query starting with COMMIT (what libpq's PQexec sends) after
--arm-after-s seconds: that one is passed to the server, the server's answer
is thrown away, and the connection is closed a moment later. The client
sees its connection lost during COMMIT while the server has committed: the
one case where a client cannot know whether its transaction is stored.

With --mode lose the proxy instead turns that COMMIT, and every later one
on the connection, into a ROLLBACK, lets the server's answers through (the
client believes it committed), answers "0/0" when asked how far the WAL is
on disk, and closes the connection a second later: what a server does that
answers commits and then crashes before its WAL reaches disk (asynchronous
commit).
Prints "cut" to stdout as it acts, and "listening" to stderr once it
accepts connections. Loopback only.
"""
import argparse, re, socket, struct, sys, threading, time

#  A simple query that starts with COMMIT ("COMMIT" or "COMMIT; SELECT ..."),
#  and one that asks how far the server's WAL is on disk.
COMMIT = re.compile(rb"Q....COMMIT", re.DOTALL)
FLUSHED = re.compile(rb"Q....SELECT pg_current_wal_flush_lsn", re.DOTALL)

def rewrite(data, found, new_query):
    """data with the simple query message at found replaced by new_query"""
    at = found.start()
    (length,) = struct.unpack("!I", data[at + 1:at + 5])
    query = new_query(data[at + 5:at + 1 + length - 1])
    message = b"Q" + struct.pack("!I", len(query) + 5) + query + b"\x00"
    return data[:at] + message + data[at + 1 + length:]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--arm-after-s", type=float, default=3.0)
    ap.add_argument("--mode", choices=("cut", "lose"), default="cut")
    args = ap.parse_args()
    armed_at = time.monotonic() + args.arm_after_s
    state = {"done": False}
    lock = threading.Lock()

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.listen))
    srv.listen(64)
    print("listening", file=sys.stderr, flush=True)

    def serve(client):
        try:
            upstream = socket.create_connection(("127.0.0.1", args.upstream))
        except OSError:
            client.close()
            return
        muted = threading.Event()

        def down():             # server -> client, unless muted
            try:
                while True:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    if muted.is_set():
                        continue
                    client.sendall(data)
            except OSError:
                pass
            finally:
                client.close()

        threading.Thread(target=down, daemon=True).start()
        crash_at = None         # lose: the connection goes at this time
        try:
            while True:
                if crash_at is not None:
                    left = crash_at - time.monotonic()
                    if left <= 0:
                        break
                    client.settimeout(left)
                try:
                    data = client.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                cut = False
                found = COMMIT.search(data)
                if found and time.monotonic() >= armed_at:
                    with lock:
                        if not state["done"]:
                            state["done"] = cut = True
                # A crash loses every commit after the first one lost (the
                # WAL is written in order): until the cut, all roll back.
                if found and crash_at is not None:
                    cut = True
                if crash_at is not None:
                    asked = FLUSHED.search(data)
                    if asked:       # nothing since the lost commit is on disk
                        data = rewrite(data, asked, lambda q: b"SELECT '0/0'::text")
                if cut and args.mode == "lose":
                    upstream.sendall(rewrite(data, found,
                                             lambda q: q.replace(b"COMMIT", b"ROLLBACK", 1)))
                    # The client believes it committed and goes on for a
                    # second (it may acknowledge what it thinks is stored);
                    # then the crash.
                    if crash_at is None:
                        print("cut", flush=True)
                        crash_at = time.monotonic() + 1.0
                    continue
                if cut:
                    muted.set()
                    print("cut", flush=True)
                    upstream.sendall(data)
                    time.sleep(0.5)     # the server commits; its answer is dropped
                    break
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()

if __name__ == "__main__":
    sys.exit(main())
