#!/usr/bin/env python3
"""Parse wrk output into TSV rows, and turn the rows into the benchmark
report (Markdown) with medians, ratios to nginx and to lighttpd serving
directly, the hot-path measurements and the targets of issue 6.

  table.py parse NAME LOAD < wrk-output   >> results.tsv
  table.py report results.tsv DURATION REPEAT
"""
import math
import os
import platform
import re
import statistics
import subprocess
import sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}
SIZES = {"B": 1 / 2**20, "KB": 1 / 2**10, "MB": 1.0, "GB": 2**10}
NAN = float("nan")
LOADS = {"mixed": "Mixed workload (every asset and alias)",
         "redirects": "Redirects only",
         "small": "Small files only (<= 16 KB)"}
SENDFILE = ("sherve-nginx-xaccel", "sherve-lighttpd-xsendfile",
            "sherve-apache-xsendfile")
BIG = 100000


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else NAN


def parse(name, load):
    """One row: name load ok req/s MB/s p50 p99 errors max (ms)."""
    out = sys.stdin.read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    tps = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    lat = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                     r"timeout (\d+)", out)
    if not rps:
        print("%s\t%s\tfailed\t0\t0\t0\t0\t0\t0" % (name, load))
        return
    mbps = float(tps.group(1)) * SIZES[tps.group(2)] if tps else 0.0
    nerr = int(bad.group(1)) if bad else 0
    if errs:
        nerr += sum(int(x) for x in errs.groups())
    print("%s\t%s\tok\t%s\t%.2f\t%.3f\t%.3f\t%d\t%.3f" % (
        name, load, rps.group(1), mbps,
        ms(p50.group(1)) if p50 else NAN,
        ms(p99.group(1)) if p99 else NAN, nerr,
        ms(lat.group(3)) if lat else NAN))


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def ver(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return [
        "%d cores (%s), %s %s" % (os.cpu_count(), cpu, platform.system(),
                                  platform.release()),
        ver(["nginx", "-v"]), ver(["lighttpd", "-v"]),
        ver(["apache2", "-v"]), ver(["wrk", "--version"]),
    ]


def ratio(a, b):
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def fmt(x, spec="%.2f"):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) \
        else spec % x


def floats(xs):
    out = []
    for x in xs:
        try:
            out.append(float(x))
        except ValueError:
            pass
    return out


class Results:
    def __init__(self, path):
        # rows[(name, load)] = [[req/s, MB/s, p50, p99, errors, max], ...]
        self.rows, self.status, self.rss = {}, {}, {}
        self.hot = {}  # kind -> list of the remaining fields
        self.failed = []
        with open(path) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) < 3:
                    continue
                if p[0] == "hotpath":
                    self.hot.setdefault(p[1], []).append(p[2:])
                elif p[1] == "status":
                    self.status[p[0]] = p[2]
                elif p[1] == "rss":
                    self.rss[p[0]] = p[2:]
                elif p[2] == "ok":
                    v = [float(x) for x in p[3:9]]
                    v += [NAN] * (6 - len(v))
                    self.rows.setdefault((p[0], p[1]), []).append(v)
                else:
                    self.failed.append("%s/%s" % (p[0], p[1]))

    def med(self, name, load):
        runs = self.rows.get((name, load))
        return [statistics.median(c) for c in zip(*runs)] if runs else None

    def names(self, load):
        return [n for (n, l) in self.rows if l == load]


