#!/usr/bin/env python3
"""Half-open FastCGI connections for sherve's integration tests.

Opens N connections to a FastCGI socket and leaves each with a request
that never completes, in five ways taken in turn: nothing sent at all;
3 bytes of a record header; a whole FCGI_BEGIN_REQUEST and half the next
header; FCGI_BEGIN_REQUEST and one FCGI_PARAMS record but never the empty
one that ends the stream; FCGI_BEGIN_REQUEST and a FCGI_PARAMS record cut
short. Then it waits, up to --max-seconds, for the server to close each.

Usage: halfopen.py ADDRESS N [--started FILE] [--max-seconds S]

ADDRESS is unix:/path, /path or HOST:PORT. --started FILE is written once
every connection is open and has sent its bytes. Prints one line:

  open=N closed=M first_s=F last_s=F

closed counts the connections the server closed (EOF or reset) within
--max-seconds; first_s and last_s are the earliest and latest of those
closes, in seconds after the connection was opened. Exit status 0 when
every connection was closed. Standard library only.
"""

import argparse
import select
import socket
import struct
import sys
import time

BEGIN, PARAMS = 1, 4


def record(rtype, content, req_id=1, length=None):
    n = len(content) if length is None else length
    return struct.pack("!BBHHBx", 1, rtype, req_id, n, 0) + content


def nv(name, value):
    return bytes([len(name), len(value)]) + name + value


def partial(kind):
    begin = record(BEGIN, struct.pack("!HB5x", 1, 0))
    params = nv(b"REQUEST_METHOD", b"GET") + nv(b"REQUEST_URI", b"/foo")
    if kind == 0:
        return b""
    if kind == 1:
        return begin[:3]
    if kind == 2:
        return begin + record(PARAMS, params)[:4]
    if kind == 3:
        return begin + record(PARAMS, params)
    return begin + record(PARAMS, params, length=200)


def connect(addr):
    if addr.startswith("unix:"):
        addr = addr[5:]
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr)
    else:
        host, _, port = addr.rpartition(":")
        s = socket.create_connection((host, int(port)))
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("n", type=int)
    ap.add_argument("--started")
    ap.add_argument("--max-seconds", type=float, default=30.0)
    args = ap.parse_args()
    conns = {}
    for i in range(args.n):
        s = connect(args.address)
        data = partial(i % 5)
        if data:
            s.sendall(data)
        conns[s] = time.monotonic()
    if args.started:
        with open(args.started, "w") as f:
            f.write("started\n")
    closed = []
    deadline = time.monotonic() + args.max_seconds
    while conns and time.monotonic() < deadline:
        ready, _, _ = select.select(list(conns), [], [],
                                    max(0.0, deadline - time.monotonic()))
        for s in ready:
            try:
                gone = s.recv(4096) == b""
            except OSError:
                gone = True
            if gone:
                closed.append(time.monotonic() - conns.pop(s))
                s.close()
    print("open=%d closed=%d first_s=%.2f last_s=%.2f"
          % (args.n, len(closed), min(closed) if closed else 0.0,
             max(closed) if closed else 0.0))
    return 0 if not conns else 1


if __name__ == "__main__":
    sys.exit(main())
