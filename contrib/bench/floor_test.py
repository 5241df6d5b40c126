#!/usr/bin/env python3
"""floor_test.py - the FastCGI floor of contrib/bench against crafted records.

Runs contrib/bench/floor (FLOOR_BIN, else TOP_BUILDDIR's) both ways the
bench starts it, with a listening socket on stdin (as lighttpd bin-path
and mod_fcgid do) and as `floor serve --listen unix:... --workers 2`,
and checks its answers to what real web servers may send: PARAMS split
across records and inside a length, padding, 4-byte lengths, a request
body, FCGI_KEEP_CONN and its absence, GET_VALUES, unknown management
types, ABORT_REQUEST, a second request while one is open, an unknown
role, malformed and oversized PARAMS, a byte at a time, and 40
connections at once; then that it is still alive, and its command line.
Prints "ok - ..." / "not ok - ..." lines; exit 0 pass, 1 fail, 99 hard
error (automake). Standard library only.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

TOP_SRCDIR = os.environ.get("TOP_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR") or TOP_SRCDIR
FLOOR = os.environ.get("FLOOR_BIN") or os.path.join(
    TOP_BUILDDIR, "contrib", "bench", "floor")
sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests", "integration"))
from fcgi_get import nv  # noqa: E402  (the tests' FastCGI encoder)

BEGIN, ABORT, END, PARAMS, STDIN, STDOUT = 1, 2, 3, 4, 5, 6
GET_VALUES, VALUES_RESULT, UNKNOWN_TYPE = 9, 10, 11
MAP = """# the bench's map format
l01 https://example.com/target/l01
/l02/ https://example.com/a?b=1&c=2 302
@host other.example
l03 https://example.com/only-there
@host *
l04 https://example.com/l04
"""
FAILED = 0


def check(ok, desc, got=""):
    global FAILED
    if ok:
        print("ok - %s" % desc)
    else:
        FAILED += 1
        print("not ok - %s (got %r)" % (desc, got))


def rec(rtype, content=b"", req_id=1, pad=0, padbyte=b"\0"):
    return struct.pack("!BBHHBx", 1, rtype, req_id, len(content), pad) + \
        content + padbyte * pad


def begin(req_id=1, keep=False, role=1):
    return rec(BEGIN, struct.pack("!HB5x", role, 1 if keep else 0), req_id)


def params_for(uri, extra=()):
    return b"".join(nv(k.encode(), v.encode()) for k, v in (
        ("GATEWAY_INTERFACE", "CGI/1.1"), ("REQUEST_METHOD", "GET"),
        ("REQUEST_URI", uri), ("SERVER_NAME", "localhost")) + tuple(extra))


def request(uri, req_id=1, keep=False):
    return begin(req_id, keep) + rec(PARAMS, params_for(uri), req_id) + \
        rec(PARAMS, b"", req_id) + rec(STDIN, b"", req_id)


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(path)
        self.buf = b""

    def send(self, data, bytewise=False):
        if not bytewise:
            self.s.sendall(data)
            return
        for i in range(len(data)):
            self.s.sendall(data[i:i + 1])

    def record(self):
        """The next record (type, id, content), or None at EOF."""
        while True:
            if len(self.buf) >= 8:
                _, t, rid, clen, plen = struct.unpack("!BBHHBx",
                                                      self.buf[:8])
                if len(self.buf) >= 8 + clen + plen:
                    c = self.buf[8:8 + clen]
                    self.buf = self.buf[8 + clen + plen:]
                    return t, rid, c
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return "timeout"
            if not d:
                return None
            self.buf += d

    def answer(self, req_id=1):
        """(status, headers, body, protocol status) of one request."""
        out = b""
        while True:
            r = self.record()
            if r is None or r == "timeout":
                return ("no answer: %r" % (r,), {}, b"", None)
            t, rid, c = r
            if rid != req_id:
                continue
            if t == STDOUT:
                out += c
            elif t == END:
                break
        head, _, body = out.partition(b"\r\n\r\n")
        h = {}
        for line in head.split(b"\r\n"):
            k, _, v = line.partition(b":")
            h[k.strip().lower().decode()] = v.strip().decode()
        return h.get("status", "")[:3], h, body, c[4]

    def closed(self):
        return self.record() is None

    def close(self):
        self.s.close()


def connect(path):
    """A connection once the socket listens (it is bound just before)."""
    for _ in range(100):
        try:
            return Conn(path)
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.05)
    return Conn(path)


def start_on_stdin(tmp, env):
    """The floor with a listening socket on fd 0, as a web server runs it."""
    path = os.path.join(tmp, "stdin.sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(64)
    p = subprocess.Popen([FLOOR], stdin=ls.fileno(), env=env)
    ls.close()
    return p, path


def protocol(path):
    c = Conn(path)
    c.send(request("/l01", keep=True))
    st, h, body, ps = c.answer()
    check(st == "301" and h.get("location") ==
          "https://example.com/target/l01" and ps == 0 and
          int(h.get("content-length", -1)) == len(body),
          "an alias answers 301 with its Location", (st, h, body))
    c.send(request("/l02/?q=1", 2, keep=True))
    st, h, _, _ = c.answer(2)
    check(st == "302" and h.get("location") == "https://example.com/a?b=1&c=2",
          "kept connection: a second request; slashes and query ignored; "
          "the map's status", (st, h))
    c.send(request("/l03", 3, keep=True) + request("/nope", 4, keep=True))
    st3, _, _, _ = c.answer(3)
    st4, h4, body4, _ = c.answer(4)
    check(st3 == "404" and st4 == "404" and body4 == b"Not found\n" and
          h4.get("content-length") == "10",
          "a host-section rule and an unknown path answer the small 404",
          (st3, st4, body4))

    # PARAMS split inside a 4-byte length, padded with junk, then STDIN
    # with a body to skip.
    p = params_for("/l04", (("HTTP_X_LONG", "v" * 300),))
    cut = p.index(b"HTTP_X_LONG") - 6
    c.send(begin(5, keep=True) + rec(PARAMS, p[:cut], 5, pad=5, padbyte=b"x")
           + rec(PARAMS, p[cut:cut + 3], 5, pad=255, padbyte=b"y")
           + rec(PARAMS, p[cut + 3:], 5) + rec(PARAMS, b"", 5)
           + rec(STDIN, b"body bytes", 5, pad=6) + rec(STDIN, b"", 5))
    st, h, _, _ = c.answer(5)
    check(st == "301" and h.get("location") == "https://example.com/l04",
          "PARAMS split across padded records and inside a length",
          (st, h))

    c.send(rec(GET_VALUES, nv(b"FCGI_MPXS_CONNS", b"") +
               nv(b"FCGI_MAX_REQS", b"") + nv(b"OTHER", b""), 0))
    r = c.record()
    check(r not in (None, "timeout") and r[0] == VALUES_RESULT and
          r[1] == 0 and r[2] == nv(b"FCGI_MPXS_CONNS", b"0") +
          nv(b"FCGI_MAX_REQS", b"4096"),
          "GET_VALUES answers the names it knows", r)
    c.send(rec(42, b"", 0))
    r = c.record()
    check(r not in (None, "timeout") and r[0] == UNKNOWN_TYPE and
          r[2][0] == 42, "an unknown management record: UNKNOWN_TYPE", r)

    c.send(begin(6, keep=True) + rec(PARAMS, p[:20], 6) + rec(ABORT, b"", 6))
    st, _, _, ps = c.answer(6)
    check(ps == 0 and st == "", "ABORT_REQUEST ends the request",
          (st, ps))
    c.send(begin(7, keep=True) + rec(PARAMS, params_for("/l01"), 7)
           + begin(8, keep=True))
    r = c.record()
    check(r not in (None, "timeout") and r[0] == END and r[1] == 8 and
          r[2][4] == 1, "a second request while one is open: "
          "CANT_MPX_CONN", r)
    c.send(rec(PARAMS, b"", 7) + rec(STDIN, b"", 7))
    st, _, _, _ = c.answer(7)
    check(st == "301", "the open request is still answered", st)

    c.send(begin(9, keep=True, role=2))
    r = c.record()
    check(r not in (None, "timeout") and r[0] == END and r[1] == 9 and
          r[2][4] == 3, "an unknown role: UNKNOWN_ROLE", r)
    c.send(begin(10, keep=True) + rec(PARAMS, b"\x7f\x05abc", 10)
           + rec(PARAMS, b"", 10) + rec(STDIN, b"", 10))
    st, _, _, _ = c.answer(10)
    check(st == "400", "malformed PARAMS answer 400", st)
    big = nv(b"HTTP_X_BIG", b"z" * 60000)
    c.send(begin(11, keep=True) + rec(PARAMS, big, 11) + rec(PARAMS, big, 11)
           + rec(PARAMS, b"", 11) + rec(STDIN, b"", 11))
    st, _, _, _ = c.answer(11)
    check(st == "400", "PARAMS beyond 64 KiB answer 400", st)
    c.send(request("/l01", 12, keep=False))
    st, _, _, _ = c.answer(12)
    check(st == "301" and c.closed(),
          "without FCGI_KEEP_CONN the floor closes after the answer", st)
    c.close()

    c = Conn(path)
    c.send(request("/l04", 300, keep=False), bytewise=True)
    st, _, _, _ = c.answer(300)
    check(st == "301", "a request sent a byte at a time", st)
    c.close()
    c = Conn(path)
    c.send(b"\x02" + request("/l01")[1:])
    check(c.closed(), "a record of another version closes the connection")
    c.close()

    conns = [Conn(path) for _ in range(40)]
    for i, k in enumerate(conns):
        k.send(request("/l01" if i % 2 else "/x", i + 1, keep=True))
    got = [k.answer(i + 1)[0] for i, k in enumerate(conns)]
    check(got == ["404", "301"] * 20, "40 connections at once", got)
    for k in conns:
        k.close()


def cli(tmp, env):
    def run(args, e, stdin=subprocess.DEVNULL):
        r = subprocess.run([FLOOR] + args, env=e, stdin=stdin,
                           capture_output=True, text=True, timeout=10)
        return r.returncode, r.stderr

    rc, err = run(["refresh"], env)
    check(rc == 64 and "only answers" in err, "another verb: exit 64",
          (rc, err))
    rc, err = run(["--config", "/dev/null", "serve"], env)
    check(rc == 64 and "--config" in err, "--config is refused: exit 64",
          (rc, err))
    rc, err = run([], env)
    check(rc == 64 and "no listening socket" in err,
          "no socket on stdin: exit 64", (rc, err))
    e = dict(env, SHERVE_REDIRECTS_URL="https://example.com/map")
    rc, err = run(["serve", "--listen", "unix:" + tmp + "/x.sock"], e)
    check(rc == 78 and "fetches nothing" in err, "an http URL: exit 78",
          (rc, err))
    rc, err = run(["serve", "--workers", "x1", "--listen",
                   "unix:" + tmp + "/x.sock"], env)
    check(rc == 78 and "workers" in err, "a bad worker count: exit 78",
          (rc, err))
    r = subprocess.run([FLOOR, "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "Usage: floor" in r.stdout and
          max(map(len, r.stdout.splitlines())) <= 80,
          "--help: usage within 80 columns, exit 0", r)


def serve_mode(tmp, env):
    sock = os.path.join(tmp, "pool.sock")
    e = {k: v for k, v in env.items() if k != "SHERVE_REDIRECTS_URL"}
    e["SHERVE_BASE_PATH"] = "/elsewhere"
    p = subprocess.Popen([FLOOR, "--redirects-url",
                          "file://%s/map.txt" % tmp, "--log-level=warn",
                          "--cache-control", "ignored", "serve",
                          "--base-path=/go", "--listen", "unix:" + sock,
                          "--workers", "2"], env=e)
    try:
        c = connect(sock)
        c.send(request("/go/l01", keep=True) + request("/l01", 2, True))
        a, b = c.answer()[0], c.answer(2)[0]
        check((a, b) == ("301", "404"), "serve: options win over "
              "SHERVE_*; base-path; other sherve settings ignored", (a, b))
        c.close()
        # One worker answered; the master may not have forked the other
        # yet: wait for it (10 s at most) before counting.
        for _ in range(200):
            kids = subprocess.run(["ps", "-o", "pid=", "--ppid",
                                   str(p.pid)], capture_output=True,
                                  text=True).stdout.split()
            if len(kids) >= 2:
                break
            time.sleep(0.05)
        check(len(kids) == 2, "serve: --workers 2 makes 2 workers", kids)
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=10)
    check(rc == 0 and not os.path.exists(sock),
          "serve: SIGTERM stops it, exit 0, socket removed", rc)


def main():
    if not os.access(FLOOR, os.X_OK):
        print("floor_test: %s is not built" % FLOOR, file=sys.stderr)
        return 99
    tmp = tempfile.mkdtemp(prefix="floor-test.")
    p = None
    try:
        with open(os.path.join(tmp, "map.txt"), "w") as f:
            f.write(MAP)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SHERVE_")}
        env.update(SHERVE_REDIRECTS_URL="file://%s/map.txt" % tmp)
        p, path = start_on_stdin(tmp, env)
        protocol(path)
        check(p.poll() is None, "still alive after all of it", p.poll())
        cli(tmp, env)
        serve_mode(tmp, env)
    except Exception as e:  # a hard error, not a finding
        print("floor_test: %r" % e, file=sys.stderr)
        return 99
    finally:
        if p is not None:
            p.kill()
            p.wait()
        shutil.rmtree(tmp)
    print("# %d failed" % FAILED)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
