#!/usr/bin/env python3
"""A fake redirects upstream for sherve's integration tests.

Serves one redirects file from disk on 127.0.0.1 (any path but /-/...),
with a strong ETag and Last-Modified, answering If-None-Match and
If-Modified-Since with 304. Standard library only.

The answer depends on a mode, read from --mode-file on every request (so a
test can switch it with `echo 500 > modefile`) or set with GET /-/mode/NAME:

  ok       the file, 200 (or 304 when the validators match)
  500      500 Internal Server Error with Retry-After: 1
  slow     wait --slow-seconds before answering, then send the file
  huge     200 with a --huge-bytes body of valid-looking lines
  garbage  200 with a body of lines that are not "alias URL" pairs
  429      429 Too Many Requests with Retry-After: --retry-after
  truncated  200 declaring Content-Length: 4096, sending 60 bytes of
           valid lines, then closing the connection
  stream   200 without Content-Length (the body ends when the
           connection closes): --stream-bytes of valid lines, so a
           size cap can only trip while reading, not from a header
  drip     200 declaring Content-Length 1 MiB, then one line every
           0.2 s (a transfer that never ends in any timeout)
  binary   200 with 64 KiB of random bytes (NULs, CRs, 0xff...)
  onevalid 200: random bytes around one valid "alias URL" line
  empty    200 with an empty body
  redirfile  302 to file:///etc/passwd (a protocol sherve refuses)
  redirloop  302 to itself, forever
  reset    close the connection without a byte

Control endpoints (not counted):

  GET /-/count      number of requests for the file so far
  GET /-/count304   how many of them were answered 304
  GET /-/reset      zero the counters
  GET /-/mode/NAME  set the mode (a mode file, when given, wins)
  GET /-/last       request line and headers of the last counted request

Targets for `sherve check --probe` (paths under /probe/, whatever the
mode; NAME is free, so that each URL can be a distinct target):

  /probe/ok/NAME          200
  /probe/hold/NAME        200 after --hold-seconds
  /probe/slow/NAME        200 after --slow-seconds
                          (hold and slow answer nothing once the client
                          has gone away, and no longer count as in
                          flight)
  /probe/dead/NAME        404
  /probe/error/NAME       500
  /probe/nohead/NAME      HEAD: 405 (Allow: GET); GET: 200 with a body
  /probe/chain/N/NAME     N > 0: 302 to /probe/chain/N-1/NAME; 0: 200
  /probe/loop/I/NAME      302 to /probe/loop/(I+1) mod 7/NAME, forever
  /probe/to-dead/NAME     301 to /probe/dead/NAME
  /probe/mailto/NAME      302 to mailto:NAME@example.org
  /probe/to-file/NAME     302 to file:///etc/passwd
  /probe/utf8/NAME        302 to /probe/ok/café, the UTF-8 bytes raw
  GET /-/probe-stats      JSON: "requests" (method and path of each, in
                          order of arrival), "max_in_flight" (most
                          /probe/ requests being answered at once),
                          "max_per_second" (most arrivals in any window
                          of one second)
  GET /-/probe-reset      forget them

Usage: upstream.py --file REDIRECTS [--port N] [--port-file F]
                   [--mode-file F] [--log F] [--slow-seconds S]
                   [--huge-bytes N] [--hold-seconds S]
                   [--retry-after S] [--stream-bytes N]
                   [--tls-cert PEM --tls-key PEM]

With --tls-cert and --tls-key it speaks https (the certificate as given:
a test makes a self-signed one for 127.0.0.1).

With --port 0 (the default) the kernel picks a port; it is written to
--port-file (atomically) once the server listens. Logs go to --log (or
nowhere), never to stdout. SIGTERM and SIGINT stop it.
"""

import argparse
import email.utils
import hashlib
import json
import os
import random
import select
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "500", "slow", "huge", "garbage", "429", "truncated", "stream",
         "drip", "binary", "onevalid", "empty", "redirfile", "redirloop",
         "reset")
