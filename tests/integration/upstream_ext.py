#!/usr/bin/env python3
"""Failure modes the shared fake upstream (upstream.py) does not have.

A small standalone server for tests/integration/refresh.sh, on 127.0.0.1.
Every path but /-/... is "the redirects file"; the answer depends on the
mode, read from --mode-file on every request:

  ok         the --file, 200 (no validators)
  429        429 Too Many Requests with Retry-After: --retry-after
  truncated  200 declaring Content-Length: 4096, sending 60 bytes of
             valid lines, then closing the connection
  stream     200 without Content-Length (the body ends when the
             connection closes): --stream-bytes of valid lines, so a
             size cap can only trip while reading, not from a header

Control endpoints (not counted):

  GET /-/count   requests for the file so far
  GET /-/log     the request target (path and query) of each, one a line

Usage: upstream_ext.py --file F --mode-file F --port-file F [--log F]
                       [--retry-after S] [--stream-bytes N]
Standard library only; SIGTERM and SIGINT stop it.
"""

import argparse
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LINE = b"alias%08d https://example.com/%08d\n"


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-upstream-ext/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        log = self.server.args.log
        if log:
            with open(log, "a") as f:
                f.write("%s\n" % (fmt % a))

    def text(self, status, body, extra=()):
        body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def mode(self):
        try:
            with open(self.server.args.mode_file) as f:
                return f.read().strip() or "ok"
        except OSError:
            return "ok"

    def do_GET(self):
        srv = self.server
        if self.path.startswith("/-/"):
            with srv.lock:
                if self.path == "/-/count":
                    return self.text(200, "%d\n" % len(srv.seen))
                if self.path == "/-/log":
                    return self.text(200, "".join(s + "\n" for s in srv.seen))
            return self.text(404, "no such control endpoint\n")
        with srv.lock:
            srv.seen.append(self.path)
        mode = self.mode()
        if mode == "429":
            return self.text(429, "slow down\n",
                             [("Retry-After", str(srv.args.retry_after))])
        if mode == "truncated":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "4096")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"".join(LINE % (i, i) for i in range(2))[:60])
            self.wfile.flush()
            return None
        if mode == "stream":
            self.close_connection = True
            self.protocol_version = "HTTP/1.0"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            sent, i, total = 0, 0, srv.args.stream_bytes
            try:
                while sent < total:
                    chunk = b"".join(LINE % (i + k, i + k)
                                     for k in range(256))
                    i += 256
                    chunk = chunk[: total - sent]
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        try:
            with open(srv.args.file, "rb") as f:
                body = f.read()
        except OSError as e:
            return self.text(404, "cannot read the file: %s\n" % e)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", required=True)
    ap.add_argument("--mode-file", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--retry-after", type=int, default=120)
    ap.add_argument("--stream-bytes", type=int, default=4 * 1024 * 1024)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.args = args
    srv.lock = threading.Lock()
    srv.seen = []
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, args.port_file)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
