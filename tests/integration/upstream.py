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

Control endpoints (not counted):

  GET /-/count      number of requests for the file so far
  GET /-/count304   how many of them were answered 304
  GET /-/reset      zero the counters
  GET /-/mode/NAME  set the mode (a mode file, when given, wins)
  GET /-/last       request line and headers of the last counted request

Usage: upstream.py --file REDIRECTS [--port N] [--port-file F]
                   [--mode-file F] [--log F] [--slow-seconds S]
                   [--huge-bytes N]

With --port 0 (the default) the kernel picks a port; it is written to
--port-file (atomically) once the server listens. Logs go to --log (or
nowhere), never to stdout. SIGTERM and SIGINT stop it.
"""

import argparse
import email.utils
import hashlib
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "500", "slow", "huge", "garbage")


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
        if path.startswith("/-/mode/"):
            m = path[len("/-/mode/"):]
            if m not in MODES:
                return self.send_text(400, "unknown mode %s\n" % m)
            st.mode = m
            return self.send_text(200, "mode %s\n" % m)
        return self.send_text(404, "no such control endpoint\n")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        st = self.server.state
        path = self.path.split("?", 1)[0]
        if path.startswith("/-/"):
            return self.control(path)
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
        if self.command == "HEAD":
            return
        line = b"alias%08d https://example.com/%08d\n"
        sent, i = 0, 0
        try:
            while sent < total and not st.stopping.is_set():
                chunk = b"".join(line % (i + k, i + k) for k in range(1024))
                i += 1024
                chunk = chunk[: total - sent]
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            st.write_log("huge body: client went away after %d bytes" % sent)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", required=True, help="redirects file to serve")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here")
    ap.add_argument("--mode-file", help="read the mode from this file")
    ap.add_argument("--log", help="append a log here")
    ap.add_argument("--slow-seconds", type=float, default=30.0)
    ap.add_argument("--huge-bytes", type=int, default=64 * 1024 * 1024)
    args = ap.parse_args()

    state = State(args)
    srv = Server(("127.0.0.1", args.port), Handler)
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
