#!/usr/bin/env python3
"""Broken upstreams for tests/integration/faults.sh.

The failure modes the shared fake upstream (upstream.py: ok, 500, slow,
huge, garbage) does not have. Listens on 127.0.0.1; every path but
/-/... is "the redirects file", answered according to the mode read from
--mode-file on every request:

  drip        200, Content-Length 1 MiB, then one line every 0.2 s
  truncated   200, Content-Length 65536, 60 bytes of valid lines, close
  stream      200 without Content-Length: valid lines until the client
              goes away (a size cap can only trip while reading)
  binary      200, 64 KiB of random bytes (NULs, CRs, 0xff...)
  onevalid    200, random bytes around one valid "alias URL" line
  empty       200 with an empty body
  redirfile   302 to file:///etc/passwd (a protocol sherve must refuse)
  redirloop   302 to itself, forever
  reset       close the connection without a byte

Control endpoint: GET /-/count (requests so far).

Usage: faults_upstream.py --mode-file F --port-file F [--log F]
Standard library only; SIGTERM and SIGINT stop it.
"""

import argparse
import os
import random
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LINE = b"alias%08d https://example.com/%08d\n"


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-faults/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        log = self.server.args.log
        if log:
            with open(log, "a") as f:
                f.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % a))

    def head(self, status, length=None, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def mode(self):
        try:
            with open(self.server.args.mode_file) as f:
                return f.read().strip()
        except OSError:
            return "empty"

    def stopping(self):
        return self.server.stopping.is_set()

    def do_GET(self):
        if self.path.startswith("/-/count"):
            body = b"%d\n" % self.server.count
            self.head(200, len(body))
            self.wfile.write(body)
            return
        self.server.count += 1
        mode = self.mode()
        self.log_message("mode %s for %s", mode, self.path)
        try:
            getattr(self, "mode_" + mode, self.mode_empty)()
        except (BrokenPipeError, ConnectionResetError):
            self.log_message("client went away (%s)", mode)
        self.close_connection = True

    def mode_drip(self):
        self.head(200, 1 << 20)
        i = 0
        while not self.stopping() and i < 600:
            self.wfile.write(LINE % (i, i))
            self.wfile.flush()
            i += 1
            time.sleep(0.2)

    def mode_truncated(self):
        self.head(200, 65536)
        self.wfile.write(b"".join(LINE % (i, i) for i in range(2))[:60])
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def mode_stream(self):
        self.head(200, None)
        i = 0
        while not self.stopping() and i < 10_000_000:
            self.wfile.write(b"".join(LINE % (i + k, i + k) for k in range(1024)))
            i += 1024

    def mode_binary(self):
        body = random.Random(1).randbytes(65536)
        self.head(200, len(body))
        self.wfile.write(body)

    def mode_onevalid(self):
        r = random.Random(2)
        body = (r.randbytes(30000) + b"\nonly https://example.com/only\n"
                + r.randbytes(30000))
        self.head(200, len(body))
        self.wfile.write(body)

    def mode_empty(self):
        self.head(200, 0)

    def mode_redirfile(self):
        self.head(302, 0, [("Location", "file:///etc/passwd")])

    def mode_redirloop(self):
        self.head(302, 0, [("Location", self.path)])

    def mode_reset(self):
        self.connection.shutdown(socket.SHUT_RDWR)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode-file", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()

    srv = Server(("127.0.0.1", 0), Handler)
    srv.args = args
    srv.count = 0
    srv.stopping = threading.Event()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, args.port_file)

    def stop(signum, frame):
        srv.stopping.set()
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
