#!/usr/bin/env python3
"""A counting HTTP load client for sherve's integration tests.

Runs THREADS clients, each on its own kept-alive HTTP/1.1 connection to
HOST:PORT, sending GET requests for the PATH=STATUS pairs in turn until
STOPFILE exists (checked between requests) or --max-seconds pass. Every
request is counted as sent before it goes out and as answered when the
whole answer was read with the expected status; its wall time is kept.

Usage: load.py HOST:PORT STOPFILE PATH=STATUS... [--threads N]
               [--timeout S] [--max-seconds S] [--started FILE]

--started FILE is created once every thread has had one answer (so a
test signals the server only while load is really flowing). Prints one
line on stdout when done:

  sent=N answered=N wrong=N failed=N max_ms=F p99_ms=F slowest=PATH

wrong counts answers with another status, failed the requests without an
answer (timeout, reset, closed); the first few of both are described on
stderr. max_ms, p99_ms and slowest cover every request, failed or not. Exit status 0 when sent == answered. Standard library only.
"""

import argparse
import http.client
import os
import sys
import threading
import time


def parse_targets(pairs):
    out = []
    for p in pairs:
        path, _, status = p.rpartition("=")
        if not path.startswith("/") or not status.isdigit():
            raise SystemExit("load.py: bad PATH=STATUS: %r" % p)
        out.append((path, int(status)))
    return out


class Totals:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.answered = self.wrong = self.failed = 0
        self.times = []
        self.slowest = ("", 0.0)
        self.notes = []
        self.ready = 0

    def note(self, text):
        with self.lock:
            if len(self.notes) < 10:
                self.notes.append(text)


def client(args, targets, tot, stop_at, k):
    host, _, port = args.address.rpartition(":")
    conn = None
    i = k
    first = True
    while not os.path.exists(args.stopfile) and time.time() < stop_at:
        path, want = targets[i % len(targets)]
        url = "%s%sk=%d&i=%d" % (path, "&" if "?" in path else "?", k, i)
        i += 1
        with tot.lock:
            tot.sent += 1
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port),
                                                  timeout=args.timeout)
            conn.request("GET", url)
            r = conn.getresponse()
            r.read()
            status = r.status
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            ms = (time.monotonic() - t0) * 1000
            tot.note("failed %s after %.0f ms: %r" % (url, ms, e))
            with tot.lock:
                tot.failed += 1
                tot.times.append(ms)
                if ms > tot.slowest[1]:
                    tot.slowest = (url, ms)
            if conn is not None:
                conn.close()
            conn = None
            continue
        ms = (time.monotonic() - t0) * 1000
        with tot.lock:
            tot.times.append(ms)
            if ms > tot.slowest[1]:
                tot.slowest = (url, ms)
            if status == want:
                tot.answered += 1
            else:
                tot.wrong += 1
        if status != want:
            tot.note("wrong %s: %d, want %d" % (url, status, want))
        if first:
            first = False
            with tot.lock:
                tot.ready += 1
                all_ready = tot.ready == args.threads
            if all_ready and args.started:
                with open(args.started, "w") as f:
                    f.write("ready\n")
    if conn is not None:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("stopfile")
    ap.add_argument("targets", nargs="+")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--started")
    args = ap.parse_args()
    targets = parse_targets(args.targets)
    tot = Totals()
    stop_at = time.time() + args.max_seconds
    ts = [threading.Thread(target=client, args=(args, targets, tot, stop_at, k))
          for k in range(args.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for n in tot.notes:
        print("load.py: " + n, file=sys.stderr)
    times = sorted(tot.times)
    p99 = times[int(len(times) * 0.99)] if times else 0.0
    print("sent=%d answered=%d wrong=%d failed=%d max_ms=%.1f p99_ms=%.1f "
          "slowest=%s" % (tot.sent, tot.answered, tot.wrong, tot.failed,
                          times[-1] if times else 0.0, p99,
                          tot.slowest[0] or "-"))
    return 0 if tot.sent == tot.answered else 1


if __name__ == "__main__":
    sys.exit(main())
