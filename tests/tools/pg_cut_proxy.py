#!/usr/bin/env python3
"""pg_cut_proxy.py - a TCP proxy to PostgreSQL that loses one COMMIT's answer

Forwards every connection from --listen to --upstream unchanged, until the
first simple-query COMMIT (what libpq's PQexec("COMMIT") sends) after
--arm-after-s seconds: that one is passed to the server, the server's answer
is thrown away, and the connection is closed a moment later. The client
sees its connection lost during COMMIT while the server has committed: the
one case where a client cannot know whether its transaction is stored.
Prints "cut" to stdout when it has cut. Loopback only.
"""
import argparse, socket, sys, threading, time

COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--arm-after-s", type=float, default=3.0)
    args = ap.parse_args()
    armed_at = time.monotonic() + args.arm_after_s
    state = {"done": False}
    lock = threading.Lock()

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.listen))
    srv.listen(64)

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
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                cut = False
                if COMMIT in data and time.monotonic() >= armed_at:
                    with lock:
                        if not state["done"]:
                            state["done"] = cut = True
                if cut:
                    muted.set()
                    upstream.sendall(data)
                    time.sleep(0.5)     # the server commits; its answer is dropped
                    print("cut", flush=True)
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
