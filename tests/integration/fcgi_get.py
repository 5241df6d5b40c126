#!/usr/bin/env python3
"""A minimal FastCGI client for sherve's integration tests.

Sends one GET (or HEAD) request to a FastCGI responder on a unix socket
or HOST:PORT and reads the answer, optionally slowly, so a test can keep
a request in flight while it signals the server.

Usage: fcgi_get.py ADDRESS URI [--method GET] [--rate BYTES_PER_S]
                   [--out FILE] [--started FILE] [--timeout S]
                   [--repeat N]

ADDRESS is unix:/path, /path or HOST:PORT. Prints one line on stdout:

  status=200 bytes=N length=N sha256=HEX end=1 app_status=0

bytes is the body size received, length the Content-Length header ("-"
if none), end=1 when FCGI_END_REQUEST arrived. --started FILE is
created once the first response bytes arrive. Exit status 0 when the
answer was complete (end=1 and bytes == length), else 1. --repeat N
sends the request N times, one connection after the other, and prints
one line each with its time, ms=F, added. Standard library only.
"""

import argparse
import hashlib
import os
import socket
import struct
import sys
import time

FCGI_BEGIN_REQUEST = 1
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_STDERR = 7
FCGI_RESPONDER = 1


def record(rtype, content, req_id=1):
    return struct.pack("!BBHHBx", 1, rtype, req_id, len(content), 0) + content


def nv(name, value):
    out = b""
    for s in (name, value):
        n = len(s)
        out += bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
    return out + name + value


def connect(addr, timeout):
    if addr.startswith("unix:"):
        addr = addr[5:]
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = addr
    else:
        host, _, port = addr.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    s.settimeout(timeout)
    s.connect(target)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("uri")
    ap.add_argument("--method", default="GET")
    ap.add_argument("--rate", type=int, default=0,
                    help="read at most this many bytes per second")
    ap.add_argument("--out")
    ap.add_argument("--started")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    ok = True
    for _ in range(a.repeat):
        t0 = time.monotonic()
        line, complete = one(a)
        if a.repeat > 1:
            line += " ms=%.1f" % ((time.monotonic() - t0) * 1000)
        print(line)
        ok = ok and complete
    return 0 if ok else 1


def one(a):
    s = connect(a.address, a.timeout)
    if a.rate:
        # A small receive buffer makes the server block early.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    params = b"".join(nv(k.encode(), v.encode()) for k, v in (
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REQUEST_METHOD", a.method),
        ("REQUEST_URI", a.uri),
        ("QUERY_STRING", a.uri.partition("?")[2]),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", "80"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("HTTP_HOST", "localhost"),
    ))
    s.sendall(record(FCGI_BEGIN_REQUEST,
                     struct.pack("!HB5x", FCGI_RESPONDER, 0))
              + record(FCGI_PARAMS, params) + record(FCGI_PARAMS, b"")
              + record(FCGI_STDIN, b""))

    buf = bytearray()
    out = bytearray()
    ended = False
    app_status = "-"
    started = False
    chunk = 16384
    t0 = time.monotonic()
    got = 0
    try:
        while not ended:
            data = s.recv(chunk)
            if not data:
                break
            if not started and a.started:
                open(a.started, "w").close()
                started = True
            buf += data
            got += len(data)
            if a.rate:
                # Sleep until the average rate is back under the limit.
                ahead = got / a.rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            while len(buf) >= 8:
                _, rtype, _, clen, plen = struct.unpack("!BBHHBx", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content = bytes(buf[8:8 + clen])
                del buf[:8 + clen + plen]
                if rtype == FCGI_STDOUT:
                    out += content
                elif rtype == FCGI_END_REQUEST:
                    app_status = str(struct.unpack("!I", content[:4])[0])
                    ended = True
    except OSError as e:
        print("# fcgi_get: %s" % e, file=sys.stderr)
    s.close()

    head, _, body = bytes(out).partition(b"\r\n\r\n")
    status = "000"
    length = "-"
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"status":
            status = v.split()[0].decode() if v.split() else "000"
        elif k == b"content-length":
            length = v.strip().decode()
    if a.out:
        with open(a.out, "wb") as f:
            f.write(body)
    line = "status=%s bytes=%d length=%s sha256=%s end=%d app_status=%s" % (
        status, len(body), length, hashlib.sha256(body).hexdigest(),
        1 if ended else 0, app_status)
    complete = ended and (length == "-" or int(length) == len(body))
    return line, complete


if __name__ == "__main__":
    sys.exit(main())