LINE = b"alias%08d https://example.com/%08d\n"
# The modes that are a broken answer, each a send_<mode> method.
BROKEN = ("drip", "binary", "onevalid", "empty", "redirfile", "redirloop",
          "reset")


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.count = 0
        self.count304 = 0
        self.mode = "ok"
        self.last = ""
        self.stopping = threading.Event()
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.probe_reset()

    def probe_reset(self):
        with self.lock:
            self.probe_seen = []  # (monotonic arrival, method, path)
            self.in_flight = 0
            self.max_in_flight = 0

    def probe_stats(self):
        with self.lock:
            seen = list(self.probe_seen)
            top = self.max_in_flight
        times = [t for t, _, _ in seen]
        most, j = 0, 0
        for i, t in enumerate(times):  # arrivals are in order
            while times[j] <= t - 1.0:
                j += 1
            most = max(most, i - j + 1)
        return {"requests": ["%s %s" % (m, p) for _, m, p in seen],
                "max_in_flight": top, "max_per_second": most}

    def current_mode(self):
        path = self.args.mode_file
        if path:
            try:
                with open(path) as f:
                    m = f.read().strip()
                if m:
                    return m if m in MODES else "ok"
            except OSError:
                pass
        return self.mode

    def write_log(self, msg):
        if self.log is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            self.log.write("%s %s\n" % (stamp, msg))


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-upstream/1"
    protocol_version = "HTTP/1.1"

    # Quiet: BaseHTTPRequestHandler logs to stderr by default.
    def log_message(self, fmt, *a):
        self.server.state.write_log("%s %s" % (self.address_string(), fmt % a))

    def send_text(self, status, text, extra=None):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def control(self, path):
        st = self.server.state
        if path == "/-/count":
            with st.lock:
                n = st.count
            return self.send_text(200, "%d\n" % n)
        if path == "/-/count304":
            with st.lock:
                n = st.count304
            return self.send_text(200, "%d\n" % n)
        if path == "/-/reset":
            with st.lock:
                st.count = st.count304 = 0
            return self.send_text(200, "reset\n")
        if path == "/-/last":
            with st.lock:
                last = st.last
            return self.send_text(200, last)
        if path == "/-/probe-stats":
            return self.send_text(200, json.dumps(st.probe_stats()) + "\n")
        if path == "/-/probe-reset":
            st.probe_reset()
            return self.send_text(200, "reset\n")
        if path.startswith("/-/mode/"):
            m = path[len("/-/mode/"):]
            if m not in MODES:
                return self.send_text(400, "unknown mode %s\n" % m)
            st.mode = m
            return self.send_text(200, "mode %s\n" % m)
        return self.send_text(404, "no such control endpoint\n")

    def do_HEAD(self):
        self.do_GET()

    def client_gone(self):
        """True once the client has closed its end of the connection."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            return bool(r) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def wait(self, seconds, watch_client=False):
        """Sleep in slices; False if the client went away meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.server.state.stopping.is_set():
                return False
            if watch_client and self.client_gone():
                return False
            time.sleep(0.01)
        return True

    def probe(self, path):
        st = self.server.state
        with st.lock:
            st.probe_seen.append((time.monotonic(), self.command, path))
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            self.probe_answer(path.split("/")[2:])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # a GET left unread: expected
        finally:
            with st.lock:
                st.in_flight -= 1

    def probe_answer(self, parts):
        args = self.server.state.args
        kind = parts[0] if parts else ""
        name = parts[-1] if len(parts) > 1 else ""
        wait = {"hold": args.hold_seconds, "slow": args.slow_seconds}
        if kind in wait and not self.wait(wait[kind], True):
            self.close_connection = True
            return None
        if kind in ("ok", "hold", "slow"):
            return self.send_text(200, "alive\n")
        if kind == "dead":
            return self.send_text(404, "gone\n")
        if kind == "error":
            return self.send_text(500, "broken\n")
        if kind == "nohead":
            if self.command == "HEAD":
                return self.send_text(405, "no HEAD here\n",
                                      {"Allow": "GET"})
            return self.send_text(200, "GET only\n" * 4096)
        if kind == "chain" and len(parts) == 3 and parts[1].isdigit():
            n = int(parts[1])
            if n == 0:
                return self.send_text(200, "end of the chain\n")
            return self.send_text(302, "next\n", {
                "Location": "/probe/chain/%d/%s" % (n - 1, name)})
        if kind == "loop" and len(parts) == 3 and parts[1].isdigit():
            return self.send_text(302, "round\n", {
                "Location": "/probe/loop/%d/%s" % ((int(parts[1]) + 1) % 7,
                                                   name)})
        if kind == "to-dead":
            return self.send_text(301, "moved\n",
                                  {"Location": "/probe/dead/" + name})
        if kind == "mailto":
            return self.send_text(302, "write\n", {
                "Location": "mailto:%s@example.org" % name})
        if kind == "utf8":
            # Raw UTF-8 bytes in the header (http.server sends latin-1).
            return self.send_text(302, "accent\n", {
                "Location": "/probe/ok/caf\xc3\xa9"})
        if kind == "to-file":
            return self.send_text(302, "read\n",
                                  {"Location": "file:///etc/passwd"})
        return self.send_text(400, "no such probe target\n")

    def do_GET(self):
        st = self.server.state
        path = self.path.split("?", 1)[0]
        if path.startswith("/-/"):
            return self.control(path)
        if path.startswith("/probe/"):
            return self.probe(path)
        with st.lock:
            st.count += 1
            st.last = "%s\n%s" % (self.requestline, str(self.headers))
        mode = st.current_mode()
        st.write_log("serving %s in mode %s" % (self.path, mode))
        if mode == "500":
            return self.send_text(500, "upstream is broken\n",
                                  {"Retry-After": "1"})
        if mode == "slow":
            # Sleep in slices so a stopping server does not hang around.
            deadline = time.monotonic() + st.args.slow_seconds
            while time.monotonic() < deadline and not st.stopping.is_set():
                time.sleep(0.05)
        if mode == "huge":
            return self.send_huge()
        if mode == "429":
            return self.send_text(429, "slow down\n",
                                  {"Retry-After": str(st.args.retry_after)})
        if mode == "truncated":
            return self.send_truncated()
        if mode == "stream":
            return self.send_stream()
        if mode in BROKEN:
            try:
                getattr(self, "send_" + mode)()
            except (BrokenPipeError, ConnectionResetError):
                st.write_log("%s: client went away" % mode)
            self.close_connection = True
            return None
        if mode == "garbage":
            body = ("this line has no url\n"
                    "also-bad ftp://example.com/x\n"
                    "three fields here http://example.com/\n"
                    "\x01\x02 binary junk\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return None
        return self.send_file()

    def send_file(self):
        st = self.server.state
        try:
            with open(st.args.file, "rb") as f:
                body = f.read()
            mtime = int(os.stat(st.args.file).st_mtime)
        except OSError as e:
            return self.send_text(404, "cannot read the file: %s\n" % e)
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:20]
        lastmod = http_date(mtime)
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        fresh = False
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            fresh = etag in tags or "*" in tags
        elif ims is not None:
            try:
                fresh = email.utils.parsedate_to_datetime(ims).timestamp() >= mtime
            except (TypeError, ValueError):
                fresh = False
        if fresh:
            with st.lock:
                st.count304 += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", lastmod)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", lastmod)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None

    def send_huge(self):
        st = self.server.state
        total = st.args.huge_bytes
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        if self.command != "HEAD":
            self.write_lines(total)


    def send_truncated(self):
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "4096")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"".join(LINE % (i, i) for i in range(2))[:60])
            self.wfile.flush()

    def send_stream(self):
        st = self.server.state
        self.close_connection = True
        self.protocol_version = "HTTP/1.0"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.write_lines(st.args.stream_bytes)

    def send_head(self, status, length, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(length))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def send_drip(self):
        st = self.server.state
        self.send_head(200, 1 << 20)
        i = 0
        while not st.stopping.is_set() and i < 600:
            self.wfile.write(LINE % (i, i))
            self.wfile.flush()
            i += 1
            time.sleep(0.2)

    def send_binary(self):
        body = random.Random(1).randbytes(65536)
        self.send_head(200, len(body))
        self.wfile.write(body)

    def send_onevalid(self):
        r = random.Random(2)
        body = (r.randbytes(30000) + b"\nonly https://example.com/only\n"
                + r.randbytes(30000))
        self.send_head(200, len(body))
        self.wfile.write(body)

    def send_empty(self):
        self.send_head(200, 0)

    def send_redirfile(self):
        self.send_head(302, 0, [("Location", "file:///etc/passwd")])

    def send_redirloop(self):
        self.send_head(302, 0, [("Location", self.path)])

    def send_reset(self):
        self.connection.shutdown(socket.SHUT_RDWR)

    def write_lines(self, total):
        """total bytes of valid lines; False if the client went away."""
        st = self.server.state
        sent, i = 0, 0
        try:
            while sent < total and not st.stopping.is_set():
                chunk = b"".join(LINE % (i + k, i + k) for k in range(1024))
                i += 1024
                chunk = chunk[: total - sent]
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            st.write_log("body: client went away after %d bytes" % sent)
            return False
        return True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that stops reading (a probe's GET) resets: no news.
        if isinstance(sys.exc_info()[1], (ConnectionResetError,
                                          BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", required=True, help="redirects file to serve")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here")
    ap.add_argument("--mode-file", help="read the mode from this file")
    ap.add_argument("--log", help="append a log here")
    ap.add_argument("--slow-seconds", type=float, default=30.0)
    ap.add_argument("--huge-bytes", type=int, default=64 * 1024 * 1024)
    ap.add_argument("--hold-seconds", type=float, default=1.5)
    ap.add_argument("--tls-cert", help="PEM certificate: speak https")
    ap.add_argument("--tls-key", help="PEM key of --tls-cert")
    ap.add_argument("--retry-after", type=int, default=120)
    ap.add_argument("--stream-bytes", type=int, default=4 * 1024 * 1024)
    args = ap.parse_args()

    state = State(args)
    srv = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.state = state
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    state.write_log("listening on 127.0.0.1:%d, serving %s" % (port, args.file))

    def stop(signum, frame):
        state.stopping.set()
        # shutdown() blocks until serve_forever returns: not from its thread.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
        state.write_log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