def tables(res):
    for load, title in LOADS.items():
        base = res.med("nginx-direct", load)
        light = res.med("lighttpd-direct", load)
        print("## %s\n" % title)
        print("| setup | req/s | MB/s | p50 ms | p99 ms | errors | "
              "req/s ratio | MB/s ratio | p99 ratio | "
              "req/s vs lighttpd | MB/s vs lighttpd |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name in res.names(load):
            m = res.med(name, load)
            b = base or [None] * 6
            li = light or [None] * 6
            print("| %s | %.0f | %.1f | %.3f | %.3f | %d | %s | %s | %s | "
                  "%s | %s |" % (
                      name, m[0], m[1], m[2], m[3], m[4],
                      fmt(ratio(m[0], b[0])), fmt(ratio(m[1], b[1])),
                      fmt(ratio(m[3], b[3])),
                      fmt(ratio(m[0], li[0])), fmt(ratio(m[1], li[1]))))
        print()


def hotpath(res):
    """Print the Hot path section; return its measured values."""
    hot = res.hot
    v = {}
    print("## Hot path (%d-alias map)\n" % BIG)
    if not hot:
        print("Not run (`hotpath` was not in SETUPS).\n")
        return v
    fresh = [r[0] for r in hot.get("refresh", [])]
    secs = floats(fresh)
    if secs and len(secs) == len(fresh):
        v["refresh"] = statistics.median(secs)
    print("- Refresh of the %d-alias file into a fresh state dir "
          "(`sherve refresh --force`, file:// URL): median %s s of %d "
          "(min %s, max %s); %d failed. Target: <= 2 s."
          % (BIG, fmt(v.get("refresh"), "%.3f"), len(fresh),
             fmt(min(secs) if secs else None, "%.3f"),
             fmt(max(secs) if secs else None, "%.3f"),
             len(fresh) - len(secs)))
    under = [r[0] for r in hot.get("refresh-load", [])]
    usecs = floats(under)
    v["refresh_failed"] = len(under) - len(usecs)
    v["refreshes"] = len(under)
    print("- Refreshes during the loaded runs (rewriting the live store, "
          "alternating two %d-alias maps): %d, median %s s, max %s s; "
          "%d failed." % (BIG, len(under),
                          fmt(statistics.median(usecs) if usecs else None,
                              "%.3f"),
                          fmt(max(usecs) if usecs else None, "%.3f"),
                          v["refresh_failed"]))
    if "status" in hot:
        print("- Status check before the loads (50 aliases answering other "
              "than 301): %s." % hot["status"][0][0])
    print()
    print("Redirect-only load over all %d aliases against sherve behind "
          "nginx (`sherve serve`, 2 workers), median of the runs; errors "
          "are summed and max is the largest over the runs:\n" % BIG)
    print("| load | runs | req/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, label in (("hotpath-quiet", "without refreshes"),
                        ("hotpath-refreshing", "with refreshes")):
        runs = res.rows.get((name, "big"))
        if not runs:
            print("| %s | 0 | - | - | - | - | - |" % label)
            continue
        m = res.med(name, "big")
        worst = max(r[5] for r in runs)
        errs = sum(int(r[4]) for r in runs)
        v[name] = (m[3], errs, len(runs))
        v[name + "-max"] = worst
        print("| %s | %d | %.0f | %.3f | %.3f | %.3f | %d |" % (
            label, len(runs), m[0], m[2], m[3], worst, errs))
    print()
    if usecs and "hotpath-refreshing-max" in v:
        print("Longest refresh during a load: %.0f ms; longest request "
              "with refreshes: %.0f ms. A reader blocked for a refresh would "
              "wait about as long as the refresh; a slower p99 with a much "
              "shorter max is the refresh competing for the CPUs.\n"
              % (max(usecs) * 1000, v["hotpath-refreshing-max"]))
    workers = hot.get("worker", [])
    if workers:
        privs = [(int(w[1]), w[0], w[2]) for w in workers]
        v["private"] = max(privs)[0]
        mst = hot.get("master", [["?", "?", "?"]])[0] + ["?", "?"]
        print("Pool workers after the loads (children of the `sherve serve` "
              "master, PID %s, itself %s KiB private, RSS %s KiB), "
              "Private_Clean + Private_Dirty of /proc/PID/smaps_rollup "
              "(pages shared with the master since the fork, and the LMDB "
              "pages both workers map, are not private): %s. Largest: %d KiB "
              "(%.2f MiB); target <= 8 MiB.\n" % (
                  mst[0], mst[1], mst[2],
                  ", ".join("PID %s %d KiB private (RSS %s KiB)" % (p, k, r)
                            for k, p, r in privs),
                  v["private"], v["private"] / 1024))
    else:
        print("Pool workers: not measured.\n")
    return v


def targets(res, hot):
    def row(what, val, goal, ok, light="-"):
        print("| %s | %s | %s | %s | %s |" % (
            what, val, goal,
            "not measured" if ok is None else ("met" if ok else "not met"),
            light))

    def rat(name, load, col):
        m, b = res.med(name, load), res.med("nginx-direct", load)
        li = res.med("lighttpd-direct", load)
        return (ratio(m[col], b[col]) if m and b else None,
                ratio(m[col], li[col]) if m and li else None)

    def cmp(x, goal, ge=True):
        return None if x is None else (x >= goal if ge else x <= goal)

    print("## Targets\n")
    print("Ratios are to nginx-direct on this run (issue 6); the last "
          "column is the same ratio to lighttpd-direct.\n")
    print("| target | measured | goal | result | vs lighttpd-direct |")
    print("|---|---:|---:|---|---:|")
    for what, load, col, goal, ge in (
            ("mixed, sherve-nginx req/s", "mixed", 0, 0.7, True),
            ("mixed, sherve-nginx MB/s", "mixed", 1, 0.8, True),
            ("redirect-only, sherve-nginx req/s", "redirects", 0, 0.8, True),
            ("mixed, sherve-nginx p99 latency", "mixed", 3, 2.0, False)):
        r, li = rat("sherve-nginx", load, col)
        row(what, fmt(r, "%.2f" if ge else "%.2fx"),
            (">= %.1f" if ge else "<= %.0fx") % goal,
            cmp(r, goal, ge), fmt(li))
    for name in SENDFILE:
        r, li = rat(name, "mixed", 1)
        row("sendfile mode, mixed MB/s, %s" % name, fmt(r), ">= 0.9",
            cmp(r, 0.9), fmt(li))
    r = hot.get("refresh")
    row("refresh of a %d-alias file (median s)" % BIG, fmt(r, "%.3f s"),
        "<= 2 s", cmp(r, 2.0, False))
    q, w = hot.get("hotpath-quiet"), hot.get("hotpath-refreshing")
    if q and w and hot.get("refreshes"):
        pr = ratio(w[0], q[0])
        ok = (w[1] == 0 and hot.get("refresh_failed") == 0 and
              pr is not None and pr <= 2.0)
        row("readers not blocked during refreshes (redirect p99 with / "
            "without)", "%s (%.3f / %.3f ms), %d errors" % (
                fmt(pr, "%.2fx"), w[0], q[0], w[1]),
            "<= 2x, 0 errors", ok)
    else:
        row("readers not blocked during refreshes", "-", "<= 2x, 0 errors",
            None)
    p = hot.get("private")
    row("worker private RSS, %d-alias map (largest)" % BIG,
        fmt(p / 1024 if p is not None else None, "%.2f MiB"), "<= 8 MiB",
        cmp(p, 8192, False))
    print()


def report(path, duration, repeat):
    res = Results(path)
    print("# Benchmarks\n")
    print("Generated by `contrib/bench/run`: wrk, 2 threads, 10 connections, "
          "%s s per run, median of %s runs, all on loopback on one machine. "
          "Ratios are to nginx serving the same files directly (the "
          "ceiling), and to lighttpd serving them directly; absolute "
          "numbers vary with the machine.\n" % (duration, repeat))
    print("Machine: " + "; ".join(machine()) + "\n")
    tables(res)
    print("Status check before each load (paths answering other than "
          "expected, assets also by body length): " +
          ", ".join("%s %s" % kv for kv in res.status.items()) + "\n")
    print("Largest sherve process after the runs, RSS / private KiB: " +
          ", ".join("%s %s" % (n, " / ".join(v)) for n, v in res.rss.items()
                    if v and v[0] != "-") + "\n")
    if res.failed:
        print("wrk failed (no result): " + ", ".join(res.failed) + "\n")
    hot = hotpath(res)
    targets(res, hot)


if __name__ == "__main__":
    if sys.argv[1] == "parse":
        parse(sys.argv[2], sys.argv[3])
    else:
        report(sys.argv[2], sys.argv[3], sys.argv[4])
